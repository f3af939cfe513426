import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { EngineError } from '../../server/src/errors';
import {
  encodeCentralHeader,
  encodeDataDescriptor,
  encodeEndRecords,
  encodeLocalHeader,
  type RecordLayout,
} from '../../server/src/archive/zipFormat';
import { ZipReader } from '../../server/src/archive/zipReader';
import { ZipWriter } from '../../server/src/archive/zipWriter';
import {
  inspectZipWithPython,
  makeTempDir,
  realFixture,
  realFixtureNames,
  runPython,
  torchArchives,
  torchPython,
} from './helpers/zipFixtures';

let temp: { dir: string; remove: () => void };
before(() => {
  temp = makeTempDir('zip-writer');
});
after(() => temp.remove());

type RecordChoice = 'raw' | 'stored' | 'compressed';

/**
 * Writes every record of `sourcePath` to a new archive in the same order. `choose` decides per
 * record whether it is copied raw or re-added from its decompressed bytes with addRecord.
 */
async function rewrite(sourcePath: string, outputName: string, choose: (entry: { method: number }) => RecordChoice): Promise<string> {
  const outputPath = path.join(temp.dir, outputName);
  const reader = await ZipReader.open(sourcePath);
  const writer = await ZipWriter.create(outputPath);
  try {
    for (const entry of reader.entries) {
      const choice = choose(entry);
      if (choice === 'raw') {
        await writer.addRawRecord(entry.name, { reader, entry });
      } else {
        await writer.addRecord(entry.name, await reader.readRecord(entry), { compress: choice === 'compressed' });
      }
    }
    await writer.finish();
  } finally {
    await writer.abort();
    await reader.close();
  }
  return outputPath;
}

function assertSameBytes(actualPath: string, expectedPath: string): void {
  const actual = fs.readFileSync(actualPath);
  const expected = fs.readFileSync(expectedPath);
  assert.equal(actual.length, expected.length, 'file size');
  const firstDifference = actual.findIndex((byte, index) => byte !== expected[index]);
  assert.equal(firstDifference, -1, `first differing byte at offset ${firstDifference}`);
}

/** Checks the written archive with Python's zipfile: CRCs, aligned data, same content as the source. */
function assertValidLikeSource(writtenPath: string, sourcePath: string): void {
  const written = inspectZipWithPython(writtenPath);
  const source = inspectZipWithPython(sourcePath);
  assert.equal(written.badRecord, null, 'Python zipfile finds no CRC error');
  assert.deepEqual(written.entries.map((entry) => entry.name), source.entries.map((entry) => entry.name));
  for (const [index, entry] of written.entries.entries()) {
    assert.equal(entry.dataOffset % 64, 0, `${entry.name} data starts at a multiple of 64`);
    assert.equal(entry.sha256, source.entries[index].sha256, `${entry.name} content`);
    assert.equal(entry.crc32, source.entries[index].crc32, `${entry.name} CRC`);
  }
}

const LOAD_SCRIPT = `
import sys, warnings
import torch
from torch.jit.mobile import _load_for_lite_interpreter
warnings.simplefilter('ignore')
arguments = sys.argv[1:]
for kind, original_path, rewritten_path in zip(arguments[0::3], arguments[1::3], arguments[2::3]):
    load = _load_for_lite_interpreter if kind == 'mobile' else torch.jit.load
    original, rewritten = load(original_path), load(rewritten_path)
    if kind != 'mobile':
        assert original.code == rewritten.code, rewritten_path + ': code differs'
        assert original.state_dict().keys() == rewritten.state_dict().keys(), rewritten_path
        for key, value in original.state_dict().items():
            assert torch.equal(value, rewritten.state_dict()[key]), rewritten_path + ': ' + key
    if kind in ('run', 'mobile'):
        x = torch.randn(2, 4, generator=torch.Generator().manual_seed(1))
        assert torch.equal(original(x), rewritten(x)), rewritten_path + ': outputs differ'
    print('loaded', rewritten_path)
`;

/**
 * Loads each rewritten archive next to its original in one torch process and compares code,
 * parameters and buffers; 'run' and 'mobile' archives also run forward on the same input.
 */
function assertTorchLoadsAlike(pairs: { kind: 'run' | 'mobile' | 'code'; original: string; rewritten: string }[]): void {
  const output = runPython(torchPython(), LOAD_SCRIPT, pairs.flatMap((pair) => [pair.kind, pair.original, pair.rewritten]));
  assert.deepEqual(output.trim().split('\n'), pairs.map((pair) => `loaded ${pair.rewritten}`));
}

describe('ZipWriter reproduces PyTorch archives', () => {
  for (const name of realFixtureNames) {
    test(`raw copy of ${name} is byte-identical`, async () => {
      const copy = await rewrite(realFixture(name), `raw-${name}`, () => 'raw');
      assertSameBytes(copy, realFixture(name));
    });
  }

  test('raw copies of torch 2.13 archives are byte-identical', async () => {
    const archives = torchArchives();
    for (const [kind, filePath] of Object.entries(archives)) {
      if (kind === 'legacyPickle') continue;
      const copy = await rewrite(filePath, `raw-${path.basename(filePath)}`, () => 'raw');
      assertSameBytes(copy, filePath);
    }
  });

  test('addRecord writes stored records byte-identically', async () => {
    // Deflated records are copied raw because zlib and miniz produce different deflate streams.
    const archives = torchArchives();
    const sources = [archives.traced, archives.scripted, archives.mobile, archives.checkpoint, archives.torchPackage, archives.exportedProgram, realFixture('identity.pt'), realFixture('d2go_optimized.pt')];
    for (const filePath of sources) {
      const copy = await rewrite(filePath, `stored-${path.basename(filePath)}`, (entry) => (entry.method === 8 ? 'raw' : 'stored'));
      assertSameBytes(copy, filePath);
    }
  });

  test('recompressed archives load in torch', async () => {
    const archives = torchArchives();
    const sources: { kind: 'run' | 'mobile' | 'code'; original: string }[] = [
      { kind: 'run', original: archives.traced },
      { kind: 'run', original: archives.scripted },
      { kind: 'mobile', original: archives.mobile },
      { kind: 'code', original: realFixture('identity.pt') },
      { kind: 'code', original: realFixture('foo.pt') },
      { kind: 'code', original: realFixture('foo3.pt') },
    ];
    const pairs = [];
    for (const { kind, original } of sources) {
      const rewritten = await rewrite(original, `recompressed-${path.basename(original)}`, (entry) => (entry.method === 8 ? 'compressed' : 'stored'));
      assertValidLikeSource(rewritten, original);
      pairs.push({ kind, original, rewritten });
    }
    assertTorchLoadsAlike(pairs);
  });

  test('d2go with every record recompressed passes zipfile', async () => {
    // Loading d2go needs torchvision's nms op, so only the container is checked here.
    const source = realFixture('d2go_optimized.pt');
    const copy = await rewrite(source, 'recompressed-d2go.pt', (entry) => (entry.method === 8 ? 'compressed' : 'stored'));
    assertValidLikeSource(copy, source);
  });
});

describe('ZipWriter record layout', () => {
  test('small and empty records', async () => {
    const filePath = path.join(temp.dir, 'small.pt');
    const writer = await ZipWriter.create(filePath);
    await writer.addRecord('model/version', Buffer.from('3\n'), { compress: true });
    await writer.addRecord('model/code/empty.py', Buffer.alloc(0), { compress: true });
    await writer.addRecord('model/code/short.py', Buffer.from('x = 1\n'), { compress: true });
    await writer.addRecord('model/data/0', Buffer.alloc(0), { compress: false });
    await writer.finish();

    const python = inspectZipWithPython(filePath);
    assert.equal(python.badRecord, null);
    const [version, empty, short, emptyStored] = python.entries;
    assert.equal(version.method, 0, 'records of 3 bytes or fewer are stored even when compression is requested');
    assert.equal(version.flags, 0x0808);
    assert.equal(empty.method, 0);
    assert.equal(empty.flags, 0x0800, 'empty records have no data descriptor flag');
    assert.equal(short.method, 8);
    assert.equal(emptyStored.flags, 0x0800);
    for (const entry of python.entries) assert.equal(entry.dataOffset % 64, 0);
    // Without a data descriptor the next local header starts right at the empty record's data offset.
    assert.equal(short.localHeaderOffset, empty.dataOffset);
    assert.equal(version.dataOffset + 2 + 16, empty.localHeaderOffset, 'a 16-byte data descriptor follows a small record');
  });

  test('large record written through the buffer', async () => {
    const filePath = path.join(temp.dir, 'large.pt');
    const tensor = Buffer.alloc(3 * 1024 * 1024 + 17);
    for (let index = 0; index < tensor.length; index++) tensor[index] = (index * 7919) % 251;
    const writer = await ZipWriter.create(filePath);
    await writer.addRecord('model/data/0', Buffer.from('small'), { compress: false });
    await writer.addRecord('model/data/1', tensor, { compress: false });
    await writer.addRecord('model/data/2', tensor, { compress: true });
    await writer.finish();

    const reader = await ZipReader.open(filePath);
    try {
      assert.ok((await reader.readRecord(reader.entries[1])).equals(tensor));
      assert.ok((await reader.readRecord(reader.entries[2])).equals(tensor));
      assert.equal(reader.entries[2].method, 8);
    } finally {
      await reader.close();
    }
    assert.equal(inspectZipWithPython(filePath).badRecord, null);
  });

  test('records may be renamed into another top folder', async () => {
    const source = realFixture('identity.pt');
    const filePath = path.join(temp.dir, 'renamed.pt');
    const reader = await ZipReader.open(source);
    const writer = await ZipWriter.create(filePath);
    for (const entry of reader.entries) await writer.addRawRecord(`renamed/${reader.recordName(entry)}`, { reader, entry });
    await writer.finish();
    await reader.close();
    assert.equal(inspectZipWithPython(filePath).badRecord, null);
    assertTorchLoadsAlike([{ kind: 'code', original: source, rewritten: filePath }]);
  });
});

describe('zip64 headers match PyTorch 2.13', () => {
  // Bytes from an archive that torch 2.13 wrote for a module with a uint8 buffer of 2^32 + 100
  // bytes: record data/0 needs zip64 sizes, record data/1 (40 bytes) a zip64 offset.
  const hugeRecord: RecordLayout = {
    nameBytes: Buffer.from('big/data/0'),
    method: 0,
    crc32: 0x5e31cb4f,
    compressedSize: 2 ** 32 + 100,
    uncompressedSize: 2 ** 32 + 100,
    localHeaderOffset: 0,
    externalAttributes: 0,
  };
  const recordPastFourGiB: RecordLayout = {
    nameBytes: Buffer.from('big/data/1'),
    method: 0,
    crc32: 0xe6a5e769,
    compressedSize: 40,
    uncompressedSize: 40,
    localHeaderOffset: 2 ** 32 + 188,
    externalAttributes: 0,
  };

  test('local headers', () => {
    assert.equal(
      encodeLocalHeader(hugeRecord).toString('hex'),
      '504b0304000008080000000000000000000000000000000000000a0018006269672f646174612f30010010006400000001000000000000000000000046420000',
    );
    assert.equal(
      encodeLocalHeader(recordPastFourGiB).toString('hex'),
      '504b0304000008080000000000000000000000000000000000000a001c006269672f646174612f3101000800bc0000000100000046420c005a5a5a5a5a5a5a5a5a5a5a5a',
    );
  });

  test('data descriptors', () => {
    assert.equal(encodeDataDescriptor(hugeRecord).toString('hex'), '504b07084fcb315e64000000010000006400000001000000');
    assert.equal(encodeDataDescriptor(recordPastFourGiB).toString('hex'), '504b070869e7a5e628000000000000002800000000000000');
  });

  test('central directory entries', () => {
    assert.equal(
      encodeCentralHeader(hugeRecord).toString('hex'),
      '504b01020000000008080000000000004fcb315effffffffffffffff0a00140000000000000000000000000000006269672f646174612f300100100064000000010000006400000001000000',
    );
    assert.equal(
      encodeCentralHeader(recordPastFourGiB).toString('hex'),
      '504b010200000000080800000000000069e7a5e628000000280000000a000c0000000000000000000000ffffffff6269672f646174612f3101000800bc00000001000000',
    );
  });

  test('end records with the central directory past 4 GiB', () => {
    assert.equal(
      encodeEndRecords(9, 0x1000007c0, 0x2a9).toString('hex'),
      '504b06062c000000000000001e032d00000000000000000009000000000000000900000000000000a902000000000000c007000001000000' +
        '504b060700000000690a00000100000001000000' +
        '504b05060000000009000900a9020000ffffffff0000',
    );
  });

  test('archive over 4 GiB written by torch', { skip: process.env.TSD_LARGE_TESTS !== '1' && 'set TSD_LARGE_TESTS=1 to run (writes about 8.6 GB)', timeout: 600_000 }, async () => {
    const largeTemp = makeTempDir('zip64');
    try {
      const source = path.join(largeTemp.dir, 'big.pt');
      runPython(torchPython(), `
import sys, torch
class Big(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer('big', torch.ones(2**32 + 100, dtype=torch.uint8))
        self.register_buffer('small', torch.arange(10, dtype=torch.float32))
    def forward(self, x):
        return x + self.small[0]
torch.jit.save(torch.jit.trace(Big(), torch.zeros(1)), sys.argv[1])
`, [source], { timeoutMs: 600_000 });

      const started = performance.now();
      const reader = await ZipReader.open(source);
      const dataPickle = reader.findRecord('data.pkl');
      assert.ok(dataPickle);
      assert.ok((await reader.readRecord(dataPickle)).length > 0);
      const elapsedMs = performance.now() - started;
      assert.ok(elapsedMs < 500, `opening and reading data.pkl took ${elapsedMs} ms`);

      const python = inspectZipWithPython(source, { hashData: false });
      assert.deepEqual(reader.entries.map((entry) => [entry.name, entry.compressedSize, entry.uncompressedSize, entry.localHeaderOffset]),
        python.entries.map((entry) => [entry.name, entry.compressedSize, entry.uncompressedSize, entry.localHeaderOffset]));
      assert.equal(reader.entries[0].uncompressedSize, 2 ** 32 + 100);
      assert.ok(reader.entries[1].localHeaderOffset > 2 ** 32);

      const copy = path.join(largeTemp.dir, 'copy.pt');
      const writer = await ZipWriter.create(copy);
      for (const entry of reader.entries) await writer.addRawRecord(entry.name, { reader, entry });
      await writer.finish();
      await reader.close();
      assertSameLargeFiles(copy, source);
    } finally {
      largeTemp.remove();
    }
  });
});

/** Compares two files in 16 MiB chunks, for files too large to hold in memory. */
function assertSameLargeFiles(actualPath: string, expectedPath: string): void {
  assert.equal(fs.statSync(actualPath).size, fs.statSync(expectedPath).size, 'file size');
  const actual = fs.openSync(actualPath, 'r');
  const expected = fs.openSync(expectedPath, 'r');
  const chunk = 16 * 1024 * 1024;
  const left = Buffer.alloc(chunk);
  const right = Buffer.alloc(chunk);
  try {
    for (let position = 0; ; position += chunk) {
      const leftRead = fs.readSync(actual, left, 0, chunk, position);
      const rightRead = fs.readSync(expected, right, 0, chunk, position);
      assert.equal(leftRead, rightRead);
      if (leftRead === 0) break;
      assert.ok(left.subarray(0, leftRead).equals(right.subarray(0, rightRead)), `bytes differ in the chunk at offset ${position}`);
    }
  } finally {
    fs.closeSync(actual);
    fs.closeSync(expected);
  }
}

describe('ZipWriter rejects bad input', () => {
  async function expectEngineError(action: () => Promise<unknown>, filePath: string, pattern: RegExp): Promise<EngineError> {
    let caught: unknown;
    try {
      await action();
    } catch (error) {
      caught = error;
    }
    assert.ok(caught instanceof EngineError, `expected an EngineError, got ${String(caught)}`);
    assert.equal(caught.file, filePath);
    assert.match(caught.message, pattern);
    return caught;
  }

  const badNames: [string, RegExp][] = [
    ['model/../evil.py', /invalid record name: the name contains a "\.\." segment/],
    ['/model/data.pkl', /absolute path/],
    ['model\\data.pkl', /backslash/],
    ['data.pkl', /not in a folder/],
    ['other/data.pkl', /outside the top folder "model\/"/],
    ['model/DATA.PKL', /already written/],
  ];
  for (const [name, pattern] of badNames) {
    test(`record name ${JSON.stringify(name)}`, async () => {
      const filePath = path.join(temp.dir, 'bad-name.pt');
      const writer = await ZipWriter.create(filePath);
      await writer.addRecord('model/data.pkl', Buffer.from('pickle'), { compress: false });
      const error = await expectEngineError(() => writer.addRecord(name, Buffer.from('x'), { compress: false }), filePath, pattern);
      assert.equal(error.record, JSON.stringify(name));
      await assert.rejects(writer.finish(), /is failed/, 'a failed writer refuses further calls');
      await writer.abort();
    });
  }

  test('finish without records', async () => {
    const filePath = path.join(temp.dir, 'no-records.pt');
    const writer = await ZipWriter.create(filePath);
    await expectEngineError(() => writer.finish(), filePath, /without records/);
  });

  test('missing output folder', async () => {
    const filePath = path.join(temp.dir, 'missing', 'out.pt');
    await expectEngineError(() => ZipWriter.create(filePath), filePath, /output folder does not exist/);
  });

  test('output path is a folder', async () => {
    await expectEngineError(() => ZipWriter.create(temp.dir), temp.dir, /output path is a folder/);
  });

  test('full disk', { skip: !fs.existsSync('/dev/full') && 'needs /dev/full (Linux)' }, async () => {
    // Writes to /dev/full fail with ENOSPC, exactly as on a full disk.
    const writer = await ZipWriter.create('/dev/full');
    const error = await expectEngineError(
      () => writer.addRecord('model/data/0', Buffer.alloc(2 * 1024 * 1024), { compress: false }),
      '/dev/full',
      /no space left on the device; free some space or choose another folder/,
    );
    assert.equal(error.offset, 0);
  });

  test('full disk found at finish', { skip: !fs.existsSync('/dev/full') && 'needs /dev/full (Linux)' }, async () => {
    const writer = await ZipWriter.create('/dev/full');
    await writer.addRecord('model/data.pkl', Buffer.from('small records stay in the buffer'), { compress: false });
    await expectEngineError(() => writer.finish(), '/dev/full', /no space left on the device/);
  });

  test('calls after finish', async () => {
    const filePath = path.join(temp.dir, 'finished.pt');
    const writer = await ZipWriter.create(filePath);
    await writer.addRecord('model/data.pkl', Buffer.from('pickle'), { compress: false });
    await writer.finish();
    await assert.rejects(writer.addRecord('model/version', Buffer.from('3\n'), { compress: false }), /is finished/);
    await writer.abort();
    assert.equal(inspectZipWithPython(filePath).badRecord, null);
  });

  test('overlapping calls', async () => {
    const filePath = path.join(temp.dir, 'overlap.pt');
    const writer = await ZipWriter.create(filePath);
    const first = writer.addRecord('model/data/0', Buffer.alloc(1000), { compress: true });
    await assert.rejects(writer.addRecord('model/data/1', Buffer.alloc(10), { compress: false }), /busy/);
    await first;
    await writer.abort();
  });
});
