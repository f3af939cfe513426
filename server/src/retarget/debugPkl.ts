import { applyByteEdits, type ByteEdit } from '../byteEdits';
import { EngineError } from '../errors';
import { readPickle } from '../pickle/pickleReader';
import type { PickleInt, PickleLocation, PickleValue } from '../pickle/pickleValues';

/** A replaced byte range of a code record and the length of its replacement. */
export interface CodeEdit {
  start: number;
  end: number;
  replacementLength: number;
}

/**
 * Shifts the byte offsets of a `.debug_pkl` record after its code record was edited.
 * Each entry `(byte_offset, source_range, tag)` points into the generated code, so every
 * offset past an edit moves by the edit's length change; PyTorch reads these entries only to
 * print source snippets in error messages, and stale offsets would show the wrong lines.
 * Both layouts are handled: `("FORMAT_WITH_STRING_TABLE", strings, entries)` and a bare
 * tuple of entries.
 */
export function shiftDebugOffsets(data: Buffer, edits: readonly CodeEdit[], where: PickleLocation): Buffer {
  if (edits.length === 0) return data;
  const result = readPickle(data, where);
  if (result.ops.some((op) => op.op === 'FRAME')) {
    throw new EngineError('debug record uses pickle framing, which PyTorch never writes for debug records; save the model again', where);
  }

  const sorted = [...edits].sort((a, b) => a.start - b.start);
  const replacements: ByteEdit[] = [];
  for (const offset of entryOffsets(result.root, where)) {
    const value = Number(offset.value);
    const shifted = shiftOffset(value, sorted);
    if (shifted === value) continue;
    if (!offset.site) throw new EngineError('debug record entry has an offset without an integer opcode', where);
    replacements.push({ start: offset.site.start, end: offset.site.end, bytes: encodeInteger(shifted) });
  }

  replacements.sort((a, b) => a.start - b.start);
  return applyByteEdits(data, replacements);
}

/** Maps an offset in the old code to the new code; an offset inside an edit moves to the edit's start. */
export function shiftOffset(offset: number, sortedEdits: readonly CodeEdit[]): number {
  let delta = 0;
  for (const edit of sortedEdits) {
    if (edit.end <= offset) delta += edit.replacementLength - (edit.end - edit.start);
    else if (edit.start < offset) return edit.start + delta;
    else break;
  }
  return offset + delta;
}

function entryOffsets(root: PickleValue, where: PickleLocation): PickleInt[] {
  let entries: PickleValue = root;
  if (root.kind === 'tuple' && root.items.length === 3 && root.items[0].kind === 'str' && root.items[0].value === 'FORMAT_WITH_STRING_TABLE') {
    entries = root.items[2];
  }
  if (entries.kind !== 'tuple' && entries.kind !== 'list') {
    throw new EngineError('debug record is not a tuple of (offset, source range, tag) entries; save the model again', where);
  }

  const offsets: PickleInt[] = [];
  for (const entry of entries.items) {
    if (entry.kind !== 'tuple' || entry.items.length < 2 || entry.items[0].kind !== 'int') {
      throw new EngineError('debug record has an entry that does not start with a byte offset; save the model again', where);
    }
    offsets.push(entry.items[0]);
  }
  return offsets;
}

/** Encodes a non-negative integer with the shortest binary opcode, as PyTorch's pickler does. */
function encodeInteger(value: number): Buffer {
  if (value < 0x100) return Buffer.from([0x4b, value]);
  if (value < 0x10000) {
    const bytes = Buffer.alloc(3);
    bytes[0] = 0x4d;
    bytes.writeUInt16LE(value, 1);
    return bytes;
  }
  const bytes = Buffer.alloc(5);
  bytes[0] = 0x4a;
  bytes.writeInt32LE(value, 1);
  return bytes;
}
