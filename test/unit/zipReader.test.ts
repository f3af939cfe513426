import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as zlib from 'node:zlib';
import { EngineError } from '../../server/src/errors';
import { readFileHead, startsLikeZip, ZipReader } from '../../server/src/archive/zipReader';
import {
  inspectZipWithPython,
  makeTempDir,
  realFixture,
  realFixtureNames,
  textHex,
  torchArchives,
  writeZipWithPython,
} from './helpers/zipFixtures';

const sha256 = (data: Buffer): string => crypto.createHash('sha256').update(data).digest('hex');

/** Asserts that opening (or the given read) fails with an EngineError naming the file and matching `pattern`. */
async function assertEngineError(action: () => Promise<unknown>, filePath: string, pattern: RegExp): Promise<EngineError> {
  let caught: unknown;
  try {
    const result = await action();
    if (result instanceof ZipReader) await result.close();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof EngineError, `expected an EngineError, got ${String(caught)}`);
  assert.equal(caught.file, filePath);
  assert.match(caught.message, pattern);
  assert.ok(caught.message.startsWith(filePath), 'the message starts with the file path');
  return caught;
}

let temp: { dir: string; remove: () => void };
before(() => {
  temp = makeTempDir('zip-reader');
});
after(() => temp.remove());

/** Copies a real fixture into the temp folder, applies `patch` to its bytes and returns the path. */
function patchedCopy(fixture: string, name: string, patch: (bytes: Buffer) => Buffer): string {
  const target = path.join(temp.dir, name);
  fs.writeFileSync(target, patch(fs.readFileSync(realFixture(fixture))));
  return target;
}

function zip64EndOffset(bytes: Buffer): number {
  return bytes.lastIndexOf(Buffer.from('PK\x06\x06', 'latin1'));
}

/** Finds the central directory entry of `recordName` in a PyTorch archive's bytes. */
function centralEntryOffset(bytes: Buffer, recordName: string): number {
  const needle = Buffer.from('PK\x01\x02', 'latin1');
  for (let position = bytes.indexOf(needle); position >= 0; position = bytes.indexOf(needle, position + 1)) {
    const nameLength = bytes.readUInt16LE(position + 28);
    if (bytes.subarray(position + 46, position + 46 + nameLength).toString('utf8') === recordName) return position;
  }
  throw new Error(`no central directory entry for ${recordName}`);
}

/**
 * Rebuilds a PyTorch archive's central directory with 0xFFFFFFFF in every size and offset
 * field and the values in a zip64 extended information field, then fixes the end records.
 */
function moveSizesToZip64Extra(bytes: Buffer): Buffer {
  const zip64End = zip64EndOffset(bytes);
  const directoryOffset = Number(bytes.readBigUInt64LE(zip64End + 48));
  const entries: Buffer[] = [];
  for (let position = directoryOffset; position < zip64End;) {
    const nameLength = bytes.readUInt16LE(position + 28);
    const header = Buffer.from(bytes.subarray(position, position + 46 + nameLength));
    const extra = Buffer.alloc(28);
    extra.writeUInt16LE(0x0001, 0);
    extra.writeUInt16LE(24, 2);
    extra.writeBigUInt64LE(BigInt(header.readUInt32LE(24)), 4);
    extra.writeBigUInt64LE(BigInt(header.readUInt32LE(20)), 12);
    extra.writeBigUInt64LE(BigInt(header.readUInt32LE(42)), 20);
    header.writeUInt32LE(0xffffffff, 20);
    header.writeUInt32LE(0xffffffff, 24);
    header.writeUInt32LE(0xffffffff, 42);
    header.writeUInt16LE(extra.length, 30);
    entries.push(header, extra);
    position += 46 + nameLength + bytes.readUInt16LE(position + 30) + bytes.readUInt16LE(position + 32);
  }
  const directory = Buffer.concat(entries);
  const endRecords = Buffer.from(bytes.subarray(zip64End));
  const newZip64End = directoryOffset + directory.length;
  endRecords.writeBigUInt64LE(BigInt(directory.length), 40);
  endRecords.writeBigUInt64LE(BigInt(newZip64End), 56 + 8);
  endRecords.writeUInt32LE(directory.length, 56 + 20 + 12);
  return Buffer.concat([bytes.subarray(0, directoryOffset), directory, endRecords]);
}

describe('ZipReader on real PyTorch archives', () => {
  for (const name of realFixtureNames) {
    test(`entries of ${name} match Python zipfile`, async () => {
      const filePath = realFixture(name);
      const python = inspectZipWithPython(filePath);
      const reader = await ZipReader.open(filePath);
      try {
        assert.equal(reader.size, fs.statSync(filePath).size);
        assert.equal(reader.filePath, filePath);
        assert.equal(reader.entries.length, python.entries.length);
        for (const [index, expected] of python.entries.entries()) {
          const entry = reader.entries[index];
          assert.deepEqual(entry, {
            name: expected.name,
            method: expected.method,
            flags: expected.flags,
            crc32: expected.crc32,
            compressedSize: expected.compressedSize,
            uncompressedSize: expected.uncompressedSize,
            localHeaderOffset: expected.localHeaderOffset,
          });
          assert.equal(await reader.dataOffset(entry), expected.dataOffset, `data offset of ${entry.name}`);
          assert.equal(expected.dataOffset % 64, 0, `${entry.name} data is 64-byte aligned`);
          const data = await reader.readRecord(entry);
          assert.equal(data.length, expected.uncompressedSize);
          assert.equal(sha256(data), expected.sha256, `content of ${entry.name}`);
          assert.equal(zlib.crc32(data), expected.crc32, `CRC of ${entry.name}`);
        }
      } finally {
        await reader.close();
      }
    });
  }

  test('top folder and record names', async () => {
    const reader = await ZipReader.open(realFixture('identity.pt'));
    try {
      assert.equal(reader.topFolder, 'identity');
      assert.deepEqual(reader.entries.map((entry) => reader.recordName(entry)), [
        'data.pkl',
        'code/__torch__.py',
        'code/__torch__.py.debug_pkl',
        'constants.pkl',
        'version',
        'byteorder',
        '.data/serialization_id',
      ]);
    } finally {
      await reader.close();
    }
  });

  test('findRecord ignores ASCII case like miniz', async () => {
    const reader = await ZipReader.open(realFixture('d2go_optimized.pt'));
    try {
      const exact = reader.findRecord('constants.pkl');
      assert.ok(exact);
      assert.equal(exact.name, 'd2go_optimized/constants.pkl');
      assert.equal(reader.findRecord('CONSTANTS.PKL'), exact);
      assert.equal(reader.findRecord('Code/__torch__/___torch_mangle_636.py')?.name, 'd2go_optimized/code/__torch__/___torch_mangle_636.py');
      assert.equal(reader.findRecord('missing.pkl'), undefined);
      assert.equal(reader.findRecord('d2go_optimized/constants.pkl'), undefined, 'names are given without the top folder');
    } finally {
      await reader.close();
    }
  });

  test('raw chunks reassemble the stored bytes', async () => {
    const reader = await ZipReader.open(realFixture('d2go_optimized.pt'));
    const whole = fs.readFileSync(realFixture('d2go_optimized.pt'));
    try {
      const deflated = reader.entries.find((entry) => entry.method === 8 && entry.compressedSize > 5000);
      const stored = reader.entries.find((entry) => entry.method === 0 && entry.compressedSize > 5000);
      const empty = reader.entries.find((entry) => entry.compressedSize === 0);
      assert.ok(deflated, 'd2go has a deflated record over 5000 bytes');
      assert.ok(stored, 'd2go has a stored record over 5000 bytes');
      assert.ok(empty, 'd2go has an empty record');
      for (const entry of [deflated, stored, empty]) {
        const chunks: Buffer[] = [];
        for await (const chunk of reader.readRawChunks(entry, 1000)) {
          assert.ok(chunk.length <= 1000);
          chunks.push(chunk);
        }
        assert.equal(chunks.length, Math.ceil(entry.compressedSize / 1000));
        const raw = Buffer.concat(chunks);
        const start = await reader.dataOffset(entry);
        assert.ok(raw.equals(whole.subarray(start, start + entry.compressedSize)), `raw bytes of ${entry.name}`);
        const decoded = entry.method === 8 ? zlib.inflateRawSync(raw) : raw;
        assert.ok(decoded.equals(await reader.readRecord(entry)), `decoded bytes of ${entry.name}`);
      }
    } finally {
      await reader.close();
    }
  });

  test('archives written by torch 2.13 match Python zipfile', async () => {
    const archives = torchArchives();
    for (const filePath of [archives.traced, archives.mobile, archives.checkpoint, archives.torchPackage, archives.exportedProgram]) {
      const python = inspectZipWithPython(filePath);
      const reader = await ZipReader.open(filePath);
      try {
        assert.deepEqual(reader.entries.map((entry) => entry.name), python.entries.map((entry) => entry.name));
        for (const [index, entry] of reader.entries.entries()) {
          assert.equal(sha256(await reader.readRecord(entry)), python.entries[index].sha256, `${filePath} ${entry.name}`);
        }
      } finally {
        await reader.close();
      }
    }
  });

  test('zip64 extra fields in the central directory', async () => {
    // Every size and offset moves into a zip64 extra field, as a writer does past 4 GiB.
    const filePath = patchedCopy('identity.pt', 'zip64-extra.pt', moveSizesToZip64Extra);
    const python = inspectZipWithPython(filePath);
    const original = inspectZipWithPython(realFixture('identity.pt'));
    assert.deepEqual(python.entries, original.entries, 'Python reads the same entries from the zip64 fields');
    const reader = await ZipReader.open(filePath);
    try {
      for (const [index, entry] of reader.entries.entries()) {
        assert.equal(entry.compressedSize, original.entries[index].compressedSize);
        assert.equal(entry.uncompressedSize, original.entries[index].uncompressedSize);
        assert.equal(entry.localHeaderOffset, original.entries[index].localHeaderOffset);
        assert.equal(sha256(await reader.readRecord(entry)), original.entries[index].sha256);
      }
    } finally {
      await reader.close();
    }
  });

  test('zip with a comment and no zip64 records', async () => {
    const filePath = path.join(temp.dir, 'commented.zip');
    const comment = 'PK\x05\x06 looks like an end record but sits in the comment';
    writeZipWithPython(filePath, [
      { name: 'model/data.pkl', hex: textHex('pickle bytes') },
      { name: 'model/code/__torch__.py', hex: textHex('def forward(self):\n' + '  pass\n'.repeat(100)), method: 8 },
    ], comment);
    const reader = await ZipReader.open(filePath);
    try {
      assert.equal(reader.topFolder, 'model');
      assert.equal(reader.entries.length, 2);
      assert.equal((await reader.readRecord(reader.entries[0])).toString(), 'pickle bytes');
      assert.match((await reader.readRecord(reader.entries[1])).toString(), /^def forward/);
    } finally {
      await reader.close();
    }
  });

  test('close is idempotent and stops reads', async () => {
    const reader = await ZipReader.open(realFixture('identity.pt'));
    await reader.close();
    await reader.close();
    await assert.rejects(reader.readRecord(reader.entries[0]), /closed/);
  });
});

describe('ZipReader rejects bad input', () => {
  test('empty file', async () => {
    const filePath = path.join(temp.dir, 'empty.pt');
    fs.writeFileSync(filePath, '');
    await assertEngineError(() => ZipReader.open(filePath), filePath, /empty file, not a zip archive/);
  });

  test('directory instead of a file', async () => {
    await assertEngineError(() => ZipReader.open(temp.dir), temp.dir, /is a folder, not a file/);
  });

  test('missing file', async () => {
    const filePath = path.join(temp.dir, 'does-not-exist.pt');
    await assertEngineError(() => ZipReader.open(filePath), filePath, /file not found/);
  });

  test('random bytes', async () => {
    const filePath = path.join(temp.dir, 'random.pt');
    const bytes = crypto.randomBytes(100_000);
    bytes[0] = 0x17;
    fs.writeFileSync(filePath, bytes);
    const error = await assertEngineError(() => ZipReader.open(filePath), filePath, /not a zip archive: the first bytes are 17 /);
    assert.match(error.message, /starts with "PK"/);
  });

  test('raw pickle from legacy torch.save', async () => {
    const filePath = torchArchives().legacyPickle;
    await assertEngineError(() => ZipReader.open(filePath), filePath, /pickle header \(80 02 /);
  });

  test('Git LFS pointer', async () => {
    const filePath = path.join(temp.dir, 'lfs.pt');
    fs.writeFileSync(filePath, 'version https://git-lfs.github.com/spec/v1\noid sha256:4d7a\nsize 2150641\n');
    await assertEngineError(() => ZipReader.open(filePath), filePath, /Git LFS pointer.*git lfs pull/);
  });

  const fullSize = 2150641;
  for (const cut of [30, 30_000, 2_125_100, fullSize - 50, fullSize - 30, fullSize - 10]) {
    test(`d2go archive truncated to ${cut} bytes`, async () => {
      const filePath = patchedCopy('d2go_optimized.pt', `truncated-${cut}.pt`, (bytes) => bytes.subarray(0, cut));
      await assertEngineError(() => ZipReader.open(filePath), filePath, /truncated; download or save it again/);
    });
  }

  test('d2go archive with bytes removed from the middle', async () => {
    const filePath = patchedCopy('d2go_optimized.pt', 'hole.pt', (bytes) => Buffer.concat([bytes.subarray(0, 100_000), bytes.subarray(1_100_000)]));
    const error = await assertEngineError(() => ZipReader.open(filePath), filePath, /zip64 end of central directory locator points outside the file/);
    assert.equal(error.offset, fullSize - 1_000_000 - 42);
  });

  test('central directory offset past the end records', async () => {
    const filePath = patchedCopy('identity.pt', 'directory-outside.pt', (bytes) => {
      const copy = Buffer.from(bytes);
      copy.writeBigUInt64LE(1144n + 100n, zip64EndOffset(copy) + 48);
      return copy;
    });
    const error = await assertEngineError(() => ZipReader.open(filePath), filePath, /central directory \(488 bytes at offset 1244\) lies outside the file/);
    assert.equal(error.offset, 1244);
  });

  test('central directory offset at the wrong place', async () => {
    const filePath = patchedCopy('identity.pt', 'directory-shifted.pt', (bytes) => {
      const copy = Buffer.from(bytes);
      copy.writeBigUInt64LE(1136n, zip64EndOffset(copy) + 48);
      return copy;
    });
    const error = await assertEngineError(() => ZipReader.open(filePath), filePath, /invalid central directory entry 0/);
    assert.equal(error.offset, 1136);
  });

  test('zip64 end record moved by inserted bytes', async () => {
    const filePath = patchedCopy('identity.pt', 'inserted.pt', (bytes) => Buffer.concat([bytes.subarray(0, 1144), Buffer.alloc(8), bytes.subarray(1144)]));
    await assertEngineError(() => ZipReader.open(filePath), filePath, /invalid zip64 end of central directory signature/);
  });

  test('entry count mismatch', async () => {
    const filePath = patchedCopy('identity.pt', 'count.pt', (bytes) => {
      const copy = Buffer.from(bytes);
      copy.writeBigUInt64LE(6n, zip64EndOffset(copy) + 24);
      copy.writeBigUInt64LE(6n, zip64EndOffset(copy) + 32);
      return copy;
    });
    await assertEngineError(() => ZipReader.open(filePath), filePath, /declares 6 entries but the central directory holds 7/);
  });

  test('central directory larger than the limit', async () => {
    const filePath = patchedCopy('identity.pt', 'huge-directory.pt', (bytes) => {
      const copy = Buffer.from(bytes);
      copy.writeBigUInt64LE(100n * 1024n * 1024n, zip64EndOffset(copy) + 40);
      return copy;
    });
    await assertEngineError(() => ZipReader.open(filePath), filePath, /central directory is 104857600 bytes, more than the supported/);
  });

  test('local header offset outside the file', async () => {
    const filePath = patchedCopy('identity.pt', 'local-outside.pt', (bytes) => {
      const copy = Buffer.from(bytes);
      copy.writeUInt32LE(50_000, centralEntryOffset(copy, 'identity/constants.pkl') + 42);
      return copy;
    });
    const reader = await ZipReader.open(filePath);
    try {
      const entry = reader.findRecord('constants.pkl');
      assert.ok(entry);
      const error = await assertEngineError(() => reader.readRecord(entry), filePath, /local header lies outside the file/);
      assert.equal(error.record, 'identity/constants.pkl');
      assert.equal(error.offset, 50_000);
    } finally {
      await reader.close();
    }
  });

  test('local header offset at the wrong place', async () => {
    const filePath = patchedCopy('identity.pt', 'local-wrong.pt', (bytes) => {
      const copy = Buffer.from(bytes);
      copy.writeUInt32LE(64, centralEntryOffset(copy, 'identity/version') + 42);
      return copy;
    });
    const reader = await ZipReader.open(filePath);
    try {
      const entry = reader.findRecord('version');
      assert.ok(entry);
      await assertEngineError(() => reader.dataOffset(entry), filePath, /invalid local header signature/);
    } finally {
      await reader.close();
    }
  });

  test('record data past the end of the file', async () => {
    const filePath = patchedCopy('identity.pt', 'data-outside.pt', (bytes) => {
      const copy = Buffer.from(bytes);
      const entry = centralEntryOffset(copy, 'identity/data.pkl');
      copy.writeUInt32LE(10_000, entry + 20);
      copy.writeUInt32LE(10_000, entry + 24);
      return copy;
    });
    const reader = await ZipReader.open(filePath);
    try {
      await assertEngineError(() => reader.readRecord(reader.entries[0]), filePath, /record data .* lies outside the file/);
    } finally {
      await reader.close();
    }
  });

  test('entry outside the top folder', async () => {
    const filePath = path.join(temp.dir, 'two-folders.pt');
    writeZipWithPython(filePath, [
      { name: 'model/data.pkl', hex: textHex('a') },
      { name: 'other/data.pkl', hex: textHex('b') },
    ]);
    const error = await assertEngineError(() => ZipReader.open(filePath), filePath, /PyTorch requires every record in one top folder/);
    assert.equal(error.record, 'other/data.pkl');
  });

  test('first entry without a folder', async () => {
    const filePath = path.join(temp.dir, 'flat.pt');
    writeZipWithPython(filePath, [{ name: 'data.pkl', hex: textHex('a') }]);
    const error = await assertEngineError(() => ZipReader.open(filePath), filePath, /not in a folder; PyTorch requires every record in one top folder/);
    assert.equal(error.record, 'data.pkl');
  });

  const unsafeNames: [string, RegExp][] = [
    ['model/../evil.py', /"\.\." segment/],
    ['model/code/../../evil.py', /"\.\." segment/],
    ['/etc/model/data.pkl', /absolute path/],
    ['C:/model/data.pkl', /absolute path/],
    ['model\\data.pkl', /backslash/],
  ];
  for (const [name, reason] of unsafeNames) {
    test(`unsafe record name ${JSON.stringify(name)}`, async () => {
      const filePath = path.join(temp.dir, `unsafe-${crypto.createHash('sha256').update(name).digest('hex').slice(0, 12)}.pt`);
      writeZipWithPython(filePath, [
        { name: 'model/data.pkl', hex: textHex('a') },
        { name, hex: textHex('b') },
      ]);
      const error = await assertEngineError(() => ZipReader.open(filePath), filePath, /record name escapes the archive folder/);
      assert.match(error.message, reason);
      assert.equal(error.record, JSON.stringify(name));
    });
  }

  test('record name with a NUL byte', async () => {
    // Python's zipfile cuts names at NUL, so the byte is patched into both headers afterwards.
    const filePath = path.join(temp.dir, 'nul.pt');
    writeZipWithPython(filePath, [
      { name: 'model/data.pkl', hex: textHex('a') },
      { name: 'model/dataX.pkl', hex: textHex('b') },
    ]);
    const bytes = fs.readFileSync(filePath);
    const marker = Buffer.from('model/dataX.pkl');
    let patched = 0;
    for (let position = bytes.indexOf(marker); position >= 0; position = bytes.indexOf(marker, position + 1)) {
      bytes[position + 10] = 0;
      patched++;
    }
    assert.equal(patched, 2);
    fs.writeFileSync(filePath, bytes);
    const error = await assertEngineError(() => ZipReader.open(filePath), filePath, /record name escapes the archive folder: the name contains a NUL character/);
    assert.equal(error.record, JSON.stringify('model/data\0.pkl'));
  });

  test('duplicate names ignoring case', async () => {
    const filePath = path.join(temp.dir, 'duplicate.pt');
    writeZipWithPython(filePath, [
      { name: 'model/data.pkl', hex: textHex('a') },
      { name: 'model/DATA.pkl', hex: textHex('b') },
    ]);
    const error = await assertEngineError(() => ZipReader.open(filePath), filePath, /two records have this name/);
    assert.equal(error.record, 'model/DATA.pkl');
  });

  test('zip without records', async () => {
    const filePath = path.join(temp.dir, 'no-records.zip');
    writeZipWithPython(filePath, []);
    await assertEngineError(() => ZipReader.open(filePath), filePath, /has no records/);
  });

  /** Writes 20 MB of zeros as a deflated record (about 20 KB) and patches its declared size. */
  function writeBomb(fileName: string, declaredSize: number): string {
    const filePath = path.join(temp.dir, fileName);
    writeZipWithPython(filePath, [
      { name: 'model/data.pkl', hex: textHex('a') },
      { name: 'model/code/bomb.py', hex: Buffer.alloc(20_000_000).toString('hex'), method: 8 },
    ]);
    const bytes = fs.readFileSync(filePath);
    bytes.writeUInt32LE(declaredSize, centralEntryOffset(bytes, 'model/code/bomb.py') + 24);
    fs.writeFileSync(filePath, bytes);
    return filePath;
  }

  test('deflate bomb with a small declared size', async () => {
    const filePath = writeBomb('bomb.pt', 100_000);
    const reader = await ZipReader.open(filePath);
    try {
      const bomb = reader.findRecord('code/bomb.py');
      assert.ok(bomb);
      assert.ok(bomb.compressedSize < 100_000);
      const error = await assertEngineError(() => reader.readRecord(bomb), filePath, /inflates past its declared size of 100000 bytes \(a deflate bomb/);
      assert.equal(error.record, 'model/code/bomb.py');
    } finally {
      await reader.close();
    }
  });

  test('declared size below the compressed size', async () => {
    const filePath = writeBomb('bomb-small.pt', 1000);
    const reader = await ZipReader.open(filePath);
    try {
      const bomb = reader.findRecord('code/bomb.py');
      assert.ok(bomb);
      await assertEngineError(() => reader.readRecord(bomb), filePath, /compressed bytes for 1000 uncompressed bytes, more than deflate produces/);
    } finally {
      await reader.close();
    }
  });

  test('record larger than maxBytes', async () => {
    const filePath = path.join(temp.dir, 'large-record.pt');
    writeZipWithPython(filePath, [{ name: 'model/code/big.py', hex: Buffer.alloc(2_000_000, 0x61).toString('hex'), method: 8 }]);
    const reader = await ZipReader.open(filePath);
    try {
      await assertEngineError(() => reader.readRecord(reader.entries[0], { maxBytes: 1_000_000 }), filePath, /record is 2000000 bytes, more than the limit of 1000000 bytes/);
      assert.equal((await reader.readRecord(reader.entries[0], { maxBytes: 2_000_000 })).length, 2_000_000);
    } finally {
      await reader.close();
    }
  });

  test('declared size above the default limit', async () => {
    const filePath = patchedCopy('identity.pt', 'declared-huge.pt', (bytes) => {
      const copy = Buffer.from(bytes);
      copy.writeUInt32LE(300 * 1024 * 1024, centralEntryOffset(copy, 'identity/code/__torch__.py') + 24);
      return copy;
    });
    const reader = await ZipReader.open(filePath);
    try {
      const entry = reader.findRecord('code/__torch__.py');
      assert.ok(entry);
      await assertEngineError(() => reader.readRecord(entry), filePath, /more than the limit of 268435456 bytes/);
    } finally {
      await reader.close();
    }
  });

  test('damaged deflate data', async () => {
    const source = realFixture('identity.pt');
    const filePath = patchedCopy('identity.pt', 'bad-deflate.pt', (bytes) => {
      const copy = Buffer.from(bytes);
      copy.fill(0xff, 256, 300);
      return copy;
    });
    assert.notEqual(filePath, source);
    const reader = await ZipReader.open(filePath);
    try {
      const entry = reader.findRecord('code/__torch__.py');
      assert.ok(entry);
      assert.equal(await reader.dataOffset(entry), 256);
      await assertEngineError(() => reader.readRecord(entry), filePath, /invalid deflate data/);
    } finally {
      await reader.close();
    }
  });

  test('unsupported compression method', async () => {
    const filePath = path.join(temp.dir, 'bzip2.pt');
    writeZipWithPython(filePath, [{ name: 'model/data.pkl', hex: textHex('pickle'.repeat(50)), method: 12 }]);
    const reader = await ZipReader.open(filePath);
    try {
      const error = await assertEngineError(() => reader.readRecord(reader.entries[0]), filePath, /unsupported compression method 12/);
      assert.equal(error.record, 'model/data.pkl');
    } finally {
      await reader.close();
    }
  });
});

describe('readFileHead', () => {
  test('first bytes of zip and pickle files', async () => {
    const zipHead = await readFileHead(realFixture('identity.pt'));
    assert.equal(zipHead.length, 16);
    assert.ok(startsLikeZip(zipHead));
    const pickleHead = await readFileHead(torchArchives().legacyPickle, 4);
    assert.deepEqual([...pickleHead], [0x80, 0x02, 0x8a, 0x0a]);
    assert.equal(startsLikeZip(pickleHead), false);
  });

  test('empty file gives no bytes', async () => {
    const filePath = path.join(temp.dir, 'empty-head.pt');
    fs.writeFileSync(filePath, '');
    assert.equal((await readFileHead(filePath)).length, 0);
  });

  test('directory is rejected', async () => {
    await assertEngineError(() => readFileHead(temp.dir), temp.dir, /is a folder/);
  });
});
