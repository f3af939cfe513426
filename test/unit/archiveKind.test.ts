import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { detectArchiveKind, type ArchiveDetection } from '../../server/src/archive/archiveKind';
import { readFileHead, startsLikeZip, ZipReader } from '../../server/src/archive/zipReader';
import { EngineError } from '../../server/src/errors';
import { makeTempDir, realFixture, textHex, torchArchives, writeZipWithPython } from './helpers/zipFixtures';

/** Detects a file the way a caller does: opens it as a zip only when its first bytes start like one. */
async function detectFile(filePath: string): Promise<ArchiveDetection> {
  const head = await readFileHead(filePath);
  if (!startsLikeZip(head)) return detectArchiveKind(null, head);
  const reader = await ZipReader.open(filePath);
  try {
    return await detectArchiveKind(reader, head);
  } finally {
    await reader.close();
  }
}

let temp: { dir: string; remove: () => void };
before(() => {
  temp = makeTempDir('archive-kind');
});
after(() => temp.remove());

describe('detectArchiveKind on files written by torch 2.13', () => {
  const cases: [keyof ReturnType<typeof torchArchives>, ArchiveDetection['kind'], number | undefined, RegExp][] = [
    ['traced', 'torchscript', 3, /data\.pkl, code\/ records and constants\.pkl/],
    ['scripted', 'torchscript', 3, /TorchScript module/],
    ['mobile', 'mobile', 3, /bytecode\.pkl/],
    ['checkpoint', 'checkpoint', 3, /torch\.save checkpoint/],
    ['torchPackage', 'torch-package', 6, /torch\.package/],
    ['exportedProgram', 'exported-program', 6, /torch\.export\.save/],
    ['legacyPickle', 'raw-pickle', undefined, /legacy \(non-zip\) torch\.save format/],
  ];
  for (const [name, kind, formatVersion, reason] of cases) {
    test(`${name} is ${kind}`, async () => {
      const detection = await detectFile(torchArchives()[name]);
      assert.equal(detection.kind, kind);
      assert.equal(detection.formatVersion, formatVersion);
      assert.match(detection.reason, reason);
    });
  }
});

describe('detectArchiveKind on real archives', () => {
  const cases: [string, number][] = [
    ['identity.pt', 3],
    ['d2go_optimized.pt', 5],
    ['foo.pt', 3],
    ['foo8.pt', 3],
  ];
  for (const [name, formatVersion] of cases) {
    test(`${name} is torchscript version ${formatVersion}`, async () => {
      const detection = await detectFile(realFixture(name));
      assert.equal(detection.kind, 'torchscript');
      assert.equal(detection.formatVersion, formatVersion);
    });
  }
});

describe('detectArchiveKind on other files', () => {
  test('legacy model.json layout', async () => {
    // torch 2.13 no longer writes this format, so the zip reproduces the PyTorch 1.0 record names.
    const filePath = path.join(temp.dir, 'legacy-json.pt');
    writeZipWithPython(filePath, [
      { name: 'model/version', hex: textHex('1') },
      { name: 'model/model.json', hex: textHex('{"protoVersion": "2", "mainModule": {}}') },
      { name: 'model/code/model.py', hex: textHex('op_version_set = 0\ndef forward(self, x):\n  return x\n') },
      { name: 'model/tensors/0', hex: '00000000' },
    ]);
    const detection = await detectFile(filePath);
    assert.equal(detection.kind, 'legacy-model-json');
    assert.equal(detection.formatVersion, 1);
  });

  test('pickle with protocol 4', async () => {
    const filePath = path.join(temp.dir, 'protocol4.pkl');
    fs.writeFileSync(filePath, Buffer.from('80049505000000000000004b2a2e', 'hex'));
    const detection = await detectFile(filePath);
    assert.equal(detection.kind, 'raw-pickle');
    assert.match(detection.reason, /raw pickle \(protocol 4\)/);
  });

  test('zip without PyTorch records', async () => {
    const filePath = path.join(temp.dir, 'docs.zip');
    writeZipWithPython(filePath, [{ name: 'docs/readme.txt', hex: textHex('hello') }]);
    const detection = await detectFile(filePath);
    assert.equal(detection.kind, 'not-pytorch');
    assert.equal(detection.formatVersion, undefined);
    assert.match(detection.reason, /PyTorch cannot load it/);
  });

  test('TorchScript without constants.pkl', async () => {
    const filePath = path.join(temp.dir, 'no-constants.pt');
    writeZipWithPython(filePath, [
      { name: 'model/data.pkl', hex: '80022e' },
      { name: 'model/code/__torch__.py', hex: textHex('class M:\n  pass\n') },
      { name: 'model/.data/version', hex: textHex('6\n') },
    ]);
    const detection = await detectFile(filePath);
    assert.equal(detection.kind, 'torchscript');
    assert.equal(detection.formatVersion, 6);
    assert.match(detection.reason, /no constants\.pkl, which torch\.jit\.load requires/);
  });

  test('random bytes', async () => {
    const filePath = path.join(temp.dir, 'random.bin');
    const bytes = crypto.randomBytes(4096);
    bytes[0] = 0x13;
    fs.writeFileSync(filePath, bytes);
    const detection = await detectFile(filePath);
    assert.equal(detection.kind, 'not-pytorch');
    assert.match(detection.reason, /first bytes are 13 /);
  });

  test('empty file', async () => {
    const filePath = path.join(temp.dir, 'empty.pt');
    fs.writeFileSync(filePath, '');
    assert.deepEqual(await detectFile(filePath), { kind: 'not-pytorch', reason: 'empty file' });
  });

  test('zip head without a reader', async () => {
    const head = await readFileHead(realFixture('identity.pt'));
    await assert.rejects(detectArchiveKind(null, head), /needs an open ZipReader/);
  });

  test('invalid version record', async () => {
    const filePath = path.join(temp.dir, 'bad-version.pt');
    writeZipWithPython(filePath, [
      { name: 'model/data.pkl', hex: '80022e' },
      { name: 'model/code/__torch__.py', hex: textHex('class M:\n  pass\n') },
      { name: 'model/version', hex: textHex('three') },
    ]);
    await assert.rejects(detectFile(filePath), (error: unknown) => {
      assert.ok(error instanceof EngineError);
      assert.equal(error.file, filePath);
      assert.equal(error.record, 'model/version');
      assert.match(error.message, /invalid version record "three": expected a decimal number/);
      return true;
    });
  });

  test('oversized version record', async () => {
    const filePath = path.join(temp.dir, 'long-version.pt');
    writeZipWithPython(filePath, [
      { name: 'model/data.pkl', hex: '80022e' },
      { name: 'model/version', hex: textHex('3'.repeat(100)) },
    ]);
    await assert.rejects(detectFile(filePath), /record model\/version, offset \d+: version record is 100 bytes/);
  });
});
