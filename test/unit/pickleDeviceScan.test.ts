import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, test } from 'node:test';
import { scanPickleDevices, type PathSegment, type PickleDeviceScan, type PickleRecordKind } from '../../server/src/pickle/deviceScan';
import { readPickle } from '../../server/src/pickle/pickleReader';
import { listZipRecords, readZipRecord, realFixtures, runPythonJson, torchPython, torchUnavailable } from './helpers/picklePython';
import { buildTorchArchives, type TorchArchives } from './helpers/pickleTorchArchives';

function scanRecord(file: string, record: string, kind: PickleRecordKind): PickleDeviceScan {
  return scanPickleDevices(readPickle(readZipRecord(file, record), { file, record }), kind);
}

function dotted(pathSegments: PathSegment[]): string {
  return pathSegments.map((segment) => (typeof segment === 'number' ? `[${segment}]` : `.${segment}`)).join('').replace(/^\./, '');
}

/** Prints the device attributes of the scripted module as torch.jit.load returns them. */
const TORCH_ATTRIBUTES = String.raw`
import json, sys, torch
m = torch.jit.load(sys.argv[1], map_location='cpu')
print(json.dumps({
    'dev': str(m.dev), 'devs[0]': str(m.devs[0]), 'devs[1]': str(m.devs[1]), 'devs[2]': str(m.devs[2]),
    'odev': str(m.odev), 'devmap.main': str(m.devmap['main']), 'name': m.name, 'other': m.other,
    'dev_names[0]': m.dev_names[0], 'dev_names[1]': m.dev_names[1], 'sub.dev_str': m.sub.dev_str,
}))
`;

describe('scanPickleDevices on torch archives', { skip: torchUnavailable() }, () => {
  let archives: TorchArchives;
  before(() => {
    archives = buildTorchArchives();
  });

  test('scripted data.pkl storages', () => {
    const scan = scanRecord(archives.scripted, 'scripted/data.pkl', 'data');

    assert.deepEqual(scan.storages.map((storage) => storage.key), ['0', '1', '2']);
    assert.deepEqual(scan.storages.map((storage) => storage.location), ['cpu', 'cpu', 'cpu']);
    assert.deepEqual(scan.storages.map((storage) => storage.storageType), ['torch.FloatStorage', 'torch.FloatStorage', 'torch.FloatStorage']);
    assert.deepEqual(scan.storages.map((storage) => storage.numel), [4, 6, 3]);

    const paths = scan.storages.flatMap((storage) => storage.tensorPaths.map(dotted));
    assert.deepEqual([...paths].sort(), [...archives.scriptedTensorNames].sort());

    // The first location is a push, and the others read its memo entry.
    const [first, second, third] = scan.storages;
    assert.equal(first.site.op, 'BINUNICODE');
    assert.equal(second.site.op, 'BINGET');
    assert.equal(second.site.memoSource?.start, first.site.start);
    assert.equal(third.site.memoSource?.start, first.site.start);
  });

  test('scripted data.pkl devices match torch', () => {
    const scan = scanRecord(archives.scripted, 'scripted/data.pkl', 'data');
    const torchView = runPythonJson<Record<string, string>>(torchPython, TORCH_ATTRIBUTES, [archives.scripted]);

    const objects = Object.fromEntries(scan.deviceObjects.map((found) => [dotted(found.path), found.device]));
    assert.deepEqual(objects, {
      dev: torchView.dev, 'devs[0]': torchView['devs[0]'], 'devs[1]': torchView['devs[1]'], 'devs[2]': torchView['devs[2]'],
      odev: torchView.odev, 'devmap.main': torchView['devmap.main'],
    });
    for (const found of scan.deviceObjects) assert.equal(found.owner, '__torch__.Devices');

    const strings = Object.fromEntries(scan.deviceStrings.map((found) => [dotted(found.path), found.value]));
    assert.deepEqual(strings, {
      name: torchView.name, other: torchView.other, 'dev_names[0]': torchView['dev_names[0]'], 'dev_names[1]': torchView['dev_names[1]'],
      'sub.dev_str': torchView['sub.dev_str'],
    });
  });

  test('scripted data.pkl owners and attributes', () => {
    const scan = scanRecord(archives.scripted, 'scripted/data.pkl', 'data');
    const byPath = new Map(scan.deviceStrings.map((found) => [dotted(found.path), found]));

    assert.equal(byPath.get('sub.dev_str')?.owner, '__torch__.Sub');
    assert.equal(byPath.get('sub.dev_str')?.attribute, 'dev_str');
    assert.equal(byPath.get('dev_names[1]')?.owner, '__torch__.Devices');
    assert.equal(byPath.get('dev_names[1]')?.attribute, 'dev_names');
  });

  test('scripted data.pkl memo sharing', () => {
    const scan = scanRecord(archives.scripted, 'scripted/data.pkl', 'data');
    const objects = new Map(scan.deviceObjects.map((found) => [dotted(found.path), found]));
    const strings = new Map(scan.deviceStrings.map((found) => [dotted(found.path), found]));
    const dev = objects.get('dev');
    assert.ok(dev);

    // TorchScript memoizes device objects: devs[0] reuses the object of dev.
    assert.equal(objects.get('devs[0]')?.site.start, dev.site.start);
    assert.equal(objects.get('devs[0]')?.reduce.start, dev.reduce.start);
    // One 'cuda:0' string is the device argument and, through BINGET, the str attribute.
    assert.equal(dev.site.op, 'BINUNICODE');
    assert.equal(strings.get('name')?.site.op, 'BINGET');
    assert.equal(strings.get('name')?.site.memoSource?.start, dev.site.start);
    assert.equal(strings.get('sub.dev_str')?.site.memoSource?.start, dev.site.start);
    // The 'cpu' device argument reads the memo entry of the first storage location.
    assert.equal(objects.get('devs[1]')?.site.memoSource?.start, scan.storages[0].site.start);
    assert.equal(objects.get('odev')?.site.start, objects.get('devs[1]')?.site.start);
  });

  test('traced archive records', () => {
    const data = scanRecord(archives.traced, 'traced/data.pkl', 'data');
    assert.deepEqual(data.storages.flatMap((storage) => storage.tensorPaths.map(dotted)).sort(), ['lin.bias', 'lin.weight']);
    assert.equal(data.deviceObjects.length, 0);

    const constants = scanRecord(archives.traced, 'traced/constants.pkl', 'constants');
    assert.equal(constants.storages.length, 1);
    assert.deepEqual(constants.storages[0].tensorPaths, [[0]]);
    assert.equal(constants.storages[0].location, 'cpu');

    const inputs = scanRecord(archives.traced, 'traced/traced_inputs.pkl', 'traced_inputs');
    assert.equal(inputs.storages.length, 1);
    assert.deepEqual(inputs.storages[0].tensorPaths, [['forward', 0]]);
  });

  test('mobile bytecode device constants', () => {
    const scan = scanRecord(archives.tracedMobile, 'traced/bytecode.pkl', 'bytecode');

    assert.deepEqual(scan.deviceObjects.map((found) => found.device), archives.tracedGraphDevices);
    for (const found of scan.deviceObjects) {
      assert.equal(found.path[0], '__torch__.Traced.forward');
      assert.equal(found.path[1], 'constants');
    }
    assert.equal(scan.deviceStrings.length, 0);
    assert.equal(scan.operators.length, 0);

    // The tensor constant's storage location reads the memo entry of the device string.
    assert.equal(scan.storages.length, 1);
    assert.equal(scan.storages[0].site.memoSource?.start, scan.deviceObjects[0].site.start);
    assert.equal(scan.storages[0].key, '0.storage');
  });

  test('mobile bytecode two-argument device', () => {
    const scan = scanRecord(archives.twoArgumentMobile, 'two_argument/bytecode.pkl', 'bytecode');

    assert.equal(scan.operators.length, 1);
    assert.equal(scan.operators[0].name, 'aten::device');
    assert.equal(scan.operators[0].overload, 'with_index');
    assert.equal(scan.operators[0].method, '__torch__.TwoArgument.forward');
    assert.deepEqual(scan.deviceStrings.map((found) => found.value), ['cuda']);
    assert.equal(scan.deviceStrings[0].path[1], 'constants');
  });

  test('checkpoint devices and storages', () => {
    const scan = scanRecord(archives.checkpoint, 'checkpoint/data.pkl', 'checkpoint');

    assert.deepEqual(scan.deviceObjects.map((found) => [dotted(found.path), found.device, found.value, found.index]), [
      ['two', 'cuda:1', 'cuda', 1],
      ['plain', 'cpu', 'cpu', undefined],
    ]);
    assert.deepEqual(scan.storages.map((storage) => storage.tensorPaths.map(dotted)), [['weights'], ['param']]);
    assert.deepEqual(scan.deviceStrings.map((found) => [dotted(found.path), found.value]), [['device_name', 'cuda:0']]);
  });

  test('checkpoint with numpy and builtins', () => {
    const scan = scanRecord(archives.mixedCheckpoint, 'mixed/data.pkl', 'checkpoint');

    assert.deepEqual(scan.storages.map((storage) => [storage.tensorPaths.map(dotted), storage.storageType, storage.location]), [
      [['quantized'], 'torch.QInt8Storage', 'cpu'],
      // The sparse tensor's indices and values sit in a tuple argument of _rebuild_sparse_tensor.
      [['sparse[0]'], 'torch.LongStorage', 'cpu'],
      [['sparse[1]'], 'torch.FloatStorage', 'cpu'],
    ]);
    assert.equal(scan.deviceObjects.length, 0);
    assert.equal(scan.deviceStrings.length, 0);
  });
});

describe('scanPickleDevices on real archives', () => {
  test('d2go constants storages', () => {
    const file = path.join(realFixtures, 'd2go_optimized.pt');
    const scan = scanRecord(file, 'd2go_optimized/constants.pkl', 'constants');

    assert.ok(scan.storages.length > 100, `found ${scan.storages.length} storages`);
    assert.ok(scan.storages.every((storage) => storage.location === 'cpu'));
    const keys = scan.storages.map((storage) => storage.key);
    assert.equal(new Set(keys).size, keys.length, 'storage keys are unique');

    const records = new Set(listZipRecords(file));
    for (const key of keys) assert.ok(records.has(`d2go_optimized/constants/${key}`), `record for storage ${key}`);
  });

  test('every real pickle scans', () => {
    for (const name of fs.readdirSync(realFixtures).filter((entry) => entry.endsWith('.pt'))) {
      const file = path.join(realFixtures, name);
      for (const record of listZipRecords(file).filter((entry) => /\/(data|constants)\.pkl$/.test(entry))) {
        const scan = scanRecord(file, record, record.endsWith('constants.pkl') ? 'constants' : 'data');
        assert.equal(scan.deviceObjects.length, 0, `${name} ${record}`);
      }
    }
  });
});

describe('scanPickleDevices details', () => {
  const where = { file: 'model.pt', record: 'data.pkl' };

  test('cyclic list scans once', () => {
    // PROTO 2, EMPTY_LIST, BINPUT 0, BINUNICODE 'cuda:1', APPEND, BINGET 0, APPEND, STOP
    const data = Buffer.concat([Buffer.from([0x80, 0x02, 0x5d, 0x71, 0, 0x58, 6, 0, 0, 0]), Buffer.from('cuda:1'), Buffer.from([0x61, 0x68, 0, 0x61, 0x2e])]);
    const scan = scanPickleDevices(readPickle(data, where), 'checkpoint');
    assert.deepEqual(scan.deviceStrings.map((found) => [found.value, found.path]), [['cuda:1', [0]]]);
  });

  test('non-device strings stay silent', () => {
    // A tuple of strings that are close to devices but not in PyTorch's grammar.
    const strings = ['cuda:01', 'CUDA', 'gpu', 'cuda:', 'cpu ', 'device', ''];
    const parts = [Buffer.from([0x80, 0x02, 0x28])];
    for (const text of strings) {
      const payload = Buffer.from(text);
      parts.push(Buffer.from([0x58, payload.length, 0, 0, 0]), payload);
    }
    parts.push(Buffer.from([0x74, 0x2e]));
    const scan = scanPickleDevices(readPickle(Buffer.concat(parts), where), 'checkpoint');
    assert.equal(scan.deviceStrings.length, 0);
  });
});
