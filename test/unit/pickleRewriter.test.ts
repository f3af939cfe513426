import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EngineError } from '../../server/src/errors';
import { scanPickleDevices, type DeviceStringSite, type PathSegment } from '../../server/src/pickle/deviceScan';
import { readPickle } from '../../server/src/pickle/pickleReader';
import { rewritePickle, type StringChange } from '../../server/src/pickle/pickleRewriter';
import { runPythonJson, systemPython } from './helpers/picklePython';

const where = { file: 'model.pt', record: 'data.pkl' };

/** Pickles written by Python: a dict whose 'cuda:0' values are one memoized str object. */
const WRITE_SAMPLES = String.raw`
import base64, json, pickle
dev = ''.join(['cuda', ':0'])
cpu = ''.join(['c', 'pu'])
sample = {'device': dev, 'name': dev, 'devices': [cpu, dev], 'other': cpu, 'tail': dev}
framed = dict(sample, big='x' * 70000, numbers=list(range(30000)), last=dev)
out = {}
for protocol in range(6):
    out['sample, protocol %d' % protocol] = pickle.dumps(sample, protocol=protocol)
for protocol in (4, 5):
    out['framed, protocol %d' % protocol] = pickle.dumps(framed, protocol=protocol)
out['py2 STRING'] = b"(dp0\nS'device'\np1\nS'cuda:0'\np2\nsS'name'\np3\ng2\nsS'devices'\np4\n(lp5\ng2\naS'cpu'\np6\nas."
out['py2 BINSTRING'] = b"}q\x00(U\x06deviceq\x01U\x06cuda:0q\x02U\x04nameq\x03h\x02U\x07devicesq\x04]q\x05(h\x02U\x03cpuq\x06eu."
print(json.dumps({name: base64.b64encode(data).decode() for name, data in out.items()}))
`;

/**
 * Loads the original and the rewritten pickle with Python, applies the expected changes to the
 * original by path, and checks FRAME lengths against pickletools' opcode offsets.
 */
const CHECK_REWRITE = String.raw`
import base64, json, pickle, pickletools, sys
request = json.load(sys.stdin)
original = base64.b64decode(request['original'])
rewritten = base64.b64decode(request['rewritten'])

expected = pickle.loads(original, encoding='latin1')
for path, value in request['changes']:
    target = expected
    for segment in path[:-1]:
        target = target[segment]
    target[path[-1]] = value

def frame_errors(data):
    # Frames exist from protocol 4; pickletools cannot list STRING opcodes beyond ASCII.
    if data[:1] != b'\x80' or data[1] < 4:
        return []
    ops = list(pickletools.genops(data))
    bounds = [pos for _, _, pos in ops] + [ops[-1][2] + 1]
    errors = []
    for index, (op, arg, pos) in enumerate(ops):
        if op.name != 'FRAME':
            continue
        end = pos + 9 + arg
        if end not in bounds:
            errors.append('frame at %d ends at %d, inside an opcode' % (pos, end))
    return errors

print(json.dumps({
    'c_loads': pickle.loads(rewritten, encoding='latin1') == expected,
    'python_loads': pickle._loads(rewritten, encoding='latin1') == expected,
    'actual': repr(pickle.loads(rewritten, encoding='latin1'))[:300],
    'expected': repr(expected)[:300],
    'frame_errors': frame_errors(rewritten),
}))
`;

interface CheckResult {
  c_loads: boolean;
  python_loads: boolean;
  actual: string;
  expected: string;
  frame_errors: string[];
}

const samples = Object.fromEntries(
  Object.entries(runPythonJson<Record<string, string>>(systemPython, WRITE_SAMPLES)).map(([name, data]) => [name, Buffer.from(data, 'base64')]),
);

function deviceStringsByPath(data: Buffer): Map<string, DeviceStringSite> {
  const scan = scanPickleDevices(readPickle(data, where), 'checkpoint');
  return new Map(scan.deviceStrings.map((found) => [JSON.stringify(found.path), found]));
}

/** Rewrites the strings at the given paths and checks the result with Python and with the scan. */
function rewriteAndCheck(data: Buffer, changes: [PathSegment[], string][]): Buffer {
  const sites = deviceStringsByPath(data);
  const stringChanges: StringChange[] = changes.map(([path, newValue]) => {
    const found = sites.get(JSON.stringify(path));
    assert.ok(found, `a device string at ${JSON.stringify(path)}`);
    return { site: found.site, newValue };
  });

  const rewritten = rewritePickle(data, stringChanges, where);
  const check = runPythonJson<CheckResult>(systemPython, CHECK_REWRITE, [], Buffer.from(JSON.stringify({
    original: data.toString('base64'), rewritten: rewritten.toString('base64'), changes,
  })));
  assert.equal(check.c_loads, true, `C pickle: ${check.actual} != ${check.expected}`);
  assert.equal(check.python_loads, true, `pure-Python pickle: ${check.actual} != ${check.expected}`);
  assert.deepEqual(check.frame_errors, []);

  // Every unchanged device string keeps its value, and every changed one has the new value.
  const after = scanPickleDevices(readPickle(rewritten, where), 'checkpoint');
  const afterValues = new Map(after.deviceStrings.map((found) => [JSON.stringify(found.path), found.value]));
  for (const [path, found] of sites) {
    const change = changes.find(([changedPath]) => JSON.stringify(changedPath) === path);
    if (change === undefined) assert.equal(afterValues.get(path), found.value, `unchanged ${path}`);
    else if (afterValues.has(path)) assert.equal(afterValues.get(path), change[1], `changed ${path}`);
  }
  return rewritten;
}

describe('rewritePickle against Python', () => {
  for (const [name, data] of Object.entries(samples)) {
    describe(name, () => {
      test('memo-defining push only', () => {
        rewriteAndCheck(data, [[['device'], 'meta']]);
      });

      test('one memo GET only', () => {
        const rewritten = rewriteAndCheck(data, [[['name'], 'cuda:1']]);
        assert.ok(rewritten.length > data.length, 'the GET became a longer push');
      });

      test('every use of a shared string', () => {
        const sites = deviceStringsByPath(data);
        const uses = [...sites.entries()].filter(([, found]) => found.value === 'cuda:0').map(([path]) => JSON.parse(path) as PathSegment[]);
        assert.ok(uses.length >= 3, 'the sample shares cuda:0');
        rewriteAndCheck(data, uses.map((path) => [path, 'cuda:7']));
      });

      test('list item and sibling', () => {
        rewriteAndCheck(data, [[['devices', 0], 'xpu:1'], [['devices', 1], 'cpu']]);
      });

      test('long and empty values', () => {
        rewriteAndCheck(data, [[['device'], `cuda:${'9'.repeat(300)}`], [['name'], '']]);
      });

      test('non-ASCII and escapes', () => {
        const value = name.startsWith('py2') ? "it's a \\ back\tslash \xe9" : 'cuda:\u00e9\u20ac\u{1F600} a\\b\nc\r\u0000\u001a \\u0041';
        rewriteAndCheck(data, [[['device'], value], [['devices', 0], 'meta']]);
      });
    });
  }

  test('SHORT_BINUNICODE only from protocol 4', () => {
    for (const [protocol, expected] of [[2, 'BINUNICODE'], [3, 'BINUNICODE'], [4, 'SHORT_BINUNICODE'], [5, 'SHORT_BINUNICODE']] as const) {
      const data = samples[`sample, protocol ${protocol}`];
      const site = deviceStringsByPath(data).get(JSON.stringify(['name']));
      assert.ok(site);
      const rewritten = rewritePickle(data, [{ site: site.site, newValue: 'cuda:1' }], where);
      const op = readPickle(rewritten, where).ops.find((entry) => entry.start === site.site.start);
      assert.equal(op?.op, expected, `protocol ${protocol}`);
    }
  });

  test('frames change length', () => {
    const data = samples['framed, protocol 4'];
    const rewritten = rewriteAndCheck(data, [[['last'], 'a much longer device name than before']]);
    const frames = (buffer: Buffer): number[] => readPickle(buffer, where).ops.filter((op) => op.op === 'FRAME').map((op) => Number(buffer.readBigUInt64LE(op.start + 1)));
    const before = frames(data);
    const after = frames(rewritten);
    assert.ok(before.length >= 2, 'the sample has several frames');
    assert.equal(after.reduce((sum, length) => sum + length, 0) - before.reduce((sum, length) => sum + length, 0), rewritten.length - data.length);
  });
});

describe('rewritePickle rules', () => {
  const data = samples['sample, protocol 2'];

  test('no changes keeps the bytes', () => {
    assert.deepEqual(rewritePickle(data, [], where), data);
  });

  test('unchanged value keeps the bytes', () => {
    const site = deviceStringsByPath(data).get(JSON.stringify(['device']));
    assert.ok(site);
    assert.deepEqual(rewritePickle(data, [{ site: site.site, newValue: 'cuda:0' }], where), data);
  });

  test('same change twice is one change', () => {
    const site = deviceStringsByPath(data).get(JSON.stringify(['device']));
    assert.ok(site);
    const once = rewritePickle(data, [{ site: site.site, newValue: 'meta' }], where);
    assert.deepEqual(rewritePickle(data, [{ site: site.site, newValue: 'meta' }, { site: site.site, newValue: 'meta' }], where), once);
  });

  test('conflicting changes are rejected', () => {
    const site = deviceStringsByPath(data).get(JSON.stringify(['device']));
    assert.ok(site);
    assert.throws(
      () => rewritePickle(data, [{ site: site.site, newValue: 'meta' }, { site: site.site, newValue: 'cpu' }], where),
      (error: unknown) => error instanceof EngineError && error.offset === site.site.start && /to "meta" and to "cpu"/.test(error.message),
    );
  });

  test('stale site is rejected', () => {
    const site = deviceStringsByPath(data).get(JSON.stringify(['device']));
    assert.ok(site);
    assert.throws(
      () => rewritePickle(data, [{ site: { ...site.site, start: site.site.start + 1 }, newValue: 'meta' }], where),
      (error: unknown) => error instanceof EngineError && /no string use of this pickle is at offset/.test(error.message),
    );
    assert.throws(
      () => rewritePickle(data, [{ site: { ...site.site, end: site.site.end + 1 }, newValue: 'meta' }], where),
      (error: unknown) => error instanceof EngineError && error.record === where.record,
    );
  });

  test('value beyond Latin-1 in BINSTRING', () => {
    const py2 = samples['py2 BINSTRING'];
    const site = deviceStringsByPath(py2).get(JSON.stringify(['device']));
    assert.ok(site);
    assert.throws(
      () => rewritePickle(py2, [{ site: site.site, newValue: 'cuda:\u20ac' }], where),
      (error: unknown) => error instanceof EngineError && /beyond Latin-1/.test(error.message) && error.offset === site.site.start,
    );
  });

  test('lone surrogate is rejected', () => {
    const site = deviceStringsByPath(data).get(JSON.stringify(['device']));
    assert.ok(site);
    assert.throws(
      () => rewritePickle(data, [{ site: site.site, newValue: 'cuda\ud800' }], where),
      (error: unknown) => error instanceof EngineError && /lone UTF-16 surrogate/.test(error.message),
    );
  });
});
