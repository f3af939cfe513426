import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { readPickle } from '../../server/src/pickle/pickleReader';
import { STRING_PUSH_OPCODES } from '../../server/src/pickle/opcodes';
import { canonicalize, sortSets, type Canonical } from './helpers/pickleCanonical';
import { PYTHON_CANON, realFixtures, runPythonJson, systemPython, type GenopsEntry } from './helpers/picklePython';

interface PythonPickle {
  name: string;
  data: string;
  canon: Canonical;
  genops: GenopsEntry[];
}

const SAMPLES_SCRIPT = String.raw`
import json, pickle
from collections import OrderedDict
${PYTHON_CANON}

dev = ''.join(['cuda', ':0'])
shared = ['shared', dev]
cyclic = ['cpu']
cyclic.append(cyclic)
sample = {
    'none': None,
    'bools': [True, False],
    'ints': [0, 1, -1, 255, 256, 65535, 65536, 2**31 - 1, -2**31, 2**31, 2**53 + 1, 2**63, -2**63 - 1, 2**100, -(2**100)],
    'floats': [0.0, -0.0, 1.5, 1e300, 5e-324, float('inf'), float('-inf'), float('nan')],
    'strs': ['', 'cpu', 'a\\b', 'line\nbreak', 'cr\r', 'nul\x00', 'ctrlz\x1a', 'latin \xe9\xff', 'euro \u20ac',
             'emoji \U0001F600', 'lone \udc80', 'x' * 300, '\\u0041 not an escape'],
    'device': dev, 'device again': dev, 'devices': [dev, 'cuda:1', dev],
    'bytes': b'\x00\xffabc', 'empty bytes': b'', 'long bytes': b'z' * 300, 'bytearray': bytearray(b'xy'),
    'tuple': (1, dev, ()), 'nested': [[[]]], 'set': {1, 2, 'cpu'}, 'frozenset': frozenset({3}),
    'ordered': OrderedDict([('a', 1), ('b', 'cuda:1')]),
    'shared 1': shared, 'shared 2': shared, 'cyclic': cyclic,
    'slice': slice(1, 2, None), 'complex': 1 + 2j,
}
framed = {'big': 'L' * 70000, 'numbers': list(range(20000)), 'device': dev, 'device again': dev, 'bytes': b'B' * 70000}

handmade = {
    'py2 strings': b"(S'cuda:0'\np0\nS'a\\\\b\\x41\\n\\'q\\101\\q'\np1\ng0\nS\"dq\"\nS'\\t\\z'\ntp2\n.",
    'py2 binstrings': b"(U\x06cuda:0q\x00T\x03\x00\x00\x00cpuq\x01h\x00U\x01\xe9t.",
    'text numbers': b"(I01\nI00\nI-5\nL123L\nL-99999999999999999999999\nF1.5\nFinf\nF-1e-05\nI  7  \nt.",
    'text containers': b"(dp0\nVkey\np1\n(lp2\nI1\naI2\naVa\\u20ac\\\\u0041\np3\nasVother\ng2\ns.",
    'inst and obj': b"((I1\nI2\ni__builtin__\nslice\n(c__builtin__\ncomplex\nF1.0\nF2.0\no(i__builtin__\nset\nt.",
    'pop, dup, pop_mark': b"(I1\nI2\n0I3\n2(I4\nI5\n1t.",
    'pop removes an empty mark': b"I1\n(0.",
    'newobj_ex': b"\x80\x04c__builtin__\nslice\n)}\x8c\x01k\x94K\x01s\x92.",
    'stack_global and memoize': b"\x80\x04\x8c\x0bcollections\x94\x8c\x0bOrderedDict\x94\x93\x94)R\x94(\x8c\x01a\x94h\x00u.",
    'persistent ids': b"\x80\x02(X\x07\x00\x00\x00storageq\x00ctorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x04tQPplain id\n\x86.",
    'long1 and long4': b"\x80\x02(\x8a\x00\x8a\x01\xff\x8a\x02\x00\x80\x8b\x09\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01t.",
    'empty set and additems': b"\x80\x04\x8f(K\x01K\x02\x90.",
    'frozenset opcode': b"\x80\x04(K\x01K\x02\x91.",
    'binbytes8 and bytearray8': b"\x80\x05\x8e\x02\x00\x00\x00\x00\x00\x00\x00ab\x96\x01\x00\x00\x00\x00\x00\x00\x00c\x86.",
    'binunicode8': b"\x80\x04\x8d\x03\x00\x00\x00\x00\x00\x00\x00cpu.",
}

out = []
for protocol in range(6):
    out.append(describe('sample, protocol %d' % protocol, pickle.dumps(sample, protocol=protocol)))
for protocol in (4, 5):
    out.append(describe('framed, protocol %d' % protocol, pickle.dumps(framed, protocol=protocol)))
for name, data in handmade.items():
    out.append(describe(name, data))
print(json.dumps(out))
`;

const FIXTURES_SCRIPT = String.raw`
import json, sys, zipfile
${PYTHON_CANON}
out = []
for file in sys.argv[1:]:
    with zipfile.ZipFile(file) as archive:
        for name in archive.namelist():
            if name.endswith('.pkl') or name.endswith('.debug_pkl'):
                out.append(describe(file.split('/')[-1] + ':' + name, archive.read(name)))
print(json.dumps(out))
`;

function checkAgainstPython(sample: PythonPickle): void {
  const data = Buffer.from(sample.data, 'base64');
  const result = readPickle(data, { file: sample.name, record: 'test.pkl' });

  assert.deepEqual(result.ops.map((op) => [op.op, op.start]), sample.genops, `${sample.name}: opcode list`);
  result.ops.forEach((op, index) => {
    const next = result.ops[index + 1];
    if (next !== undefined) assert.equal(op.end, next.start, `${sample.name}: end of ${op.op} at ${op.start}`);
  });
  assert.equal(result.end, data.length, `${sample.name}: STOP ends the data`);

  assert.deepEqual(sortSets(canonicalize(result.root, data)), sortSets(sample.canon), `${sample.name}: value tree`);
}

function checkStringSites(data: Buffer, name: string): void {
  const result = readPickle(data, { file: name, record: 'test.pkl' });
  const opsByStart = new Map(result.ops.map((op) => [op.start, op]));

  for (const use of result.strings) {
    const op = opsByStart.get(use.site.start);
    assert.ok(op, `${name}: site at ${use.site.start} is an opcode`);
    assert.equal(op.op, use.site.op);
    assert.equal(op.end, use.site.end);
    assert.ok(STRING_PUSH_OPCODES.has(use.site.origin.op), `${name}: origin of ${use.site.start} is a push`);

    if (use.site.memoSource === undefined) {
      assert.deepEqual(use.site.origin, { op: use.site.op, start: use.site.start, end: use.site.end });
    } else {
      assert.ok(use.site.memoIndex !== undefined, `${name}: GET at ${use.site.start} has a memo index`);
      assert.ok(use.site.memoSource.start < use.site.start, `${name}: memo source precedes its GET`);
    }
  }
}

describe('readPickle against Python', () => {
  const samples = runPythonJson<PythonPickle[]>(systemPython, SAMPLES_SCRIPT);

  for (const sample of samples) {
    test(`matches Python: ${sample.name}`, () => {
      checkAgainstPython(sample);
      checkStringSites(Buffer.from(sample.data, 'base64'), sample.name);
    });
  }

  test('real archives match pickletools and Python', () => {
    const files = fs.readdirSync(realFixtures).filter((name) => name.endsWith('.pt')).map((name) => path.join(realFixtures, name));
    assert.ok(files.length >= 10, 'the real fixtures are present');
    const records = runPythonJson<PythonPickle[]>(systemPython, FIXTURES_SCRIPT, files);
    assert.ok(records.length >= 30, 'every archive has pickles');

    for (const record of records) {
      checkAgainstPython(record);
      checkStringSites(Buffer.from(record.data, 'base64'), record.name);
    }
  });
});

describe('readPickle details', () => {
  const where = { file: 'model.pt', record: 'data.pkl' };

  test('memo GET of a string gets its own site', () => {
    // PROTO 2, MARK, BINUNICODE 'cuda:0', BINPUT 0, BINGET 0, TUPLE, STOP
    const data = Buffer.concat([Buffer.from([0x80, 0x02, 0x28, 0x58, 6, 0, 0, 0]), Buffer.from('cuda:0'), Buffer.from([0x71, 0, 0x68, 0, 0x74, 0x2e])]);
    const result = readPickle(data, where);
    assert.equal(result.strings.length, 2);

    const [push, get] = result.strings;
    assert.deepEqual({ op: push.site.op, start: push.site.start, end: push.site.end }, { op: 'BINUNICODE', start: 3, end: 14 });
    assert.deepEqual({ op: get.site.op, start: get.site.start, end: get.site.end, memoIndex: get.site.memoIndex }, { op: 'BINGET', start: 16, end: 18, memoIndex: 0 });
    assert.equal(get.site.memoSource, push.site);
    assert.deepEqual(get.site.origin, { op: 'BINUNICODE', start: 3, end: 14 });
    assert.equal(get.value, 'cuda:0');
    assert.deepEqual(result.memo.get(0)?.put, { op: 'BINPUT', start: 14, end: 16 });
  });

  test('memo chain keeps the original push as origin', () => {
    // BINUNICODE 'cpu', BINPUT 0, BINGET 0, BINPUT 1, POP, POP, BINGET 1, STOP
    const data = Buffer.concat([Buffer.from([0x80, 0x02, 0x58, 3, 0, 0, 0]), Buffer.from('cpu'), Buffer.from([0x71, 0, 0x68, 0, 0x71, 1, 0x30, 0x30, 0x68, 1, 0x2e])]);
    const result = readPickle(data, where);
    const last = result.strings[result.strings.length - 1];
    assert.equal(last.site.memoIndex, 1);
    assert.equal(last.site.memoSource?.start, 12);
    assert.deepEqual(last.site.origin, { op: 'BINUNICODE', start: 2, end: 10 });
  });

  test('out-of-band buffers become buffer nodes', () => {
    // PROTO 5, NEXT_BUFFER, READONLY_BUFFER, NEXT_BUFFER, TUPLE2, STOP
    const result = readPickle(Buffer.from([0x80, 0x05, 0x97, 0x98, 0x97, 0x86, 0x2e]), where);
    assert.equal(result.root.kind, 'tuple');
    assert.deepEqual(result.root.kind === 'tuple' ? result.root.items.map((item) => item.kind === 'buffer' && [item.index, item.readonly]) : [], [[0, true], [1, false]]);
  });

  test('integers beyond 2**53 stay exact', () => {
    // LONG1 of 8 bytes: 2**63 - 1; BININT -1
    const data = Buffer.from([0x80, 0x02, 0x8a, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x4a, 0xff, 0xff, 0xff, 0xff, 0x86, 0x2e]);
    const result = readPickle(data, where);
    assert.equal(result.root.kind, 'tuple');
    const items = result.root.kind === 'tuple' ? result.root.items : [];
    assert.deepEqual(items.map((item) => item.kind === 'int' && item.value), [2n ** 63n - 1n, -1]);
    assert.deepEqual(items.map((item) => item.kind === 'int' && item.site), [{ op: 'LONG1', start: 2, end: 12 }, { op: 'BININT', start: 12, end: 17 }]);
  });

  test('protocol comes from the first PROTO', () => {
    assert.equal(readPickle(Buffer.from([0x80, 0x04, 0x4e, 0x2e]), where).protocol, 4);
    assert.equal(readPickle(Buffer.from('N.'), where).protocol, 0);
  });

  test('bytes after STOP are not read', () => {
    const result = readPickle(Buffer.from('N.garbage\xff'), where);
    assert.equal(result.end, 2);
    assert.deepEqual(result.root, { kind: 'none' });
  });

  test('invalid UTF-8 becomes U+FFFD, surrogates stay', () => {
    // BINUNICODE of ff 41 (invalid lead byte) and ED B2 80 (the surrogate U+DC80), TUPLE2
    const invalid = Buffer.from([0x58, 2, 0, 0, 0, 0xff, 0x41]);
    const surrogate = Buffer.from([0x58, 3, 0, 0, 0, 0xed, 0xb2, 0x80]);
    const result = readPickle(Buffer.concat([Buffer.from([0x80, 0x02]), invalid, surrogate, Buffer.from([0x86, 0x2e])]), where);
    assert.deepEqual(result.strings.map((use) => use.value), ['\uFFFDA', '\uDC80']);
  });
});
