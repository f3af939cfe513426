import type { ArchiveScan, CodeRecordScan, PickleRecordScan } from '../analysis/archiveScan';
import type { Range } from '../analysis/types';
import { formatDevice, type Device } from '../device';
import type { PathSegment } from '../pickle/deviceScan';
import { formatPath } from '../pickle/picklePath';
import { rewritePickle, type StringChange } from '../pickle/pickleRewriter';
import type { CodeEdit } from './debugPkl';

/** One device that the retarget rewrites. */
export interface RetargetChange {
  record: string;
  oldDevice: string;
  newDevice: string;
  /** Present for code records. */
  range?: Range;
  /** The op, tensor or attribute that contains the device, e.g. `torch.ones`, `storage 0`, `dev_str`. */
  target: string;
}

/** A device that stays as it is, with the reason. */
export interface SkippedDevice {
  record: string;
  device: string;
  range?: Range;
  reason: string;
}

/** The new bytes of every record that changes, keyed by record name without the top folder. */
export interface RetargetPlan {
  records: Map<string, Buffer>;
  /** Code edits per code record, for shifting the `.debug_pkl` beside it. */
  codeEdits: Map<string, CodeEdit[]>;
  changes: RetargetChange[];
  skipped: SkippedDevice[];
}

/**
 * Plans the rewrite of every pinned device in a scanned archive to `target`: device literals
 * in code (the two-argument form becomes one argument), storage locations, Device attributes,
 * bytecode device constants, and `str` attributes that the code uses as devices. A `str`
 * attribute that no code passes to torch.device stays, because it may be a name or a label.
 */
export function planRetarget(scan: ArchiveScan, target: Device): RetargetPlan {
  const plan: RetargetPlan = { records: new Map(), codeEdits: new Map(), changes: [], skipped: [] };
  const deviceAttributes = new Set<string>();

  for (const code of scan.codeRecords) planCodeRecord(code, target, plan, deviceAttributes);
  for (const pickle of scan.pickleRecords) planPickleRecord(scan.path, pickle, target, plan, deviceAttributes);
  return plan;
}

function planCodeRecord(code: CodeRecordScan, target: Device, plan: RetargetPlan, deviceAttributes: Set<string>): void {
  const newDevice = formatDevice(target);
  const replacement = Buffer.from(`torch.device("${newDevice}")`, 'utf8');
  const edits: CodeEdit[] = [];
  const parts: Buffer[] = [];
  let position = 0;

  for (const site of code.sites) {
    if (site.kind === 'from-attribute') {
      if (site.attribute !== undefined) deviceAttributes.add(site.attribute);
      continue;
    }
    if (site.kind === 'move-by-name') {
      plan.skipped.push({
        record: code.record,
        device: site.device,
        range: site.range,
        reason: `torch.${site.device}(...) moves by name and has no device literal to rewrite; change the model's source and export again`,
      });
      continue;
    }
    if (site.attribute !== undefined) deviceAttributes.add(site.attribute);

    const original = code.bytes.subarray(site.byteSpan.start, site.byteSpan.end);
    if (original.equals(replacement)) continue;
    parts.push(code.bytes.subarray(position, site.byteSpan.start), replacement);
    position = site.byteSpan.end;
    edits.push({ start: site.byteSpan.start, end: site.byteSpan.end, replacementLength: replacement.length });
    plan.changes.push({ record: code.record, oldDevice: site.device, newDevice, range: site.range, target: site.usage });
  }

  if (edits.length === 0) return;
  parts.push(code.bytes.subarray(position));
  plan.records.set(code.record, Buffer.concat(parts));
  plan.codeEdits.set(code.record, edits);
}

function planPickleRecord(file: string, pickle: PickleRecordScan, target: Device, plan: RetargetPlan, deviceAttributes: Set<string>): void {
  const newDevice = formatDevice(target);
  const changes: StringChange[] = [];
  const record = pickle.record;
  const change = (site: StringChange['site'], oldValue: string, newValue: string, oldDevice: string, what: string): void => {
    if (oldValue === newValue) return;
    changes.push({ site, newValue });
    plan.changes.push({ record, oldDevice, newDevice, target: what });
  };

  for (const storage of pickle.scan.storages) {
    change(storage.site, storage.location, newDevice, storage.location, describePaths(storage.tensorPaths) ?? `storage ${storage.key}`);
  }

  for (const device of pickle.scan.deviceObjects) {
    const what = formatPath(device.path);
    if (device.index === undefined) {
      change(device.site, device.value, newDevice, device.device, what);
    } else if (target.index === undefined || target.index === device.index) {
      // torch.device(type, index): the index stays, so only the type changes.
      change(device.site, device.value, target.type, device.device, what);
    } else {
      plan.skipped.push({ record, device: device.device, reason: `${what} is torch.device("${device.value}", ${device.index}); its index differs from ${newDevice}` });
    }
  }

  // Mobile bytecode builds torch.device("cuda", 1) from two constants with aten::device.with_index.
  // Only integer constants hold the index, so the type string takes the target's type alone.
  const buildsWithIndex = pickle.scan.recordKind === 'bytecode' && pickle.scan.operators.length > 0;
  for (const text of pickle.scan.deviceStrings) {
    const path = formatPath(text.path);
    if (buildsWithIndex) {
      change(text.site, text.value, target.type, text.value, path);
      plan.skipped.push({ record, device: text.value, reason: `${path} may be the type argument of aten::device.with_index, whose index argument stays as it is` });
    } else if (pickle.scan.recordKind === 'bytecode' || deviceAttributes.has(path)) {
      change(text.site, text.value, newDevice, text.value, path);
    }
  }

  if (changes.length > 0) plan.records.set(record, rewritePickle(pickle.bytes, changes, { file, record }));
}

function describePaths(paths: readonly PathSegment[][]): string | undefined {
  const names = paths.map(formatPath).filter((name) => name !== '');
  return names.length > 0 ? names.join(', ') : undefined;
}
