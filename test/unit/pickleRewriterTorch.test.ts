import assert from 'node:assert/strict';
import * as path from 'node:path';
import { before, describe, test } from 'node:test';
import { scanPickleDevices, type PathSegment, type PickleDeviceScan, type PickleRecordKind } from '../../server/src/pickle/deviceScan';
import { readPickle } from '../../server/src/pickle/pickleReader';
import { rewritePickle, type StringChange } from '../../server/src/pickle/pickleRewriter';
import { readZipRecord, runPythonJson, torchPython, torchUnavailable, writeZipWithRecords } from './helpers/picklePython';
import { buildTorchArchives, type TorchArchives } from './helpers/pickleTorchArchives';

/** Loads each archive of a job list with torch and prints what the tests compare, or the load error. */
const TORCH_INSPECT = String.raw`
import json, sys, warnings
import torch
from torch.jit.mobile import _load_for_lite_interpreter
warnings.simplefilter('ignore')

def tensor_summary(tensors):
    return {name: [str(t.device), t.sum().item()] for name, t in tensors}

def inspect(kind, file, map_location):
    if kind == 'scripted':
        m = torch.jit.load(file, map_location=map_location)
        return {
            'dev': str(m.dev), 'devs': [str(d) for d in m.devs], 'odev': str(m.odev),
            'devmap': {k: str(v) for k, v in m.devmap.items()}, 'name': m.name, 'other': m.other,
            'dev_names': list(m.dev_names), 'sub.dev_str': m.sub.dev_str,
            'tensors': tensor_summary(list(m.named_parameters()) + list(m.named_buffers())),
        }
    if kind == 'mobile':
        m = _load_for_lite_interpreter(file)
        try:
            return {'loaded': True, 'forward': list(m(torch.ones(3, 2)).shape)}
        except Exception as error:
            return {'loaded': True, 'forward_error': str(error)[:500]}
    c = torch.load(file, map_location=map_location, weights_only=True)
    return {'two': str(c['two']), 'plain': str(c['plain']), 'device_name': c['device_name'],
            'tensors': tensor_summary([('weights', c['weights']), ('param', c['param'])])}

results = []
for kind, file, map_location in json.load(sys.stdin):
    try:
        results.append(inspect(kind, file, map_location))
    except Exception as error:
        results.append({'load_error': str(error)[:500]})
print(json.dumps(results))
`;

interface Inspection {
  load_error?: string;
  forward_error?: string;
  [key: string]: unknown;
}

type InspectionJob = ['scripted' | 'mobile' | 'checkpoint', string, 'cpu' | null];

/** Runs all inspections in one Python process, because importing torch takes seconds. */
function inspectAll(jobs: InspectionJob[]): Inspection[] {
  return runPythonJson<Inspection[]>(torchPython, TORCH_INSPECT, [], Buffer.from(JSON.stringify(jobs)));
}

function key(pathSegments: PathSegment[]): string {
  return JSON.stringify(pathSegments);
}

interface RecordUnderTest {
  file: string;
  record: string;
  kind: PickleRecordKind;
}

function scan(target: RecordUnderTest, data = readZipRecord(target.file, target.record)): PickleDeviceScan {
  return scanPickleDevices(readPickle(data, { file: target.file, record: target.record }), target.kind);
}

/** Rewrites one record and writes the archive next to the original under a new name. */
function rewriteArchive(target: RecordUnderTest, changes: StringChange[], outputName: string): { output: string; rewritten: Buffer } {
  const data = readZipRecord(target.file, target.record);
  const rewritten = rewritePickle(data, changes, { file: target.file, record: target.record });
  const output = path.join(path.dirname(target.file), outputName);
  writeZipWithRecords(target.file, output, { [target.record]: rewritten });
  return { output, rewritten };
}

interface Rewrite {
  target: RecordUnderTest;
  output: string;
  rewritten: Buffer;
}

/** Makes the rewrites under test, so that torch can inspect them all in one process. */
function makeRewrites(archives: TorchArchives): Record<'devices' | 'name' | 'storages' | 'mobile' | 'checkpoint', Rewrite> {
  const scripted: RecordUnderTest = { file: archives.scripted, record: 'scripted/data.pkl', kind: 'data' };
  const mobile: RecordUnderTest = { file: archives.tracedMobile, record: 'traced/bytecode.pkl', kind: 'bytecode' };
  const checkpoint: RecordUnderTest = { file: archives.checkpoint, record: 'checkpoint/data.pkl', kind: 'checkpoint' };
  const scriptedScan = scan(scripted);

  // devs[0] and odev are memo GETs of the device objects of dev and devs[1], so they follow them.
  const objects = new Map(scriptedScan.deviceObjects.map((site) => [key(site.path), site]));
  const deviceTargets: [PathSegment[], string][] = [[['dev'], 'cuda:3'], [['devs', 1], 'meta'], [['devs', 2], 'cuda:5'], [['devmap', 'main'], 'cuda:6']];
  const deviceChanges = deviceTargets.map(([sitePath, newValue]) => {
    const site = objects.get(key(sitePath));
    assert.ok(site, `device object at ${key(sitePath)}`);
    return { site: site.site, newValue };
  });

  const name = scriptedScan.deviceStrings.find((site) => key(site.path) === key(['name']));
  assert.ok(name);
  assert.equal(name.site.op, 'BINGET');

  const storageChanges = scriptedScan.storages.map((storage) => ({ site: storage.site, newValue: 'cuda' }));

  const mobileScan = scan(mobile);
  assert.equal(mobileScan.deviceObjects.length, 2);
  const mobileChanges = mobileScan.deviceObjects.map((site) => ({ site: site.site, newValue: 'cuda' }));

  const checkpointScan = scan(checkpoint);
  const plain = checkpointScan.deviceObjects.find((site) => key(site.path) === key(['plain']));
  assert.ok(plain);
  const checkpointChanges = [{ site: plain.site, newValue: 'meta' }, ...checkpointScan.storages.map((storage) => ({ site: storage.site, newValue: 'cuda:1' }))];

  return {
    devices: { target: scripted, ...rewriteArchive(scripted, deviceChanges, 'devices_rewritten.pt') },
    name: { target: scripted, ...rewriteArchive(scripted, [{ site: name.site, newValue: 'cuda:1' }], 'name_rewritten.pt') },
    storages: { target: scripted, ...rewriteArchive(scripted, storageChanges, 'storages_rewritten.pt') },
    mobile: { target: mobile, ...rewriteArchive(mobile, mobileChanges, 'traced_rewritten.ptl') },
    checkpoint: { target: checkpoint, ...rewriteArchive(checkpoint, checkpointChanges, 'checkpoint_rewritten.pt') },
  };
}

describe('rewritePickle on torch archives', { skip: torchUnavailable() }, () => {
  let rewrites: ReturnType<typeof makeRewrites>;
  let results: Record<string, Inspection>;

  before(() => {
    const archives = buildTorchArchives();
    rewrites = makeRewrites(archives);

    const jobs: Record<string, InspectionJob> = {
      original: ['scripted', archives.scripted, 'cpu'],
      originalUnmapped: ['scripted', archives.scripted, null],
      devices: ['scripted', rewrites.devices.output, 'cpu'],
      name: ['scripted', rewrites.name.output, 'cpu'],
      storages: ['scripted', rewrites.storages.output, 'cpu'],
      storagesUnmapped: ['scripted', rewrites.storages.output, null],
      mobileOriginal: ['mobile', archives.tracedMobile, null],
      mobile: ['mobile', rewrites.mobile.output, null],
      checkpointOriginal: ['checkpoint', archives.checkpoint, 'cpu'],
      checkpoint: ['checkpoint', rewrites.checkpoint.output, 'cpu'],
      checkpointUnmapped: ['checkpoint', rewrites.checkpoint.output, null],
    };
    const inspected = inspectAll(Object.values(jobs));
    results = Object.fromEntries(Object.keys(jobs).map((name, index) => [name, inspected[index]]));
  });

  test('device attributes change, str uses stay', () => {
    const loaded = results.devices;

    assert.equal(loaded.load_error, undefined);
    assert.equal(loaded.dev, 'cuda:3');
    assert.deepEqual(loaded.devs, ['cuda:3', 'meta', 'cuda:5']);
    assert.equal(loaded.odev, 'meta');
    assert.deepEqual(loaded.devmap, { main: 'cuda:6' });
    assert.equal(loaded.name, 'cuda:0');
    assert.equal(loaded.other, 'cpu');
    assert.deepEqual(loaded.dev_names, ['cuda:0', 'cpu']);
    assert.equal(loaded['sub.dev_str'], 'cuda:0');
    assert.deepEqual(loaded.tensors, results.original.tensors);

    const after = scan(rewrites.devices.target, rewrites.devices.rewritten);
    assert.deepEqual(after.deviceObjects.map((site) => site.device), ['cuda:3', 'cuda:3', 'meta', 'cuda:5', 'meta', 'cuda:6']);
    assert.deepEqual(after.deviceStrings.map((site) => site.value), ['cuda:0', 'cpu', 'cuda:0', 'cpu', 'cuda:0']);
    assert.deepEqual(after.storages.map((storage) => storage.location), ['cpu', 'cpu', 'cpu']);
  });

  test('str attribute changes, device stays', () => {
    const loaded = results.name;

    assert.equal(loaded.load_error, undefined);
    assert.equal(loaded.name, 'cuda:1');
    assert.equal(loaded.dev, 'cuda:0');
    assert.deepEqual(loaded.devs, results.original.devs);
    assert.equal(loaded['sub.dev_str'], 'cuda:0');
    assert.deepEqual(loaded.dev_names, ['cuda:0', 'cpu']);
  });

  test('storage locations change, devices stay', () => {
    const mapped = results.storages;
    assert.equal(mapped.load_error, undefined);
    assert.deepEqual(mapped.tensors, results.original.tensors);
    // The 'cpu' of devs[1], odev, other and dev_names[1] shared the memo entry of the first location.
    assert.deepEqual(mapped.devs, results.original.devs);
    assert.equal(mapped.odev, 'cpu');
    assert.equal(mapped.other, 'cpu');
    assert.deepEqual(mapped.dev_names, ['cuda:0', 'cpu']);

    // Without map_location, torch restores the storages on CUDA, which this CPU build lacks.
    assert.match(String(results.storagesUnmapped.load_error), /CUDA|cuda/);
    assert.equal(results.originalUnmapped.load_error, undefined);

    const after = scan(rewrites.storages.target, rewrites.storages.rewritten);
    assert.deepEqual(after.storages.map((storage) => storage.location), ['cuda', 'cuda', 'cuda']);
    assert.deepEqual(after.deviceObjects.map((site) => site.device), ['cuda:0', 'cuda:0', 'cpu', 'cuda:1', 'cpu', 'cuda:2']);
  });

  test('mobile device constant changes, storage stays', () => {
    assert.deepEqual(results.mobileOriginal, { loaded: true, forward: [3, 2] });

    // The storage location of the tensor constant still reads 'cpu', so the module loads, but
    // the factory op now requests CUDA when it runs.
    const loaded = results.mobile;
    assert.equal(loaded.load_error, undefined);
    assert.equal(loaded.loaded, true);
    assert.match(String(loaded.forward_error), /CUDA|cuda/);

    const after = scan(rewrites.mobile.target, rewrites.mobile.rewritten);
    assert.deepEqual(after.deviceObjects.map((site) => site.device), ['cuda', 'cuda']);
    assert.deepEqual(after.storages.map((storage) => storage.location), ['cpu']);
  });

  test('checkpoint devices and storages change', () => {
    const loaded = results.checkpoint;

    assert.equal(loaded.load_error, undefined);
    assert.equal(loaded.plain, 'meta');
    assert.equal(loaded.two, 'cuda:1');
    assert.equal(loaded.device_name, 'cuda:0');
    assert.deepEqual(loaded.tensors, results.checkpointOriginal.tensors);
    assert.match(String(results.checkpointUnmapped.load_error), /CUDA|cuda/);
  });
});
