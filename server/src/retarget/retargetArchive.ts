import * as fs from 'node:fs';
import * as path from 'node:path';
import { scanArchive, type ArchiveScan } from '../analysis/archiveScan';
import { ZipReader } from '../archive/zipReader';
import { ZipWriter } from '../archive/zipWriter';
import { deviceSyntaxHelp, formatDevice, parseDevice } from '../device';
import { EngineError } from '../errors';
import { shiftDebugOffsets, type CodeEdit } from './debugPkl';
import { PendingOutput } from './outputFile';
import { planRetarget, type RetargetChange, type SkippedDevice } from './planEdits';
import { verifyRetargeted } from './verifyOutput';

export type { RetargetChange, SkippedDevice } from './planEdits';

export interface RetargetOptions {
  /** Output file; defaults to defaultOutputPath(). */
  output?: string;
  /** Replace the input atomically. */
  inPlace?: boolean;
  /** Overwrite an existing output. */
  force?: boolean;
  signal?: AbortSignal;
  /** Called with the fraction of records written, from 0 to 1. */
  onProgress?: (fraction: number) => void;
}

export interface RetargetResult {
  input: string;
  output: string;
  device: string;
  changes: RetargetChange[];
  skipped: SkippedDevice[];
  /** Known reasons why PyTorch may not load or run the output on the target device. */
  warnings: string[];
}

/** Returns the default output: the input's name with the device before the extension, e.g. `model.cuda.pt`. */
export function defaultOutputPath(filePath: string, device: string): string {
  const extension = path.extname(filePath);
  const stem = path.basename(filePath, extension);
  return path.join(path.dirname(filePath), `${stem}.${device.replace(/:/g, '-')}${extension || '.pt'}`);
}

/**
 * Writes a copy of an archive in which every rewritable hard-coded device reads `device`.
 * Unchanged records are copied as raw bytes. The output goes to a temporary file in the
 * output's folder, is read back and checked, and only then takes the output's name, so
 * the input is never modified and a failure leaves no partial file under the output name.
 */
export async function retargetFile(inputPath: string, device: string, options: RetargetOptions = {}): Promise<RetargetResult> {
  const target = parseDevice(device);
  if (!target) throw new EngineError(deviceSyntaxHelp(device), { file: inputPath });
  const newDevice = formatDevice(target);

  // In place, a symbolic link (as in a Hugging Face cache) must keep pointing at the rewritten file.
  const filePath = options.inPlace ? await fs.promises.realpath(inputPath).catch(() => inputPath) : inputPath;
  const output = path.resolve(options.inPlace ? filePath : options.output ?? defaultOutputPath(filePath, newDevice));
  if (!options.inPlace && (await isDirectory(output))) {
    throw new EngineError('the output is a folder; give the path of a file, for example model.cuda.pt', { file: output });
  }
  if (!options.inPlace && output === path.resolve(filePath)) {
    throw new EngineError('the output is the input file; pass --in-place to replace it, or choose another output with -o', { file: filePath });
  }

  const before = await fs.promises.stat(filePath).catch(() => undefined);
  const scan = await scanArchive(filePath);
  if (scan.kind !== 'torchscript' && scan.kind !== 'mobile' && scan.kind !== 'checkpoint') {
    throw new EngineError(`cannot retarget a ${scan.kind} file`, { file: filePath });
  }
  const plan = planRetarget(scan, target);

  const overwrite = Boolean(options.inPlace || options.force);
  const pending = await PendingOutput.reserve(output, { overwrite });
  const cleanUpOnExit = (): void => pending.discardSync();
  process.once('exit', cleanUpOnExit);

  try {
    await writeArchive(scan, plan.records, plan.codeEdits, pending.tempPath, options);
    await verifyRetargeted(pending.tempPath, scan, plan, target);
    await checkInputUnchanged(filePath, before);
    await pending.publish({ overwrite, mode: before ? before.mode & 0o777 : undefined });
  } catch (error) {
    await pending.discard();
    // Errors about the temporary file name the output instead, the path the user asked for.
    if (error instanceof EngineError && error.file === pending.tempPath) {
      throw new EngineError(error.reason, { file: output }, { cause: error });
    }
    throw error;
  } finally {
    process.removeListener('exit', cleanUpOnExit);
  }

  return { input: path.resolve(filePath), output, device: newDevice, changes: plan.changes, skipped: plan.skipped, warnings: targetWarnings(scan, newDevice) };
}

/** Warns about targets that PyTorch is known to reject for what this archive holds. */
function targetWarnings(scan: ArchiveScan, device: string): string[] {
  const warnings: string[] = [];
  const hasTensorConstants = scan.pickleRecords.some((pickle) => pickle.scan.recordKind === 'constants' && pickle.scan.storages.length > 0);
  if (device === 'meta' && hasTensorConstants) {
    warnings.push('the archive has tensor constants, and PyTorch cannot load tensor constants on meta (constant pooling compares them with aten::equal, which has no meta kernel); retarget to a real device, or to cuda and load with map_location="cpu" to inspect it');
  }
  return warnings;
}

async function isDirectory(filePath: string): Promise<boolean> {
  const stat = await fs.promises.stat(filePath).catch(() => undefined);
  return stat?.isDirectory() ?? false;
}

async function writeArchive(
  scan: ArchiveScan,
  records: Map<string, Buffer>,
  codeEdits: Map<string, CodeEdit[]>,
  tempPath: string,
  options: RetargetOptions,
): Promise<void> {
  const reader = await ZipReader.open(scan.path);
  let writer: ZipWriter | undefined;
  try {
    writer = await ZipWriter.create(tempPath);
    const total = reader.entries.length;
    for (const [index, entry] of reader.entries.entries()) {
      if (options.signal?.aborted) throw new EngineError('retarget cancelled; nothing was written', { file: scan.path });

      const record = reader.recordName(entry);
      let replacement = records.get(record);
      const codeRecord = record.endsWith('.debug_pkl') ? record.slice(0, -'.debug_pkl'.length) : undefined;
      const edits = codeRecord === undefined ? undefined : codeEdits.get(codeRecord);
      if (edits) {
        // Debug records hold byte offsets into the code record beside them.
        const original = await reader.readRecord(entry);
        replacement = shiftDebugOffsets(original, edits, { file: scan.path, record });
      }

      if (replacement === undefined) await writer.addRawRecord(entry.name, { reader, entry });
      else await writer.addRecord(entry.name, replacement, { compress: entry.method !== 0 });
      options.onProgress?.((index + 1) / total);
    }
    await writer.finish();
  } catch (error) {
    await writer?.abort();
    throw error;
  } finally {
    await reader.close();
  }
}

async function checkInputUnchanged(filePath: string, before: fs.Stats | undefined): Promise<void> {
  const after = await fs.promises.stat(filePath).catch(() => undefined);
  const same = before && after && before.size === after.size && before.mtimeMs === after.mtimeMs && before.ino === after.ino;
  if (!same) {
    throw new EngineError('the input changed while it was being retargeted; nothing was written, run again once the file is complete', { file: filePath });
  }
}
