/**
 * A byte-exact pickle rewriter: changes the given string uses and leaves every other byte as
 * it was, apart from the FRAME lengths that the changes invalidate.
 *
 * Memo rule: a memo entry keeps the value of the use that stored it, after that use's own
 * change. A GET whose intended value differs from its memo entry's new value becomes a fresh
 * push of the intended value, not memoized:
 * - an unchanged GET of a changed entry becomes a copy of the original push opcode;
 * - a changed GET becomes a push of the new value in the family of the original push.
 * So after the rewrite every use reads its intended value, and memo indexes stay as they were.
 *
 * Pickles hold no absolute offsets other than FRAME lengths: MARK, memo indexes and TorchScript's
 * records refer to no byte position, so inserting or removing bytes is safe elsewhere.
 */
import { applyByteEdits, type ByteEdit } from '../byteEdits';
import { EngineError } from '../errors';
import type { OpcodeName } from './opcodes';
import { readPickle, type PickleResult } from './pickleReader';
import { encodeLatin1, encodeRawUnicodeEscape, encodeStringLiteral, encodeUtf8, InvalidPayloadError } from './pickleStrings';
import type { PickleLocation, PickleStr, StringSite } from './pickleValues';

export interface StringChange {
  site: StringSite;
  newValue: string;
}


/** The value a use reads after the rewrite, and whether that differs from its old value. */
interface FinalValue {
  value: string;
  changed: boolean;
}

/**
 * Returns new pickle bytes in which exactly the given string uses hold their new values.
 * Throws EngineError when a site is not a string use of this pickle, when two changes of one
 * site disagree, or when a value cannot be encoded in the opcode family of its site.
 */
export function rewritePickle(data: Buffer, changes: readonly StringChange[], where: PickleLocation): Buffer {
  const result = readPickle(data, where);
  const wanted = collectChanges(result, changes);
  const { edits, finals } = planEdits(data, result, wanted);
  if (edits.length === 0) return Buffer.from(data);

  edits.push(...frameEdits(data, result, edits));
  edits.sort((a, b) => a.start - b.start);
  const output = applyByteEdits(data, edits);

  verifyRewrite(output, result, edits, finals, where);
  return output;
}

function collectChanges(result: PickleResult, changes: readonly StringChange[]): Map<number, string> {
  const uses = new Map<number, PickleStr>();
  for (const use of result.strings) uses.set(use.site.start, use);

  const wanted = new Map<number, string>();
  for (const { site, newValue } of changes) {
    const use = uses.get(site.start);
    if (use === undefined || use.site.op !== site.op || use.site.end !== site.end) {
      throw new EngineError(`no string use of this pickle is at offset ${site.start} (${site.op}); the site comes from a different version of the record, scan it again`, {
        ...result.where, offset: site.start,
      });
    }

    const earlier = wanted.get(site.start);
    if (earlier !== undefined && earlier !== newValue) {
      throw new EngineError(`two changes set the string at offset ${site.start} to ${JSON.stringify(earlier)} and to ${JSON.stringify(newValue)}; a shared string can take only one value`, {
        ...result.where, offset: site.start,
      });
    }
    wanted.set(site.start, newValue);
  }
  return wanted;
}

function planEdits(data: Buffer, result: PickleResult, wanted: Map<number, string>): { edits: ByteEdit[]; finals: Map<number, FinalValue> } {
  const edits: ByteEdit[] = [];
  const finals = new Map<number, FinalValue>();

  for (const use of result.strings) {
    const { site } = use;
    const newValue = wanted.get(site.start);
    const final: FinalValue = newValue === undefined || newValue === use.value ? { value: use.value, changed: false } : { value: newValue, changed: true };
    finals.set(site.start, final);

    if (site.memoSource === undefined) {
      if (final.changed) edits.push({ start: site.start, end: site.end, bytes: encodePush(site, final.value, result) });
      continue;
    }

    // A memo GET: after the rewrite, the memo entry contains the final value of the use that stored it.
    const entry = finals.get(site.memoSource.start);
    if (entry === undefined) throw new Error(`memo source at offset ${site.memoSource.start} was not seen before its GET`);

    if (!final.changed && entry.changed) {
      edits.push({ start: site.start, end: site.end, bytes: Buffer.from(data.subarray(site.origin.start, site.origin.end)) });
    } else if (final.changed && entry.value !== final.value) {
      edits.push({ start: site.start, end: site.end, bytes: encodePush(site, final.value, result) });
    }
  }

  return { edits, finals };
}

function opcodeByte(name: OpcodeName): number {
  const bytes: Partial<Record<OpcodeName, number>> = {
    SHORT_BINUNICODE: 0x8c, BINUNICODE: 0x58, BINUNICODE8: 0x8d, UNICODE: 0x56, STRING: 0x53, SHORT_BINSTRING: 0x55, BINSTRING: 0x54,
  };
  const byte = bytes[name];
  if (byte === undefined) throw new Error(`${name} is not a string push opcode`);
  return byte;
}

function header(name: OpcodeName, lengthBytes: number, length: number): Buffer {
  const out = Buffer.alloc(1 + lengthBytes);
  out[0] = opcodeByte(name);
  if (lengthBytes === 1) out.writeUInt8(length, 1);
  else if (lengthBytes === 4) out.writeUInt32LE(length, 1);
  else out.writeBigUInt64LE(BigInt(length), 1);
  return out;
}

/**
 * Encodes a push of `value` in the family of the site's original push opcode, so text
 * opcodes stay text. The UTF-8 opcodes take the shortest form that the protocol allows:
 * SHORT_BINUNICODE needs protocol 4, unless the pickle already uses it.
 */
function encodePush(site: StringSite, value: string, result: PickleResult): Buffer {
  const family = site.origin.op;
  try {
    switch (family) {
      case 'BINUNICODE': case 'SHORT_BINUNICODE': case 'BINUNICODE8': {
        const payload = encodeUtf8(value);
        const shortAllowed = result.protocol >= 4 || family === 'SHORT_BINUNICODE';
        if (shortAllowed && payload.length < 256) return Buffer.concat([header('SHORT_BINUNICODE', 1, payload.length), payload]);
        if (payload.length <= 0xffffffff) return Buffer.concat([header('BINUNICODE', 4, payload.length), payload]);
        return Buffer.concat([header('BINUNICODE8', 8, payload.length), payload]);
      }
      case 'UNICODE':
        return Buffer.concat([Buffer.of(opcodeByte('UNICODE')), encodeRawUnicodeEscape(value), Buffer.of(0x0a)]);
      case 'STRING':
        return Buffer.concat([Buffer.of(opcodeByte('STRING')), encodeStringLiteral(value), Buffer.of(0x0a)]);
      case 'BINSTRING': case 'SHORT_BINSTRING': {
        const payload = encodeLatin1(value);
        if (payload.length < 256) return Buffer.concat([header('SHORT_BINSTRING', 1, payload.length), payload]);
        return Buffer.concat([header('BINSTRING', 4, payload.length), payload]);
      }
      default:
        throw new Error(`${family} is not a string push opcode`);
    }
  } catch (error) {
    if (error instanceof InvalidPayloadError) {
      throw new EngineError(`cannot write the new value at this ${site.op} opcode: ${error.message}`, { ...result.where, offset: site.start });
    }
    throw error;
  }
}

/** Returns edits that correct each FRAME length for the edits inside its frame. */
function frameEdits(data: Buffer, result: PickleResult, edits: readonly ByteEdit[]): ByteEdit[] {
  const fixes: ByteEdit[] = [];

  for (const op of result.ops) {
    if (op.op !== 'FRAME') continue;
    const frameStart = op.end;
    const frameEnd = frameStart + Number(data.readBigUInt64LE(op.start + 1));

    let delta = 0;
    for (const edit of edits) {
      if (edit.start >= frameStart && edit.start < frameEnd) delta += edit.bytes.length - (edit.end - edit.start);
    }
    if (delta === 0) continue;

    const bytes = Buffer.from(data.subarray(op.start, op.end));
    bytes.writeBigUInt64LE(BigInt(frameEnd - frameStart + delta), 1);
    fixes.push({ start: op.start, end: op.end, bytes });
  }

  return fixes;
}

/** Reads the output back and checks that each string use has its intended value. */
function verifyRewrite(output: Buffer, before: PickleResult, sortedEdits: readonly ByteEdit[], finals: Map<number, FinalValue>, where: PickleLocation): void {
  const after = readPickle(output, where);
  if (after.strings.length !== before.strings.length) {
    throw new Error(`rewrite check failed: ${before.strings.length} string uses before, ${after.strings.length} after`);
  }

  // Uses and edits are both in offset order, so one pass tracks how far each use moved.
  let editIndex = 0;
  let shift = 0;
  before.strings.forEach((use, index) => {
    while (editIndex < sortedEdits.length && sortedEdits[editIndex].start < use.site.start) {
      const edit = sortedEdits[editIndex];
      shift += edit.bytes.length - (edit.end - edit.start);
      editIndex += 1;
    }

    const expected = finals.get(use.site.start)?.value;
    const actual = after.strings[index];
    if (actual.site.start !== use.site.start + shift || actual.value !== expected) {
      throw new Error(`rewrite check failed at offset ${use.site.start}: expected ${JSON.stringify(expected)}, read ${JSON.stringify(actual.value)}`);
    }
  });
}
