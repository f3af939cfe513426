/**
 * Decoding of the integer and float arguments that pickle opcodes carry as text (INT, LONG,
 * FLOAT of protocol 0) or as little-endian two's complement bytes (LONG1, LONG4).
 */
import { InvalidPayloadError } from './pickleStrings';

/**
 * Limit on the digits of a text integer, the same as CPython's default limit on decimal
 * strings (sys.int_info.default_max_str_digits), which bounds the time spent parsing them.
 */
export const MAX_TEXT_INTEGER_DIGITS = 4300;

/** Returns a number when the integer is a safe integer, else the bigint. */
export function narrowInteger(value: bigint): number | bigint {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

const TEXT_INTEGER = /^([+-]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|[0-9]+)$/;

/**
 * Parses the text of an INT or LONG argument as Python's `int(text, 0)` does for the forms
 * picklers write: an optional sign, then decimal digits or a 0x, 0o or 0b literal.
 */
export function parseTextInteger(text: string): number | bigint {
  const trimmed = text.trim();
  const match = TEXT_INTEGER.exec(trimmed);
  if (!match) throw new InvalidPayloadError(`invalid integer ${JSON.stringify(text.slice(0, 40))}`, 0);

  const digits = match[2];
  if (digits.length > MAX_TEXT_INTEGER_DIGITS) {
    throw new InvalidPayloadError(`the integer has ${digits.length} digits, more than the limit of ${MAX_TEXT_INTEGER_DIGITS}`, 0);
  }
  // Python 3 rejects decimal literals with leading zeros such as 007 in int(text, 0).
  if (/^0[0-9]/.test(digits) && /[1-9]/.test(digits)) {
    throw new InvalidPayloadError(`invalid integer ${JSON.stringify(text.slice(0, 40))}: leading zeros`, 0);
  }

  const magnitude = /^0[oO]/.test(digits) ? BigInt(`0o${digits.slice(2)}`) : BigInt(digits);
  return narrowInteger(match[1] === '-' ? -magnitude : magnitude);
}

const TEXT_FLOAT = /^[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|infinity|nan)$/i;

/** Parses the text of a FLOAT argument as Python's `float(text)` does for repr output. */
export function parseTextFloat(text: string): number {
  const trimmed = text.trim();
  if (!TEXT_FLOAT.test(trimmed)) throw new InvalidPayloadError(`invalid float ${JSON.stringify(text.slice(0, 40))}`, 0);

  const lower = trimmed.toLowerCase().replace(/^\+/, '');
  if (lower === 'inf' || lower === 'infinity') return Infinity;
  if (lower === '-inf' || lower === '-infinity') return -Infinity;
  if (lower.endsWith('nan')) return NaN;
  return Number(trimmed);
}

/** Decodes a LONG1 or LONG4 payload: a little-endian two's complement integer, 0 when empty. */
export function decodeLongBytes(bytes: Uint8Array): number | bigint {
  if (bytes.length === 0) return 0;

  let hex = '';
  for (let i = bytes.length - 1; i >= 0; i -= 1) hex += bytes[i].toString(16).padStart(2, '0');
  let value = BigInt(`0x${hex}`);
  if (bytes[bytes.length - 1] & 0x80) value -= 1n << BigInt(8 * bytes.length);
  return narrowInteger(value);
}
