import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { LineIndex } from '../../server/src/code/codeText';
import { type CodeDeviceSite, findDeviceSites } from '../../server/src/code/deviceSites';
import { decodeCodeRecord } from '../../server/src/code/codeText';
import { readCodeRecords, realFixturesDir } from './helpers/torchCodeRecords';

/** Returns the text a site's range covers, read through LSP positions. */
function rangeText(text: string, site: CodeDeviceSite): string {
  const index = new LineIndex(text);
  return text.slice(index.offsetAt(site.range.start), index.offsetAt(site.range.end));
}

/** Returns the text a site's byte span covers in the UTF-8 bytes of `text`. */
function byteSpanText(text: string, site: CodeDeviceSite): string {
  return Buffer.from(text, 'utf8').subarray(site.byteSpan.start, site.byteSpan.end).toString('utf8');
}

interface ExpectedSite {
  kind: CodeDeviceSite['kind'];
  device: string;
  text: string;
  usage: string;
  attribute?: string;
}

/** Checks kind, device, usage, attribute and covered text of each site, in order. */
async function assertSites(text: string, expected: ExpectedSite[]): Promise<CodeDeviceSite[]> {
  const sites = await findDeviceSites(text);
  assert.equal(sites.length, expected.length, `sites: ${JSON.stringify(sites.map((site) => rangeText(text, site)))}`);
  sites.forEach((site, i) => {
    const want = expected[i];
    assert.equal(site.kind, want.kind, `kind of site ${i}`);
    assert.equal(site.device, want.device, `device of site ${i}`);
    assert.equal(site.usage, want.usage, `usage of site ${i}`);
    assert.equal(site.attribute, want.attribute, `attribute of site ${i}`);
    assert.equal(rangeText(text, site), want.text, `range text of site ${i}`);
    assert.equal(byteSpanText(text, site), want.text, `byte span text of site ${i}`);
  });
  return sites;
}

/** Wraps statements in a method, as the code printer writes a module's forward. */
function method(body: string, parameters = 'x: Tensor'): string {
  const lines = body.trim().split('\n').map((line) => `    ${line.trim()}`);
  return [
    'class Model(Module):',
    '  __parameters__ = []',
    '  training : bool',
    '  def forward(self: __torch__.Model,',
    `    ${parameters}) -> Tensor:`,
    ...lines,
    '',
  ].join('\n');
}

describe('findDeviceSites on catalogue patterns', () => {
  test('factory op keyword device', async () => {
    const text = method('y = torch.ones([_1, _3], dtype=None, layout=None, device=torch.device("cpu"), pin_memory=False)\nreturn y');
    const sites = await assertSites(text, [{ kind: 'literal', device: 'cpu', text: 'torch.device("cpu")', usage: 'torch.ones' }]);
    const line = text.split('\n')[5];
    assert.deepEqual(sites[0].range, {
      start: { line: 5, character: line.indexOf('torch.device') },
      end: { line: 5, character: line.indexOf('torch.device') + 'torch.device("cpu")'.length },
    });
  });

  test('every factory op of the catalogue', async () => {
    const factories = [
      'ones', 'zeros', 'empty', 'full', 'arange', 'rand', 'randn', 'randint', 'eye', 'linspace', 'tensor',
      'new_zeros', 'new_ones', 'new_full', 'new_empty', 'zeros_like', 'ones_like', 'empty_like', 'full_like',
      'rand_like', 'randn_like', 'randint_like',
    ];
    const body = factories.map((name, i) => `_${i} = torch.${name}([2], dtype=None, layout=None, device=torch.device("cuda:${i}"), pin_memory=False)`);
    await assertSites(
      method(body.join('\n')),
      factories.map((name, i) => ({ kind: 'literal', device: `cuda:${i}`, text: `torch.device("cuda:${i}")`, usage: `torch.${name}` })),
    );
  });

  test('torch.to keyword and positional forms', async () => {
    const text = method([
      'a = torch.to(x, dtype=6, layout=0, device=torch.device("cuda:0"))',
      'b = torch.to(CONSTANTS.c0, torch.device("cpu"), 6, False, False, None)',
      'return torch.to(torch.to(a, torch.device("cpu")), torch.device("meta"))',
    ].join('\n'));
    await assertSites(text, [
      { kind: 'literal', device: 'cuda:0', text: 'torch.device("cuda:0")', usage: 'torch.to' },
      { kind: 'literal', device: 'cpu', text: 'torch.device("cpu")', usage: 'torch.to' },
      { kind: 'literal', device: 'cpu', text: 'torch.device("cpu")', usage: 'torch.to' },
      { kind: 'literal', device: 'meta', text: 'torch.device("meta")', usage: 'torch.to' },
    ]);
  });

  test('device without an index', async () => {
    await assertSites(method('return torch.zeros([1], dtype=None, layout=None, device=torch.device("cuda"))'), [
      { kind: 'literal', device: 'cuda', text: 'torch.device("cuda")', usage: 'torch.zeros' },
    ]);
  });

  test('two-argument form bound to a temporary', async () => {
    const text = method([
      '_0 = torch.device("cuda", 1)',
      'a = torch.zeros([2], dtype=None, layout=None, device=_0)',
      'b = torch.to(x, _0)',
      'return torch.add(a, b)',
    ].join('\n'));
    await assertSites(text, [
      { kind: 'two-argument', device: 'cuda:1', text: 'torch.device("cuda", 1)', usage: 'assignment to _0, used by torch.zeros, torch.to' },
    ]);
  });

  test('two-argument forms with other indices', async () => {
    const text = method([
      'a = torch.to(x, torch.device("cuda", -1))',
      'b = torch.to(x, torch.device(type="xpu", index=2))',
      'c = torch.to(x, torch.device("cuda", (3)))',
      'return (a, b, c)',
    ].join('\n'));
    await assertSites(text, [
      { kind: 'two-argument', device: 'cuda', text: 'torch.device("cuda", -1)', usage: 'torch.to' },
      { kind: 'two-argument', device: 'xpu:2', text: 'torch.device(type="xpu", index=2)', usage: 'torch.to' },
      { kind: 'two-argument', device: 'cuda:3', text: 'torch.device("cuda", (3))', usage: 'torch.to' },
    ]);
  });

  test('index from an attribute or a parameter', async () => {
    const text = method([
      'rank = self.rank',
      'a = torch.to(x, torch.device("cuda", rank))',
      'b = torch.to(x, torch.device("cuda", index))',
      'return (a, b)',
    ].join('\n'), 'x: Tensor,\n    index: int');
    await assertSites(text, [
      { kind: 'two-argument', device: 'cuda', text: 'torch.device("cuda", rank)', usage: 'torch.to', attribute: 'rank' },
      { kind: 'two-argument', device: 'cuda', text: 'torch.device("cuda", index)', usage: 'torch.to' },
    ]);
  });

  test('device from a string attribute', async () => {
    const text = method([
      'a = torch.to(x, torch.device(self.dev_str))',
      'dev_str = self.dev_str',
      'b = torch.to(x, torch.device(dev_str))',
      'sub = self.sub',
      'dev_str0 = sub.dev_str',
      'c = torch.to(x, torch.device(dev_str0))',
      '_1 = getattr(self, "0")',
      'd = torch.to(x, torch.device(_1.name))',
      'kind = self.kind',
      'e = torch.to(x, torch.device(kind, 0))',
      'return (a, b, c, d, e)',
    ].join('\n'));
    await assertSites(text, [
      { kind: 'from-attribute', device: '', text: 'torch.device(self.dev_str)', usage: 'torch.to', attribute: 'dev_str' },
      { kind: 'from-attribute', device: '', text: 'torch.device(dev_str)', usage: 'torch.to', attribute: 'dev_str' },
      { kind: 'from-attribute', device: '', text: 'torch.device(dev_str0)', usage: 'torch.to', attribute: 'sub.dev_str' },
      { kind: 'from-attribute', device: '', text: 'torch.device(_1.name)', usage: 'torch.to', attribute: '0.name' },
      { kind: 'from-attribute', device: '', text: 'torch.device(kind, 0)', usage: 'torch.to', attribute: 'kind' },
    ]);
  });

  test('lists and tuples of devices', async () => {
    const text = method([
      'devs = [torch.device("cuda:0"), torch.device("cuda:1")]',
      '_0 = (torch.device("cpu"), torch.device("meta"))',
      'return (devs, _0)',
    ].join('\n'));
    await assertSites(text, [
      { kind: 'literal', device: 'cuda:0', text: 'torch.device("cuda:0")', usage: 'list' },
      { kind: 'literal', device: 'cuda:1', text: 'torch.device("cuda:1")', usage: 'list' },
      { kind: 'literal', device: 'cpu', text: 'torch.device("cpu")', usage: 'tuple' },
      { kind: 'literal', device: 'meta', text: 'torch.device("meta")', usage: 'tuple' },
    ]);
  });

  test('scripted .cuda() and .cpu()', async () => {
    const text = method('f = torch.cuda(x)\ng = torch.cpu(torch.cuda(x, True))\nreturn (f, g)');
    await assertSites(text, [
      { kind: 'move-by-name', device: 'cuda', text: 'torch.cuda', usage: 'torch.cuda' },
      { kind: 'move-by-name', device: 'cpu', text: 'torch.cpu', usage: 'torch.cpu' },
      { kind: 'move-by-name', device: 'cuda', text: 'torch.cuda', usage: 'torch.cuda' },
    ]);
  });

  test('RNN hidden state traced without hx', async () => {
    const text = method([
      'max_batch_size = ops.prim.NumToTensor(torch.size(x, 1))',
      'hx = torch.zeros([4, int(max_batch_size), 512], dtype=6, layout=None, device=torch.device("cuda:0"), pin_memory=False)',
      '_3, _4, _5 = torch.lstm(x, [hx, hx], _2, True, 2, 0., True, False, False)',
      'return _3',
    ].join('\n'));
    await assertSites(text, [{ kind: 'literal', device: 'cuda:0', text: 'torch.device("cuda:0")', usage: 'torch.zeros' }]);
  });

  test('parameter default and module constant', async () => {
    const text = [
      'class Model(Module):',
      '  home : Final[Device] = torch.device("cuda:7")',
      '  def forward(self: __torch__.Model,',
      '    x: Tensor,',
      '    device: Device=torch.device("cuda:1")) -> Tensor:',
      '    return torch.to(x, device)',
      '',
    ].join('\n');
    await assertSites(text, [
      { kind: 'literal', device: 'cuda:7', text: 'torch.device("cuda:7")', usage: 'module constant home' },
      { kind: 'literal', device: 'cuda:1', text: 'torch.device("cuda:1")', usage: 'default of parameter device' },
    ]);
  });

  test('devices inside control flow', async () => {
    const text = method([
      'if flag:',
      '  m = torch.empty([1], dtype=None, layout=None, device=torch.device("xpu:1"))',
      'else:',
      '  m = torch.empty([1], dtype=None, layout=None, device=torch.device("mps"))',
      'for _4 in range(2):',
      '  _5 = torch.ones([1], dtype=None, layout=None, device=torch.device("cuda:4"))',
      'return m',
    ].join('\n'), 'x: Tensor,\n    flag: bool');
    const sites = await findDeviceSites(text);
    assert.deepEqual(sites.map((site) => site.device), ['xpu:1', 'mps', 'cuda:4']);
  });
});

describe('findDeviceSites on runtime devices', () => {
  test('reports nothing for runtime values', async () => {
    const text = method([
      '_0 = ops.prim.device(x)',
      'a = torch.empty([2], dtype=None, layout=None, device=_0)',
      'b = torch.zeros([2], dtype=None, layout=None, device=None)',
      'c = torch.to(x, 6)',
      'd = torch.to(x, torch.device(dev))',
      'source = ops.prim.device(x)',
      'e = torch.to(x, torch.device(source))',
      'f = torch.to(x, torch.device(target))',
      'g = torch.to(x, torch.device(ops.prim.device(x)))',
      'return (a, b, c, d, e, f, g)',
    ].join('\n'), 'x: Tensor,\n    dev: str,\n    target: Device');
    await assertSites(text, []);
  });

  test('reports nothing for other namespaces', async () => {
    const text = method([
      'a = foo.torch.device("cpu")',
      'b = torchx.device("cpu")',
      'c = torch.cuda.current_device()',
      '_0 = torch.device',
      'd = torch.cpu()',
      'return (a, b, c, d)',
    ].join('\n'));
    await assertSites(text, []);
  });

  test('reports nothing for a name assigned twice', async () => {
    // Two assignments give the name no single meaning, so the device is not known to come from an attribute.
    const text = method([
      'if flag:',
      '  dev = self.first',
      'else:',
      '  dev = self.second',
      'return torch.to(x, torch.device(dev))',
    ].join('\n'), 'x: Tensor,\n    flag: bool');
    await assertSites(text, []);
  });

  test('reports nothing for loop and tuple bindings', async () => {
    const text = method([
      'dev = self.dev_str',
      'for dev in devices:',
      '  x = torch.to(x, torch.device(dev))',
      'other = self.other',
      'other, y = (x, x)',
      'return torch.to(y, torch.device(other))',
    ].join('\n'), 'x: Tensor,\n    devices: List[str]');
    await assertSites(text, []);
  });

  test('self attribute outside a method', async () => {
    const text = 'def helper(self: Tensor) -> Device:\n  return torch.device(self.dev_str)\n';
    await assertSites(text, []);
  });
});

describe('findDeviceSites on text details', () => {
  test('ranges after non-ASCII text', async () => {
    const text = method([
      '__annotations__["déjà_vu"] = str',
      '_0 = ("設備😀", torch.device("cuda:1"))',
      'return _0',
    ].join('\n'));
    const [site] = await assertSites(text, [{ kind: 'literal', device: 'cuda:1', text: 'torch.device("cuda:1")', usage: 'tuple' }]);
    const line = text.split('\n')[6];
    assert.equal(site.range.start.line, 6);
    assert.equal(site.range.start.character, line.indexOf('torch.device'));
    const utf16Start = text.indexOf('torch.device');
    assert.equal(site.byteSpan.start, Buffer.byteLength(text.slice(0, utf16Start)));
    // é and à add one byte each, 設 and 備 two each, 😀 two more than its UTF-16 length.
    assert.equal(site.byteSpan.start - utf16Start, 2 + 4 + 2);
    assert.equal(site.byteSpan.end - site.byteSpan.start, 'torch.device("cuda:1")'.length);
  });

  test('escaped device literal', async () => {
    const text = method('a = torch.to(x, torch.device("cu\\144a:1"))\nb = torch.to(x, torch.device("cuda\\x31"))\nreturn (a, b)');
    await assertSites(text, [
      { kind: 'literal', device: 'cuda:1', text: 'torch.device("cu\\144a:1")', usage: 'torch.to' },
      // PyTorch cannot read \x, so the device stays as written.
      { kind: 'literal', device: 'cuda\\x31', text: 'torch.device("cuda\\x31")', usage: 'torch.to' },
    ]);
  });

  test('old op_version_set header', async () => {
    const text = [
      'op_version_set = 1',
      'def forward(self,',
      '    x: Tensor) -> Tensor:',
      '  _0 = torch.to(x, torch.device("cpu"), 6, False, False)',
      '  return torch.add(_0, CONSTANTS.c0, alpha=1)',
      '',
    ].join('\n');
    const [site] = await assertSites(text, [{ kind: 'literal', device: 'cpu', text: 'torch.device("cpu")', usage: 'torch.to' }]);
    assert.equal(site.range.start.line, 3);
  });

  test('CRLF line breaks', async () => {
    const text = method('a = torch.to(x, torch.device("cpu"))\nreturn torch.to(a, torch.device("cuda"))').replace(/\n/g, '\r\n');
    const sites = await assertSites(text, [
      { kind: 'literal', device: 'cpu', text: 'torch.device("cpu")', usage: 'torch.to' },
      { kind: 'literal', device: 'cuda', text: 'torch.device("cuda")', usage: 'torch.to' },
    ]);
    assert.deepEqual(sites.map((site) => site.range.start), [
      { line: 5, character: 20 },
      { line: 6, character: 23 },
    ]);
  });

  test('sites inside a syntax error', async () => {
    const text = method('a = torch.to(x, torch.device("cpu")) )))\nreturn a');
    const sites = await findDeviceSites(text);
    assert.deepEqual(sites.map((site) => rangeText(text, site)), ['torch.device("cpu")']);
  });

  test('empty text', async () => {
    assert.deepEqual(await findDeviceSites(''), []);
  });
});

describe('findDeviceSites on real archives', () => {
  test('d2go_optimized.pt has 21 cpu literals', async () => {
    const file = path.join(realFixturesDir, 'd2go_optimized.pt');
    const records = readCodeRecords(file);
    assert.deepEqual([...records.keys()].sort(), ['code/__torch__/___torch_mangle_636.py', 'code/__torch__/torch/classes/quantized.py']);

    const all: CodeDeviceSite[] = [];
    for (const [record, bytes] of records) {
      const text = decodeCodeRecord(bytes, { file, record });
      const sites = await findDeviceSites(text);
      for (const site of sites) {
        assert.equal(site.kind, 'literal');
        assert.equal(site.device, 'cpu');
        assert.equal(rangeText(text, site), 'torch.device("cpu")');
        assert.equal(bytes.subarray(site.byteSpan.start, site.byteSpan.end).toString('utf8'), 'torch.device("cpu")');
        assert.ok(['torch.to', 'torch.arange', 'torch.full', 'torch.full_like'].includes(site.usage), `usage ${site.usage}`);
      }
      all.push(...sites);
    }
    assert.equal(all.length, 21);
  });

  test('d2go sites follow the code lines', async () => {
    const file = path.join(realFixturesDir, 'd2go_optimized.pt');
    const record = 'code/__torch__/___torch_mangle_636.py';
    const text = decodeCodeRecord(readCodeRecords(file).get(record)!, { file, record });
    const sites = await findDeviceSites(text);
    const lines = text.split('\n');
    // Lines 41 and 124 (1-based) of the record hold the first keyword and positional forms.
    assert.equal(sites[0].range.start.line, 40);
    assert.equal(sites[0].range.start.character, lines[40].indexOf('torch.device("cpu")'));
    const positional = sites.find((site) => site.range.start.line === 123);
    assert.ok(positional, 'a site on line 124');
    assert.match(lines[123], /tensor0 = torch\.to\(tensor, torch\.device\("cpu"\), 6\)/);
    // The two runtime-device lines (`device=ops.prim.device(...)`) give no site.
    for (const lineNumber of [233, 353]) {
      assert.match(lines[lineNumber], /ops\.prim\.device/);
      assert.ok(!sites.some((site) => site.range.start.line === lineNumber), `no site on line ${lineNumber + 1}`);
    }
  });

  test('archives without devices give none', async () => {
    const files = fs.readdirSync(realFixturesDir).filter((name) => name.endsWith('.pt') && name !== 'd2go_optimized.pt');
    assert.ok(files.length >= 10, `fixtures found: ${files.join(', ')}`);
    for (const name of files) {
      const file = path.join(realFixturesDir, name);
      const records = readCodeRecords(file);
      assert.ok(records.size > 0, `${name} has code records`);
      for (const [record, bytes] of records) {
        assert.deepEqual(await findDeviceSites(decodeCodeRecord(bytes, { file, record })), [], `${name} ${record}`);
      }
    }
  });
});
