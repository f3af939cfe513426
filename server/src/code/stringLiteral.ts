/**
 * Decodes a string literal the way TorchScript's lexer reads it (parseStringLiteral in
 * torch/csrc/jit/frontend/parse_string_literal.h, PyTorch 2.x). The literal is quoted with
 * `"` or `'`, single or tripled, without a prefix. Its escapes are `\\ \' \" \a \b \f \n \t \v`,
 * a backslash before a line break, and exactly three octal digits for one byte (`\303`).
 * PyTorch rejects `\x`, `\u`, `\U`, `\r` and every other escape, so this returns undefined
 * for them, as it does for anything that is not such a literal.
 *
 * The literal is a byte string: octal escapes produce bytes, and the result is those
 * bytes read as UTF-8 (invalid sequences become U+FFFD).
 */
export function decodeStringLiteral(literal: string): string | undefined {
  const quote = literal[0];
  if (quote !== '"' && quote !== "'") return undefined;
  const quoteLength = literal.startsWith(quote.repeat(3)) && literal.length >= 6 ? 3 : 1;
  if (literal.length < 2 * quoteLength || !literal.endsWith(quote.repeat(quoteLength))) return undefined;
  const body = literal.slice(quoteLength, literal.length - quoteLength);

  const bytes: number[] = [];
  const pushText = (text: string): void => {
    for (const byte of Buffer.from(text, 'utf8')) bytes.push(byte);
  };

  let index = 0;
  while (index < body.length) {
    const backslash = body.indexOf('\\', index);
    if (backslash < 0) {
      pushText(body.slice(index));
      break;
    }
    pushText(body.slice(index, backslash));

    const escaped = body[backslash + 1];
    const simple = escaped === undefined ? undefined : SIMPLE_ESCAPES.get(escaped);
    if (simple !== undefined) {
      bytes.push(simple);
      index = backslash + 2;
      continue;
    }

    const octal = body.slice(backslash + 1, backslash + 4);
    if (!/^[0-7]{3}$/.test(octal)) return undefined;
    const value = parseInt(octal, 8);
    if (value >= 256) return undefined;
    bytes.push(value);
    index = backslash + 4;
  }

  return Buffer.from(bytes).toString('utf8');
}

/** Escapes that stand for one byte. A backslash before `\n` keeps the line break, as PyTorch does. */
const SIMPLE_ESCAPES: ReadonlyMap<string, number> = new Map([
  ['\\', 0x5c],
  ["'", 0x27],
  ['"', 0x22],
  ['\n', 0x0a],
  ['a', 0x07],
  ['b', 0x08],
  ['f', 0x0c],
  ['n', 0x0a],
  ['t', 0x09],
  ['v', 0x0b],
]);
