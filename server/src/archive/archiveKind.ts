import type { ArchiveKind } from '../analysis/types';
import { EngineError } from '../errors';
import { asciiLowerCase } from './zipFormat';
import { startsLikeZip, type ZipReader } from './zipReader';

/** The detected kind of a file, its file format version when it has one, and the evidence. */
export interface ArchiveDetection {
  kind: ArchiveKind;
  /** The number in `.data/version` or `version`: PyTorch's file format version. */
  formatVersion?: number;
  /** The records or bytes the kind was recognised by, in words for the user. */
  reason: string;
}

/** A version record contains a few ASCII digits, so a longer record is not a version record. */
const MAX_VERSION_RECORD_BYTES = 64;

/**
 * Magic number that the legacy (non-zip) torch.save pickles first: protocol 2, then LONG1 of
 * 10 bytes holding 0x1950a86a20f9469cfc6c (torch/serialization.py, MAGIC_NUMBER).
 */
const LEGACY_TORCH_SAVE_MAGIC = Buffer.from('80028a0a6cfc9c46f9206aa85019', 'hex');

/**
 * Recognises the kind of a PyTorch file. Pass the open reader for a zip archive, or null with
 * the file's first bytes (see readFileHead) when it is not a zip. Reads only the version record.
 * The order matters: mobile and legacy archives also have `code/`, and ExportedProgram archives
 * also have `data/` records.
 */
export async function detectArchiveKind(reader: ZipReader | null, headBytes: Buffer): Promise<ArchiveDetection> {
  if (reader === null) return detectWithoutZip(headBytes);

  const has = (name: string): boolean => reader.findRecord(name) !== undefined;
  const hasFolder = (folder: string): boolean => reader.entries.some((entry) => asciiLowerCase(reader.recordName(entry)).startsWith(`${folder}/`));
  const formatVersion = await readFormatVersion(reader);
  const detected = (kind: ArchiveKind, reason: string): ArchiveDetection =>
    formatVersion === undefined ? { kind, reason } : { kind, formatVersion, reason };

  if (has('model.json')) {
    return detected('legacy-model-json', 'model.json record: the TorchScript format of PyTorch 1.0 and 1.1');
  }
  if (has('bytecode.pkl')) {
    return detected('mobile', 'bytecode.pkl record: a mobile (lite interpreter) archive');
  }
  if (has('data.pkl') && hasFolder('code')) {
    const constants = has('constants.pkl') ? 'constants.pkl' : 'no constants.pkl, which torch.jit.load requires';
    return detected('torchscript', `data.pkl, code/ records and ${constants}: a TorchScript module`);
  }
  // NOTE: older torch.export.save wrote serialized_exported_program.json at the zip root, without
  // a top folder, so ZipReader.open rejects those files before detection runs.
  if (has('archive_format')) {
    const records = hasFolder('models') ? 'archive_format and models/ records' : 'archive_format record';
    return detected('exported-program', `PT2 archive (${records}): written by torch.export.save`);
  }
  if (has('data.pkl')) {
    return detected('checkpoint', 'data.pkl without code/ records: a torch.save checkpoint');
  }
  if (has('.data/version')) {
    return detected('torch-package', '.data/version without data.pkl: a torch.package archive');
  }
  return detected('not-pytorch', 'zip archive without data.pkl, code/, bytecode.pkl, model.json or .data/version records, so PyTorch cannot load it');
}

function detectWithoutZip(head: Buffer): ArchiveDetection {
  if (startsLikeZip(head)) {
    throw new Error('detectArchiveKind needs an open ZipReader for a file that starts like a zip archive');
  }
  if (head.length === 0) {
    return { kind: 'not-pytorch', reason: 'empty file' };
  }
  if (head.length >= LEGACY_TORCH_SAVE_MAGIC.length && head.subarray(0, LEGACY_TORCH_SAVE_MAGIC.length).equals(LEGACY_TORCH_SAVE_MAGIC)) {
    return { kind: 'raw-pickle', reason: 'pickle that starts with the torch.save magic number: the legacy (non-zip) torch.save format' };
  }
  if (head.length >= 2 && head[0] === 0x80 && head[1] >= 2 && head[1] <= 5) {
    return { kind: 'raw-pickle', reason: `raw pickle (protocol ${head[1]}), not a zip archive` };
  }
  const hex = [...head.subarray(0, 8)].map((byte) => byte.toString(16).padStart(2, '0')).join(' ');
  return { kind: 'not-pytorch', reason: `neither a zip archive nor a pickle: the first bytes are ${hex}` };
}

/** Parses `.data/version` (written for format 6 and later) or else `version`, as PyTorch's reader does. */
async function readFormatVersion(reader: ZipReader): Promise<number | undefined> {
  const entry = reader.findRecord('.data/version') ?? reader.findRecord('version');
  if (entry === undefined) return undefined;

  const where = { file: reader.filePath, record: entry.name, offset: entry.localHeaderOffset };
  if (entry.uncompressedSize > MAX_VERSION_RECORD_BYTES) {
    throw new EngineError(`version record is ${entry.uncompressedSize} bytes; expected a decimal number of a few bytes`, where);
  }
  const text = (await reader.readRecord(entry, { maxBytes: MAX_VERSION_RECORD_BYTES })).toString('latin1');
  const match = /^\s*(\d{1,9})\s*$/.exec(text);
  if (match === null) {
    throw new EngineError(`invalid version record ${JSON.stringify(text)}: expected a decimal number such as 3 or 6; save the model again`, where);
  }
  return Number(match[1]);
}
