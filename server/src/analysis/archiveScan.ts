import * as fs from 'node:fs';
import { detectArchiveKind } from '../archive/archiveKind';
import { readFileHead, startsLikeZip, ZipReader, type ZipEntry } from '../archive/zipReader';
import { decodeCodeRecord } from '../code/codeText';
import { findConstantUses, type ConstantUse } from '../code/constantUses';
import { findDeviceSites, type CodeDeviceSite } from '../code/deviceSites';
import { EngineError } from '../errors';
import { scanPickleDevices, type PickleDeviceScan, type PickleRecordKind } from '../pickle/deviceScan';
import { readPickle } from '../pickle/pickleReader';
import type { ArchiveKind } from './types';

/** A code record with the devices its text pins. */
export interface CodeRecordScan {
  /** Record name without the top folder, e.g. `code/__torch__.py`. */
  record: string;
  entry: ZipEntry;
  bytes: Buffer;
  text: string;
  sites: CodeDeviceSite[];
  constantUses: ConstantUse[];
}

/** A pickle record with the devices it holds. */
export interface PickleRecordScan {
  record: string;
  entry: ZipEntry;
  bytes: Buffer;
  scan: PickleDeviceScan;
  /** The class of the root object, when the root is an object. */
  rootClass?: string;
}

/** Everything the analysis and the retarget need to know about one archive. */
export interface ArchiveScan {
  path: string;
  kind: ArchiveKind;
  kindReason: string;
  formatVersion?: number;
  topFolder?: string;
  sizeBytes: number;
  entries: readonly ZipEntry[];
  codeRecords: CodeRecordScan[];
  pickleRecords: PickleRecordScan[];
  /** The class of the pickled root module in `data.pkl`, e.g. `__torch__.Model`. */
  rootClass?: string;
}

/** A file that was recognised but is not a kind the engine analyses. `kind` records what it is. */
export class UnsupportedKindError extends EngineError {
  readonly kind: ArchiveKind;

  constructor(kind: ArchiveKind, reason: string, filePath: string) {
    super(unsupportedKindMessage(kind, reason), { file: filePath });
    this.name = 'UnsupportedKindError';
    this.kind = kind;
  }
}

/** Pickle records that hold devices, by record name, for the kinds that are analysed. */
const PICKLE_RECORDS: Record<string, PickleRecordKind> = {
  'data.pkl': 'data',
  'constants.pkl': 'constants',
  'traced_inputs.pkl': 'traced_inputs',
  'bytecode.pkl': 'bytecode',
};

const ANALYSED_KINDS: ReadonlySet<ArchiveKind> = new Set<ArchiveKind>(['torchscript', 'mobile', 'checkpoint']);

/**
 * Opens an archive, recognises its kind and reads the records that can hold devices:
 * code records and the pickles. Tensor data records are never read, so time and memory
 * do not depend on the size of the model's weights. Throws EngineError for a file that
 * cannot be read or is not a kind that can be analysed.
 */
export async function scanArchive(filePath: string): Promise<ArchiveScan> {
  const stat = await statFile(filePath);
  const head = await readFileHead(filePath);
  if (!startsLikeZip(head)) {
    const detection = await detectArchiveKind(null, head);
    throw new UnsupportedKindError(detection.kind, detection.reason, filePath);
  }

  const reader = await ZipReader.open(filePath);
  try {
    const detection = await detectArchiveKind(reader, head);
    if (!ANALYSED_KINDS.has(detection.kind)) {
      throw new UnsupportedKindError(detection.kind, detection.reason, filePath);
    }

    const scan: ArchiveScan = {
      path: filePath,
      kind: detection.kind,
      kindReason: detection.reason,
      formatVersion: detection.formatVersion,
      topFolder: reader.topFolder,
      sizeBytes: stat.size,
      entries: reader.entries,
      codeRecords: [],
      pickleRecords: [],
    };

    for (const entry of reader.entries) {
      const record = reader.recordName(entry);
      if (detection.kind !== 'checkpoint' && isCodeRecord(record)) {
        scan.codeRecords.push(await scanCodeRecord(reader, entry, record));
      }
      const pickleKind = pickleRecordKind(detection.kind, record);
      if (pickleKind !== undefined) {
        const pickle = await scanPickleRecord(reader, entry, record, pickleKind);
        if (pickleKind === 'data') scan.rootClass = pickle.rootClass;
        scan.pickleRecords.push(pickle);
      }
    }
    return scan;
  } finally {
    await reader.close();
  }
}

/** Reads and decodes the code records only, for showing them as documents. */
export async function readCodeTexts(filePath: string): Promise<{ record: string; text: string }[]> {
  const reader = await ZipReader.open(filePath);
  try {
    const texts: { record: string; text: string }[] = [];
    for (const entry of reader.entries) {
      const record = reader.recordName(entry);
      if (!isCodeRecord(record)) continue;
      const bytes = await reader.readRecord(entry);
      texts.push({ record, text: decodeCodeRecord(bytes, { file: filePath, record }) });
    }
    return texts;
  } finally {
    await reader.close();
  }
}

/** Returns the pickle kind of a record. A checkpoint keeps its tensors in `data.pkl`, and the other kinds use PICKLE_RECORDS. */
function pickleRecordKind(kind: ArchiveKind, record: string): PickleRecordKind | undefined {
  if (kind !== 'checkpoint') return PICKLE_RECORDS[record];
  return record === 'data.pkl' ? 'checkpoint' : undefined;
}

export function isCodeRecord(record: string): boolean {
  return record.startsWith('code/') && record.endsWith('.py');
}

async function scanCodeRecord(reader: ZipReader, entry: ZipEntry, record: string): Promise<CodeRecordScan> {
  const bytes = await reader.readRecord(entry);
  const text = decodeCodeRecord(bytes, { file: reader.filePath, record });
  const [sites, constantUses] = [await findDeviceSites(text), await findConstantUses(text)];
  return { record, entry, bytes, text, sites, constantUses };
}

async function scanPickleRecord(reader: ZipReader, entry: ZipEntry, record: string, kind: PickleRecordKind): Promise<PickleRecordScan> {
  const bytes = await reader.readRecord(entry);
  const result = readPickle(bytes, { file: reader.filePath, record });
  const root = result.root;
  const rootClass = root.kind === 'object' && root.callable.kind === 'global' ? `${root.callable.module}.${root.callable.name}` : undefined;
  return { record, entry, bytes, scan: scanPickleDevices(result, kind), rootClass };
}

async function statFile(filePath: string): Promise<fs.Stats> {
  let stat: fs.Stats;
  try {
    stat = await fs.promises.stat(filePath);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'file not found; check the path' : `cannot read the file (${code ?? String(error)})`;
    throw new EngineError(reason, { file: filePath }, { cause: error });
  }
  if (stat.isDirectory()) throw new EngineError('is a directory, not a model file; pass the path of a .pt file', { file: filePath });
  return stat;
}

function unsupportedKindMessage(kind: ArchiveKind, reason: string): string {
  switch (kind) {
    case 'torch-package':
      return `this is a torch.package archive (${reason}); it holds Python source, not TorchScript, so it has no hard-coded devices to report. Export the model with torch.jit.script or torch.jit.trace to analyse it.`;
    case 'legacy-model-json':
      return `this is a TorchScript archive in the legacy model.json format (${reason}); load and save it again with PyTorch 1.2 or later to analyse it.`;
    case 'raw-pickle':
      return `this is a raw pickle (${reason}), not a zip archive; save it again with torch.save (zip format, PyTorch 1.6 or later) or export a TorchScript module.`;
    case 'exported-program':
      return `this is a torch.export ExportedProgram archive (${reason}); load it with torch.export.load and move it with ExportedProgram.module().to(device). TorchScript analysis does not apply.`;
    default:
      return `not a PyTorch file (${reason}); expected a TorchScript archive saved with torch.jit.save, a mobile archive or a torch.save checkpoint.`;
  }
}
