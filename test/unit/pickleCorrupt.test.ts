import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { EngineError } from '../../server/src/errors';
import { scanPickleDevices } from '../../server/src/pickle/deviceScan';
import { MAX_NESTING_DEPTH, readPickle } from '../../server/src/pickle/pickleReader';
import { readZipRecord, realFixtures, runPython, systemPython } from './helpers/picklePython';

const where = { file: 'model.pt', record: 'model/data.pkl' };

/** Asserts that reading fails with an EngineError naming the file, record and offset. */
function assertRejects(data: Buffer, expected: { offset?: number; message: RegExp }): EngineError {
  let caught: unknown;
  try {
    readPickle(data, where);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof EngineError, `expected EngineError, got ${String(caught)}`);
  assert.equal(caught.file, where.file);
  assert.equal(caught.record, where.record);
  assert.equal(typeof caught.offset, 'number');
  if (expected.offset !== undefined) assert.equal(caught.offset, expected.offset);
  assert.match(caught.message, expected.message);
  assert.ok(caught.message.startsWith(`${where.file}, record ${where.record}, offset ${caught.offset}: `), caught.message);
  return caught;
}

function bytes(...parts: (string | number[])[]): Buffer {
  return Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part, 'latin1') : Buffer.from(part))));
}

describe('corrupt pickles', () => {
  test('every truncation of a real pickle', () => {
    const data = readZipRecord(path.join(realFixtures, 'foo.pt'), 'foo/data.pkl');
    readPickle(data, where);

    for (let length = 0; length < data.length; length += 1) {
      const error = assertRejects(data.subarray(0, length), { message: /truncated|STOP|underflow/ });
      assert.ok((error.offset ?? Infinity) <= length, `offset ${error.offset} within ${length} bytes`);
    }
  });

  test('sampled truncations of a large pickle', () => {
    const data = readZipRecord(path.join(realFixtures, 'd2go_optimized.pt'), 'd2go_optimized/constants.pkl');
    for (let length = 0; length < data.length; length += 97) {
      assertRejects(data.subarray(0, length), { message: /truncated|STOP|underflow/ });
    }
  });

  test('unknown opcode', () => {
    assertRejects(bytes([0x80, 0x02, 0xff], '.'), { offset: 2, message: /unknown pickle opcode 0xff/ });
  });

  test('MARK nesting bomb', () => {
    assertRejects(bytes([0x80, 0x02], '('.repeat(100_000), '.'), { offset: 2 + MAX_NESTING_DEPTH, message: /MARK opcodes more than 1000 deep/ });
  });

  test('list nesting bomb', () => {
    const count = 5000;
    const data = bytes([0x80, 0x02], ']'.repeat(count), 'a'.repeat(count - 1), '.');
    assertRejects(data, { message: /containers more than 1000 deep/ });
  });

  test('tuple nesting bomb', () => {
    assertRejects(bytes([0x80, 0x02, 0x29], '\x85'.repeat(5000), '.'), { offset: 3 + MAX_NESTING_DEPTH - 1, message: /containers more than 1000 deep/ });
  });

  test('memo nesting bomb in the scan', () => {
    // Each step reads the innermost list from the memo and appends a new empty list to it, so
    // the chain grows without any container being built deep at once. Python loads it.
    const steps = 3000;
    const parts: Buffer[] = [bytes([0x80, 0x02, 0x5d, 0x72], [0, 0, 0, 0])];
    for (let index = 0; index < steps; index += 1) {
      const get = Buffer.alloc(5);
      get[0] = 0x6a;
      get.writeUInt32LE(index, 1);
      const put = Buffer.alloc(5);
      put[0] = 0x72;
      put.writeUInt32LE(index + 1, 1);
      parts.push(get, bytes([0x5d]), put, bytes('a0'));
    }
    parts.push(bytes('.'));
    const data = Buffer.concat(parts);

    const depth = runPython(systemPython, 'import pickle,sys\nv=pickle.loads(sys.stdin.buffer.read())\nd=0\nwhile v: v=v[0]; d+=1\nprint(d)', [], data);
    assert.equal(Number(depth.toString()), steps);

    const result = readPickle(data, where);
    assert.throws(() => scanPickleDevices(result, 'checkpoint'), (error: unknown) => {
      assert.ok(error instanceof EngineError);
      assert.match(error.message, /nests values more than 1000 deep/);
      assert.equal(error.record, where.record);
      return true;
    });
  });

  test('declared lengths beyond the data', () => {
    assertRejects(bytes([0x80, 0x02, 0x58, 0xff, 0xff, 0xff, 0xff], 'cpu.'), { offset: 2, message: /declares 4294967295 bytes but only 4 remain/ });
    assertRejects(bytes([0x80, 0x04, 0x8d, 0, 0, 0, 0, 0, 0, 0, 0x80], 'cpu.'), { offset: 2, message: /declares 9223372036854775808 bytes but only 4 remain/ });
    assertRejects(bytes([0x80, 0x04, 0x8c, 200], 'cpu.'), { offset: 2, message: /declares 200 bytes but only 4 remain/ });
    assertRejects(bytes([0x80, 0x04, 0x95, 0, 0, 0, 0, 0, 1, 0, 0], 'N.'), { offset: 2, message: /FRAME opcode declares 1099511627776 bytes/ });
    assertRejects(bytes([0x80, 0x02, 0x8b, 0xff, 0xff, 0xff, 0xff], '.'), { offset: 2, message: /negative length -1/ });
    assertRejects(bytes([0x80, 0x02, 0x54, 0xfe, 0xff, 0xff, 0xff], '.'), { offset: 2, message: /negative length -2/ });
    assertRejects(bytes([0x80, 0x02, 0x4a, 0x01], ''), { offset: 2, message: /ends inside the argument of the BININT opcode/ });
    assertRejects(bytes('Vcuda'), { offset: 0, message: /ends inside the text argument of the UNICODE opcode/ });
  });

  test('opcode crossing a frame end', () => {
    // FRAME of 3 bytes, then a BINUNICODE of 8 bytes.
    assertRejects(bytes([0x80, 0x04, 0x95, 3, 0, 0, 0, 0, 0, 0, 0, 0x58, 3, 0, 0, 0], 'cpu.'), { offset: 11, message: /crosses the end of the frame/ });
    // A FRAME inside an unfinished frame.
    assertRejects(bytes([0x80, 0x04, 0x95, 10, 0, 0, 0, 0, 0, 0, 0, 0x95, 1, 0, 0, 0, 0, 0, 0, 0], 'N.'), { offset: 11, message: /starts before the frame/ });
  });

  test('disallowed globals', () => {
    const message = /pickle names the global os\.system, which PyTorch archives never contain; the file is not a model PyTorch wrote, do not load it with pickle/;
    assertRejects(bytes("cos\nsystem\n(S'echo hi'\ntR."), { offset: 0, message });
    assertRejects(bytes([0x80, 0x04, 0x8c, 2], 'os', [0x8c, 6], 'system', [0x93], '.'), { offset: 14, message });
    assertRejects(bytes("(S'ls'\nios\nsystem\n."), { offset: 7, message });
    assertRejects(bytes('csubprocess\nPopen\n.'), { message: /global subprocess\.Popen/ });
    assertRejects(bytes('c__builtin__\neval\n.'), { message: /global __builtin__\.eval/ });
    assertRejects(bytes('cbuiltins\ngetattr\n.'), { message: /global builtins\.getattr/ });
    assertRejects(bytes('cposix\nsystem\n.'), { message: /global posix\.system/ });
    assertRejects(bytes('ccollections\ndefaultdict\n.'), { message: /global collections\.defaultdict/ });
  });

  test('hostile global runs nothing', () => {
    const marker = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pickle-')), 'ran');
    const data = bytes(`cos\nsystem\n(V touch ${marker}\ntR.`);
    assertRejects(data, { message: /os\.system/ });
    assert.equal(fs.existsSync(marker), false);
  });

  test('stack and memo errors', () => {
    assertRejects(bytes([0x80, 0x02], 'R.'), { offset: 2, message: /REDUCE opcode needs more values than the stack holds/ });
    assertRejects(bytes([0x80, 0x02, 0x4e, 0x86], '.'), { offset: 3, message: /TUPLE2 opcode needs more values/ });
    assertRejects(bytes('.'), { offset: 0, message: /STOP opcode needs more values/ });
    assertRejects(bytes('(.'), { offset: 1, message: /STOP opcode needs more values/ });
    assertRejects(bytes([0x80, 0x02, 0x68, 5], '.'), { offset: 2, message: /reads memo index 5, which no earlier PUT stored/ });
    assertRejects(bytes('g7\n.'), { offset: 0, message: /reads memo index 7/ });
    assertRejects(bytes([0x80, 0x02, 0x71, 0], '.'), { offset: 2, message: /BINPUT opcode needs more values/ });
    assertRejects(bytes([0x80, 0x02], '1.'), { offset: 2, message: /POP_MARK opcode needs a MARK/ });
    assertRejects(bytes([0x80, 0x02], '0.'), { offset: 2, message: /POP opcode needs more values/ });
  });

  test('structural errors', () => {
    assertRejects(bytes([0x80, 0x02, 0x82, 1], '.'), { offset: 2, message: /EXT1 opcode refers to the copyreg extension registry/ });
    assertRejects(bytes([0x80, 0x06], 'N.'), { offset: 0, message: /protocol 6, newer than protocol 5/ });
    assertRejects(bytes([0x80, 0x02], '}(NK\x01NuN.'), { offset: 8, message: /odd number of items \(3\)/ });
    assertRejects(bytes([0x80, 0x02], ']}b.'), { offset: 4, message: /BUILD opcode sets state on a list/ });
    assertRejects(bytes([0x80, 0x02], ')Na.'), { offset: 4, message: /appends to a tuple/ });
    assertRejects(bytes([0x80, 0x02], 'K\x01K\x02\x93.'), { offset: 6, message: /STACK_GLOBAL opcode needs two strings/ });
    assertRejects(bytes([0x80, 0x02], 'c__builtin__\nset\n]R.'), { offset: 20, message: /REDUCE opcode needs a tuple of arguments, but found a list/ });
    assertRejects(bytes([0x80, 0x05, 0x4e, 0x98], '.'), { offset: 3, message: /READONLY_BUFFER opcode applies to a none/ });
  });

  test('invalid text arguments', () => {
    assertRejects(bytes('Iabc\n.'), { offset: 0, message: /invalid argument of the INT opcode: invalid integer "abc"/ });
    assertRejects(bytes('I007\n.'), { offset: 0, message: /leading zeros/ });
    assertRejects(bytes('Fx1\n.'), { offset: 0, message: /invalid float "x1"/ });
    assertRejects(bytes('V\\u12\n.'), { offset: 0, message: /truncated \\u escape/ });
    assertRejects(bytes('Scpu\n.'), { offset: 0, message: /must be enclosed in matching quotes/ });
    assertRejects(bytes("S'\\x4'\n."), { offset: 0, message: /invalid \\x escape/ });
    assertRejects(bytes(`I${'9'.repeat(5000)}\n.`), { offset: 0, message: /5000 digits, more than the limit of 4300/ });
  });

  test('random mutations raise only EngineError', () => {
    const samples = [
      readZipRecord(path.join(realFixtures, 'foo.pt'), 'foo/data.pkl'),
      readZipRecord(path.join(realFixtures, 'identity.pt'), 'identity/data.pkl'),
      readZipRecord(path.join(realFixtures, 'd2go_optimized.pt'), 'd2go_optimized/constants.pkl').subarray(0, 4000),
    ];

    // A fixed linear congruential generator keeps failures reproducible.
    let seed = 12345;
    const random = (limit: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % limit;
    };

    let parsed = 0;
    for (let iteration = 0; iteration < 3000; iteration += 1) {
      const mutated = Buffer.from(samples[iteration % samples.length]);
      for (let flips = 1 + random(3); flips > 0; flips -= 1) mutated[random(mutated.length)] = random(256);

      try {
        const result = readPickle(mutated, where);
        scanPickleDevices(result, 'data');
        parsed += 1;
      } catch (error) {
        if (!(error instanceof EngineError)) {
          assert.fail(`iteration ${iteration}: ${String(error)}\n${mutated.toString('hex')}`);
        }
      }
    }
    assert.ok(parsed > 0, 'some mutations still parse');
  });
});
