import { parseDevice, formatDevice } from '../device';
import type { CodeDeviceSite } from '../code/deviceSites';
import type { StorageLocationSite } from '../pickle/deviceScan';
import { formatPath } from '../pickle/picklePath';
import type { ArchiveScan, CodeRecordScan, PickleRecordScan } from './archiveScan';
import { findingMessage } from './messages';
import type { Finding, FindingCode, Severity } from './types';

export interface FindingOptions {
  /** Devices equal to this one are not reported. */
  expectedDevice?: string;
}

/**
 * Turns the device sites of an archive's code and pickles into findings.
 * Storage locations of parameters, traced inputs and checkpoints are reported only when
 * they are not `cpu`: a model loads its parameters on the CPU and moves them with
 * module.to(), so a CPU location pins nothing. Tensor constants are reported on every
 * device because module.to() never moves them.
 */
export function deviceFindings(scan: ArchiveScan, options: FindingOptions = {}): Finding[] {
  const attributeValues = attributeDevices(scan.pickleRecords);
  const findings: Finding[] = [];

  for (const code of scan.codeRecords) {
    for (const site of code.sites) findings.push(codeFinding(code, site, attributeValues));
  }
  for (const pickle of scan.pickleRecords) findings.push(...pickleFindings(pickle, scan.codeRecords));

  const expected = options.expectedDevice ? normalizeDevice(options.expectedDevice) : undefined;
  return expected === undefined ? findings : findings.filter((finding) => normalizeDevice(finding.device) !== expected);
}

function normalizeDevice(device: string): string {
  const parsed = parseDevice(device);
  return parsed ? formatDevice(parsed) : device;
}

const CODE_FINDING: Record<CodeDeviceSite['kind'], FindingCode> = {
  literal: 'code-device-literal',
  'two-argument': 'code-device-two-argument',
  'from-attribute': 'code-device-from-attribute',
  'move-by-name': 'code-device-move-by-name',
};

function codeFinding(code: CodeRecordScan, site: CodeDeviceSite, attributeValues: Map<string, string>): Finding {
  const findingCode = CODE_FINDING[site.kind];
  let device = site.device;
  if (site.kind === 'from-attribute' && site.attribute !== undefined) device = attributeValues.get(site.attribute) ?? device;
  const where = site.kind === 'from-attribute' ? `self.${site.attribute ?? '?'}` : site.usage;
  return {
    code: findingCode,
    severity: 'warning',
    device,
    record: code.record,
    range: site.range,
    message: findingMessage(findingCode, device, where),
    rewritable: site.kind !== 'move-by-name',
  };
}

/** Device values of module attributes (Device objects and device-name strings), keyed by attribute path. */
function attributeDevices(pickles: readonly PickleRecordScan[]): Map<string, string> {
  const values = new Map<string, string>();
  for (const pickle of pickles) {
    if (pickle.scan.recordKind !== 'data') continue;
    for (const device of pickle.scan.deviceObjects) values.set(formatPath(device.path), device.device);
    for (const text of pickle.scan.deviceStrings) values.set(formatPath(text.path), text.value);
  }
  return values;
}

function pickleFindings(pickle: PickleRecordScan, codeRecords: readonly CodeRecordScan[]): Finding[] {
  const findings: Finding[] = [];
  const { scan, record } = pickle;
  const add = (code: FindingCode, severity: Severity, device: string, where: string | undefined, extra: Partial<Finding> = {}): void => {
    findings.push({ code, severity, device, record, message: findingMessage(code, device, where), rewritable: true, ...extra });
  };

  // One finding per device and record: a quantized model can hold hundreds of storages.
  for (const [location, storages] of groupByLocation(scan.storages)) {
    const where = storageDescription(storages, scan.recordKind);
    switch (scan.recordKind) {
      case 'constants':
        add('constant-storage-location', 'warning', location, where, { related: constantUses(storages, codeRecords) });
        break;
      case 'data':
        if (location !== 'cpu') add('parameter-storage-location', 'warning', location, where);
        break;
      case 'traced_inputs':
        if (location !== 'cpu') add('traced-input-storage-location', 'warning', location, where);
        break;
      case 'bytecode':
        if (location !== 'cpu') add('bytecode-storage-location', 'warning', location, where);
        break;
      case 'checkpoint':
        if (location !== 'cpu') add('checkpoint-storage-location', 'information', location, where);
        break;
    }
  }

  for (const device of scan.deviceObjects) {
    const where = formatPath(device.path);
    if (scan.recordKind === 'bytecode') add('bytecode-device-constant', 'warning', device.device, `constants of ${where}`);
    else add('device-attribute', 'warning', device.device, where === '' ? undefined : where);
  }

  for (const text of scan.deviceStrings) {
    const where = formatPath(text.path);
    if (scan.recordKind === 'bytecode') add('bytecode-device-constant', 'warning', text.value, `constants of ${where}`);
    else add('device-string-attribute', 'information', text.value, where === '' ? undefined : where);
  }

  return findings;
}

function groupByLocation(storages: readonly StorageLocationSite[]): Map<string, StorageLocationSite[]> {
  const groups = new Map<string, StorageLocationSite[]>();
  for (const storage of storages) {
    const group = groups.get(storage.location);
    if (group) group.push(storage);
    else groups.set(storage.location, [storage]);
  }
  return groups;
}

/** Lists the code lines that use the tensor constants stored in `storages`, as related information. */
function constantUses(storages: readonly StorageLocationSite[], codeRecords: readonly CodeRecordScan[]): Finding['related'] {
  const indexes = new Set(storages.flatMap((storage) => storage.tensorPaths.map((path) => path[0])).filter((segment): segment is number => typeof segment === 'number'));
  const related: NonNullable<Finding['related']> = [];
  for (const code of codeRecords) {
    for (const use of code.constantUses) {
      if (indexes.has(use.index)) related.push({ record: code.record, range: use.range, message: `CONSTANTS.${use.name} is this tensor` });
    }
  }
  return related.length > 0 ? related : undefined;
}

/** Names the tensors on these storages, e.g. `CONSTANTS.c0, CONSTANTS.c3` or `conv1.weight and 40 more`. */
function storageDescription(storages: readonly StorageLocationSite[], recordKind: string): string {
  const names = new Set<string>();
  for (const storage of storages) {
    const paths = storage.tensorPaths.map((path) => (recordKind === 'constants' && typeof path[0] === 'number' ? `CONSTANTS.c${path[0]}` : formatPath(path)));
    const named = paths.filter((path) => path !== '');
    if (named.length === 0) names.add(`storage ${storage.key}`);
    for (const name of named) names.add(name);
  }
  const listed = [...names];
  const shown = listed.slice(0, MAX_NAMES_IN_MESSAGE).join(', ');
  return listed.length > MAX_NAMES_IN_MESSAGE ? `${shown} and ${listed.length - MAX_NAMES_IN_MESSAGE} more` : shown;
}

const MAX_NAMES_IN_MESSAGE = 5;
