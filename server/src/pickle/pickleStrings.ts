/**
 * Decoding and encoding of the string payloads that pickle opcodes carry, matching CPython's
 * pickle module (Lib/pickle.py, Modules/_pickle.c):
 * - BINUNICODE, SHORT_BINUNICODE, BINUNICODE8: UTF-8.
 * - UNICODE (protocol 0): the raw-unicode-escape codec, one text line.
 * - STRING (protocol 0): a quoted Python 2 string literal with backslash escapes.
 * - BINSTRING, SHORT_BINSTRING: raw bytes, which Python 3 decodes with the unpickler's
 *   `encoding` argument (ASCII by default). This module decodes them as Latin-1.
 */

/** A payload that the codec rejects; `position` counts bytes from the start of the payload. */
export class InvalidPayloadError extends Error {
  readonly position: number;

  constructor(message: string, position: number) {
    super(message);
    this.name = 'InvalidPayloadError';
    this.position = position;
  }
}

/**
 * Decodes UTF-8 as CPython's unpickler does (errors='surrogatepass'), except that it never
 * rejects: TorchScript strings are C++ byte strings that need not be valid UTF-8, so each
 * invalid byte becomes U+FFFD in the returned value.
 */
export function decodeUtf8(bytes: Uint8Array): string {
  const fast = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  return fast.includes('\uFFFD') ? decodeUtf8Slowly(bytes) : fast;
}

/** Returns the length of the UTF-8 sequence that a lead byte starts (0 when invalid) and the mask of its value bits. */
function utf8SequenceLength(lead: number): { length: number; payloadBits: number } {
  if (lead < 0x80) return { length: 1, payloadBits: 0x7f };
  if (lead >= 0xc2 && lead < 0xe0) return { length: 2, payloadBits: 0x1f };
  if (lead >= 0xe0 && lead < 0xf0) return { length: 3, payloadBits: 0x0f };
  if (lead >= 0xf0 && lead < 0xf5) return { length: 4, payloadBits: 0x07 };
  return { length: 0, payloadBits: 0 };
}

/** Decodes UTF-8 byte by byte, keeping encoded surrogates (ED A0 80 to ED BF BF) as code units. */
function decodeUtf8Slowly(bytes: Uint8Array): string {
  const units: string[] = [];
  let position = 0;

  while (position < bytes.length) {
    const lead = bytes[position];
    const { length, payloadBits } = utf8SequenceLength(lead);

    let codePoint = lead & payloadBits;
    let valid = length > 0 && position + length <= bytes.length;
    for (let i = 1; valid && i < length; i += 1) {
      const byte = bytes[position + i];
      valid = (byte & 0xc0) === 0x80;
      codePoint = (codePoint << 6) | (byte & 0x3f);
    }
    // Reject overlong forms and code points beyond U+10FFFF.
    if (valid && length === 3 && codePoint < 0x800) valid = false;
    if (valid && length === 4 && (codePoint < 0x10000 || codePoint > 0x10ffff)) valid = false;

    if (!valid) {
      units.push('\uFFFD');
      position += 1;
      continue;
    }
    units.push(codePoint >= 0xd800 && codePoint <= 0xdfff ? String.fromCharCode(codePoint) : String.fromCodePoint(codePoint));
    position += length;
  }

  return units.join('');
}

export function decodeLatin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function hasLoneSurrogate(value: string): boolean {
  return LONE_SURROGATE.test(value);
}

/** Encodes UTF-8, rejecting lone surrogates, which Node would silently replace. */
export function encodeUtf8(value: string): Buffer {
  if (hasLoneSurrogate(value)) {
    throw new InvalidPayloadError(`the string ${JSON.stringify(value)} contains a lone UTF-16 surrogate, which has no UTF-8 form`, 0);
  }
  return Buffer.from(value, 'utf8');
}

function isHexDigit(byte: number): boolean {
  return (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66);
}

/**
 * Decodes the raw-unicode-escape codec. Bytes stand for the code points 0 to 255; `\uXXXX` and
 * `\UXXXXXXXX` are escapes only after an odd number of backslashes, as in CPython.
 */
export function decodeRawUnicodeEscape(bytes: Uint8Array): string {
  let result = '';
  let position = 0;

  while (position < bytes.length) {
    const byte = bytes[position];
    if (byte !== 0x5c) {
      result += String.fromCharCode(byte);
      position += 1;
      continue;
    }

    const runStart = position;
    while (position < bytes.length && bytes[position] === 0x5c) position += 1;
    const backslashes = position - runStart;
    const next = bytes[position];
    const isEscape = backslashes % 2 === 1 && (next === 0x75 || next === 0x55);
    result += '\\'.repeat(isEscape ? backslashes - 1 : backslashes);
    if (!isEscape) continue;

    const digitCount = next === 0x75 ? 4 : 8;
    const digitsStart = position + 1;
    for (let i = 0; i < digitCount; i += 1) {
      if (digitsStart + i >= bytes.length || !isHexDigit(bytes[digitsStart + i])) {
        throw new InvalidPayloadError(`truncated \\${String.fromCharCode(next)} escape in a raw-unicode-escape string`, position - 1);
      }
    }
    const codePoint = Number.parseInt(decodeLatin1(bytes.subarray(digitsStart, digitsStart + digitCount)), 16);
    if (codePoint > 0x10ffff) {
      throw new InvalidPayloadError(`the escape \\U${codePoint.toString(16)} is beyond U+10FFFF`, position - 1);
    }
    result += String.fromCodePoint(codePoint);
    position = digitsStart + digitCount;
  }

  return result;
}

/**
 * Encodes a string as Python's protocol 0 pickler writes a UNICODE payload: backslash, NUL,
 * newline, carriage return and Ctrl-Z become `\uXXXX` escapes first, then raw-unicode-escape.
 */
export function encodeRawUnicodeEscape(value: string): Buffer {
  if (hasLoneSurrogate(value)) {
    throw new InvalidPayloadError(`the string ${JSON.stringify(value)} contains a lone UTF-16 surrogate`, 0);
  }

  const bytes: number[] = [];
  const pushEscape = (codePoint: number): void => {
    const text = codePoint > 0xffff ? `\\U${codePoint.toString(16).padStart(8, '0')}` : `\\u${codePoint.toString(16).padStart(4, '0')}`;
    for (const char of text) bytes.push(char.charCodeAt(0));
  };

  for (const char of value) {
    const codePoint = char.codePointAt(0) as number;
    const needsEscape = codePoint === 0x5c || codePoint === 0x00 || codePoint === 0x0a || codePoint === 0x0d || codePoint === 0x1a;
    if (needsEscape || codePoint > 0xff) pushEscape(codePoint);
    else bytes.push(codePoint);
  }

  return Buffer.from(bytes);
}

const SIMPLE_ESCAPES: ReadonlyMap<number, number> = new Map([
  [0x5c, 0x5c], // backslash
  [0x27, 0x27], // single quote
  [0x22, 0x22], // double quote
  [0x62, 0x08], // \b
  [0x66, 0x0c], // \f
  [0x74, 0x09], // \t
  [0x6e, 0x0a], // \n
  [0x72, 0x0d], // \r
  [0x76, 0x0b], // \v
  [0x61, 0x07], // \a
]);

/**
 * Decodes the argument line of a STRING opcode: a literal in matching single or double
 * quotes, unescaped as CPython's `codecs.escape_decode` does. Returns the bytes.
 */
export function decodeStringLiteral(line: Uint8Array): Buffer {
  const quote = line[0];
  if (line.length < 2 || (quote !== 0x27 && quote !== 0x22) || line[line.length - 1] !== quote) {
    throw new InvalidPayloadError('the STRING argument must be enclosed in matching quotes', 0);
  }

  const out: number[] = [];
  const end = line.length - 1;
  let position = 1;

  while (position < end) {
    const byte = line[position];
    if (byte !== 0x5c) {
      out.push(byte);
      position += 1;
      continue;
    }

    if (position + 1 >= end) throw new InvalidPayloadError('the STRING argument ends with a lone backslash', position);
    const escape = line[position + 1];
    position += 2;

    const simple = SIMPLE_ESCAPES.get(escape);
    if (simple !== undefined) {
      out.push(simple);
    } else if (escape === 0x0a) {
      // A backslash before a newline continues the line, so both are dropped.
    } else if (escape >= 0x30 && escape <= 0x37) {
      let code = escape - 0x30;
      for (let digits = 1; digits < 3 && position < end && line[position] >= 0x30 && line[position] <= 0x37; digits += 1) {
        code = code * 8 + (line[position] - 0x30);
        position += 1;
      }
      out.push(code & 0xff);
    } else if (escape === 0x78) {
      if (position + 2 > end || !isHexDigit(line[position]) || !isHexDigit(line[position + 1])) {
        throw new InvalidPayloadError('invalid \\x escape in a STRING argument', position - 2);
      }
      out.push(Number.parseInt(decodeLatin1(line.subarray(position, position + 2)), 16));
      position += 2;
    } else {
      // Python keeps unknown escapes such as \q as they are.
      out.push(0x5c, escape);
    }
  }

  return Buffer.from(out);
}

/** Encodes a Latin-1 string as a single-quoted STRING argument that decodeStringLiteral reads back. */
export function encodeStringLiteral(value: string): Buffer {
  const out: number[] = [0x27];
  for (let i = 0; i < value.length; i += 1) {
    const code = value.charCodeAt(i);
    if (code > 0xff) {
      throw new InvalidPayloadError(`the string ${JSON.stringify(value)} has characters beyond Latin-1, which the STRING opcode cannot encode`, 0);
    }
    if (code === 0x5c || code === 0x27) {
      out.push(0x5c, code);
    } else if (code < 0x20 || code >= 0x7f) {
      for (const char of `\\x${code.toString(16).padStart(2, '0')}`) out.push(char.charCodeAt(0));
    } else {
      out.push(code);
    }
  }
  out.push(0x27);
  return Buffer.from(out);
}

/** Encodes a string for BINSTRING or SHORT_BINSTRING, which hold Latin-1 bytes. */
export function encodeLatin1(value: string): Buffer {
  for (let i = 0; i < value.length; i += 1) {
    if (value.charCodeAt(i) > 0xff) {
      throw new InvalidPayloadError(`the string ${JSON.stringify(value)} has characters beyond Latin-1, which BINSTRING cannot encode`, 0);
    }
  }
  return Buffer.from(value, 'latin1');
}
