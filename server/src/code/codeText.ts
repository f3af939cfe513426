import type { Position, Range } from '../analysis/types';
import { EngineError } from '../errors';

/**
 * Returns the byte offset where the first invalid UTF-8 sequence starts (RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF), or undefined when all of `bytes`
 * is valid. Like Python's decoder, a sequence with a bad continuation byte or cut short
 * by the end of the data is reported at its lead byte.
 */
export function findInvalidUtf8(bytes: Uint8Array): number | undefined {
  let offset = 0;
  while (offset < bytes.length) {
    const lead = bytes[offset];
    if (lead < 0x80) {
      offset += 1;
      continue;
    }

    let length: number;
    let min = 0x80;
    let max = 0xbf;
    if (lead >= 0xc2 && lead <= 0xdf) {
      length = 2;
    } else if (lead >= 0xe0 && lead <= 0xef) {
      length = 3;
      if (lead === 0xe0) min = 0xa0; // overlong below U+0800
      if (lead === 0xed) max = 0x9f; // UTF-16 surrogates U+D800..U+DFFF
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      length = 4;
      if (lead === 0xf0) min = 0x90; // overlong below U+10000
      if (lead === 0xf4) max = 0x8f; // above U+10FFFF
    } else {
      return offset;
    }

    // Only the second byte has a narrowed range; every later byte is a plain continuation byte.
    const second = bytes[offset + 1];
    if (second === undefined || second < min || second > max) return offset;
    for (let i = 2; i < length; i++) {
      const continuation = bytes[offset + i];
      if (continuation === undefined || continuation < 0x80 || continuation > 0xbf) return offset;
    }
    offset += length;
  }
  return undefined;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Decodes a code record (`code/**.py`) as strict UTF-8. PyTorch writes code records as
 * UTF-8, so any other byte sequence means a damaged or foreign record. A leading byte
 * order mark is kept as U+FEFF so that offsets stay aligned with the bytes.
 */
export function decodeCodeRecord(bytes: Buffer, where: { file: string; record: string }): string {
  try {
    return strictUtf8.decode(bytes);
  } catch (cause) {
    const offset = findInvalidUtf8(bytes) ?? 0;
    const value = bytes[offset] === undefined ? 'end of data' : `byte 0x${bytes[offset].toString(16).padStart(2, '0')}`;
    throw new EngineError(
      `code record is not valid UTF-8 (${value}); the archive is damaged or was not written by PyTorch, so save the model again with torch.jit.save`,
      { file: where.file, record: where.record, offset },
      { cause },
    );
  }
}

/** Number of UTF-8 bytes that encode the UTF-16 code unit at `index` of `text`, counting a surrogate pair as 2 + 2. */
function utf8BytesOfUnit(text: string, index: number): number {
  const unit = text.charCodeAt(index);
  if (unit < 0x80) return 1;
  if (unit < 0x800) return 2;
  if (unit >= 0xd800 && unit <= 0xdbff) {
    const next = text.charCodeAt(index + 1);
    if (next >= 0xdc00 && next <= 0xdfff) return 2;
  } else if (unit >= 0xdc00 && unit <= 0xdfff) {
    const previous = text.charCodeAt(index - 1);
    if (previous >= 0xd800 && previous <= 0xdbff) return 2;
  }
  // Other BMP characters, and lone surrogates, which Buffer.from writes as U+FFFD.
  return 3;
}

function isLowSurrogateAfterHigh(text: string, index: number): boolean {
  const unit = text.charCodeAt(index);
  const previous = text.charCodeAt(index - 1);
  return unit >= 0xdc00 && unit <= 0xdfff && previous >= 0xd800 && previous <= 0xdbff;
}

/**
 * Maps between three ways to address a point in a code record. LSP positions count a
 * 0-based line and UTF-16 units within it. UTF-16 offsets are JavaScript string indices,
 * which tree-sitter also reports for a string input. UTF-8 byte offsets are what a
 * rewrite and the `.debug_pkl` records count. Lines end at `\n`, `\r\n` or `\r`, as in LSP.
 */
export class LineIndex {
  readonly text: string;
  /** UTF-16 offset where each line starts. */
  private readonly lineStarts: number[] = [0];
  /** UTF-8 byte offset where each line starts. */
  private readonly lineByteStarts: number[] = [0];
  /** Whether a line, including its line break, is pure ASCII, so that its byte and UTF-16 columns agree. */
  private readonly lineIsAscii: boolean[] = [];
  readonly byteLength: number;

  constructor(text: string) {
    this.text = text;
    let bytes = 0;
    let ascii = true;
    for (let i = 0; i < text.length; i++) {
      const unit = text.charCodeAt(i);
      bytes += utf8BytesOfUnit(text, i);
      if (unit >= 0x80) ascii = false;

      const isBreak = unit === 0x0a || (unit === 0x0d && text.charCodeAt(i + 1) !== 0x0a);
      if (isBreak) {
        this.lineStarts.push(i + 1);
        this.lineByteStarts.push(bytes);
        this.lineIsAscii.push(ascii);
        ascii = true;
      }
    }
    this.lineIsAscii.push(ascii);
    this.byteLength = bytes;
  }

  get lineCount(): number {
    return this.lineStarts.length;
  }

  /** Converts a UTF-16 offset into an LSP position. Throws a RangeError outside the text. */
  positionAt(offset: number): Position {
    this.checkOffset(offset);
    const line = this.lineOfOffset(offset);
    return { line, character: offset - this.lineStarts[line] };
  }

  /**
   * Converts an LSP position into a UTF-16 offset. A character past the end of its line
   * means the end of that line (as the LSP specification says), and a line past the end
   * means the end of the text (as vscode-languageserver-textdocument does).
   */
  offsetAt(position: Position): number {
    if (position.line >= this.lineStarts.length) return this.text.length;
    if (position.line < 0) return 0;
    const start = this.lineStarts[position.line];
    const end = this.lineContentEnd(position.line);
    return Math.min(start + Math.max(position.character, 0), end);
  }

  /** Converts a UTF-16 offset into a UTF-8 byte offset. Throws a RangeError outside the text or inside a surrogate pair. */
  byteOffsetAt(offset: number): number {
    this.checkOffset(offset);
    if (offset < this.text.length && isLowSurrogateAfterHigh(this.text, offset)) {
      throw new RangeError(`UTF-16 offset ${offset} splits a surrogate pair`);
    }
    const line = this.lineOfOffset(offset);
    const lineStart = this.lineStarts[line];
    if (this.lineIsAscii[line]) return this.lineByteStarts[line] + (offset - lineStart);

    let bytes = this.lineByteStarts[line];
    for (let i = lineStart; i < offset; i++) bytes += utf8BytesOfUnit(this.text, i);
    return bytes;
  }

  /** Converts a UTF-8 byte offset into a UTF-16 offset. Throws a RangeError outside the text or inside a character. */
  offsetAtByte(byteOffset: number): number {
    if (!Number.isInteger(byteOffset) || byteOffset < 0 || byteOffset > this.byteLength) {
      throw new RangeError(`byte offset ${byteOffset} is outside the text (0..${this.byteLength})`);
    }
    const line = upperBound(this.lineByteStarts, byteOffset) - 1;
    const lineStart = this.lineStarts[line];
    if (this.lineIsAscii[line]) return lineStart + (byteOffset - this.lineByteStarts[line]);

    let bytes = this.lineByteStarts[line];
    let offset = lineStart;
    while (bytes < byteOffset) {
      bytes += utf8BytesOfUnit(this.text, offset);
      offset += 1;
    }
    if (bytes !== byteOffset || (offset < this.text.length && isLowSurrogateAfterHigh(this.text, offset))) {
      throw new RangeError(`byte offset ${byteOffset} falls inside a UTF-8 character`);
    }
    return offset;
  }

  positionAtByte(byteOffset: number): Position {
    return this.positionAt(this.offsetAtByte(byteOffset));
  }

  byteOffsetAtPosition(position: Position): number {
    return this.byteOffsetAt(this.offsetAt(position));
  }

  /** Converts a pair of UTF-16 offsets into an LSP range. */
  rangeAt(start: number, end: number): Range {
    return { start: this.positionAt(start), end: this.positionAt(end) };
  }

  /** Converts a pair of UTF-16 offsets into UTF-8 byte offsets. */
  byteSpanAt(start: number, end: number): { start: number; end: number } {
    return { start: this.byteOffsetAt(start), end: this.byteOffsetAt(end) };
  }

  private checkOffset(offset: number): void {
    if (!Number.isInteger(offset) || offset < 0 || offset > this.text.length) {
      throw new RangeError(`UTF-16 offset ${offset} is outside the text (0..${this.text.length})`);
    }
  }

  private lineOfOffset(offset: number): number {
    return upperBound(this.lineStarts, offset) - 1;
  }

  /** UTF-16 offset of the end of a line's content, before its line break. */
  private lineContentEnd(line: number): number {
    if (line + 1 >= this.lineStarts.length) return this.text.length;
    const nextStart = this.lineStarts[line + 1];
    const crlf = nextStart >= 2 && this.text.charCodeAt(nextStart - 2) === 0x0d && this.text.charCodeAt(nextStart - 1) === 0x0a;
    return nextStart - (crlf ? 2 : 1);
  }
}

/** Index of the first element of the ascending array `values` that is greater than `target`. */
function upperBound(values: number[], target: number): number {
  let low = 0;
  let high = values.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (values[middle] <= target) low = middle + 1;
    else high = middle;
  }
  return low;
}
