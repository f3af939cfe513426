import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LineIndex } from '../../server/src/code/codeText';
import { extractGraph } from '../../server/src/graph/extractGraph';
import type { GraphNode, ModelGraph } from '../../server/src/graph/graphTypes';

const repoRoot = path.resolve(__dirname, '..', '..');
const realFixtures = path.resolve(repoRoot, '..', 'shared', 'fixtures', 'real');
const venvPython = path.join(repoRoot, '.venv', 'bin', 'python');

interface CodeRecord {
  record: string;
  text: string;
}

/** Reads the code records of an archive with Python's zipfile, named without the top folder. */
function readCodeRecords(archive: string): CodeRecord[] {
  const script = [
    'import json, sys, zipfile',
    'z = zipfile.ZipFile(sys.argv[1])',
    'top = z.namelist()[0].split("/")[0]',
    'names = [n for n in z.namelist() if n.startswith(top + "/code/") and n.endswith(".py")]',
    'print(json.dumps([{"record": n[len(top) + 1:], "text": z.read(n).decode("utf-8")} for n in names]))',
  ].join('\n');
  return JSON.parse(execFileSync('python3', ['-c', script, archive], { encoding: 'utf8' })) as CodeRecord[];
}

/** Traces the classic example (factory ops that take the input's device) and a module with nested submodules. */
const TRACE_SCRIPT = `
import sys, torch, torch.nn as nn

class Classic(nn.Module):
    def forward(self, x):
        return torch.ones(x.shape, device=x.device) + torch.zeros_like(x)

class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 1)
        self.bn = nn.BatchNorm2d(3)
    def forward(self, x):
        return torch.relu(self.bn(self.conv(x))) + x

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block1 = Block()
        self.block2 = Block()
        self.fc = nn.Linear(3, 2)
    def forward(self, x):
        a = torch.ones(x.shape, device=x.device)
        h = self.block2(self.block1(x + a))
        return self.fc(h.mean([2, 3]))

out = sys.argv[1]
torch.jit.trace(Classic(), torch.randn(2, 3)).save(out + '/classic.pt')
torch.jit.trace(Net().eval(), torch.randn(1, 3, 4, 4)).save(out + '/net.pt')
torch.jit.script(Net().eval()).save(out + '/net_scripted.pt')
`;

function nodesOfKind(graph: ModelGraph, kind: GraphNode['kind']): GraphNode[] {
  return graph.nodes.filter((node) => node.kind === kind);
}

function sourceText(records: CodeRecord[], node: GraphNode): string {
  assert.ok(node.source, `node ${node.id} has no source`);
  const record = records.find((candidate) => candidate.record === node.source!.record);
  assert.ok(record, `node ${node.id} names unknown record ${node.source.record}`);
  const lines = new LineIndex(record.text);
  return record.text.slice(lines.offsetAt(node.source.range.start), lines.offsetAt(node.source.range.end));
}

/** Checks the invariants every extracted graph keeps: unique ids, edges between known nodes, ranges inside their records. */
function assertWellFormed(graph: ModelGraph, records: CodeRecord[]): void {
  const ids = new Set(graph.nodes.map((node) => node.id));
  assert.equal(ids.size, graph.nodes.length, 'node ids are unique');

  for (const edge of graph.edges) {
    assert.ok(ids.has(edge.from), `edge source ${edge.from} exists`);
    assert.ok(ids.has(edge.to), `edge target ${edge.to} exists`);
  }

  const groupIds = new Set(graph.groups.map((group) => group.id));
  for (const group of graph.groups) {
    assert.ok(ids.has(group.node), `group ${group.id} stands for node ${group.node}`);
    if (group.parent !== undefined) assert.ok(groupIds.has(group.parent), `group ${group.id} has a known parent`);
  }

  for (const node of graph.nodes) {
    if (node.group !== undefined) assert.ok(groupIds.has(node.group), `node ${node.id} is in known group ${node.group}`);
    assert.ok(node.source, `node ${node.id} has a source`);
    const record = records.find((candidate) => candidate.record === node.source!.record);
    assert.ok(record, `node ${node.id} names a passed record`);

    const lines = new LineIndex(record.text);
    const { start, end } = node.source.range;
    assert.ok(start.line < lines.lineCount, `range of ${node.id} starts inside the record's lines`);
    assert.ok(end.line < lines.lineCount, `range of ${node.id} ends inside the record's lines`);
    const startOffset = lines.offsetAt(start);
    const endOffset = lines.offsetAt(end);
    assert.deepEqual(lines.positionAt(startOffset), start, `start of ${node.id} is a real position`);
    assert.deepEqual(lines.positionAt(endOffset), end, `end of ${node.id} is a real position`);
    assert.ok(startOffset < endOffset, `range of ${node.id} is not empty`);
  }
}

/** Returns the ids reachable from `start` along edges. */
function reachableFrom(graph: ModelGraph, start: string): Set<string> {
  const successors = new Map<string, string[]>();
  for (const edge of graph.edges) successors.set(edge.from, [...(successors.get(edge.from) ?? []), edge.to]);
  const seen = new Set([start]);
  const stack = [start];
  while (stack.length > 0) {
    for (const next of successors.get(stack.pop()!) ?? []) {
      if (!seen.has(next)) {
        seen.add(next);
        stack.push(next);
      }
    }
  }
  return seen;
}

describe('extractGraph on traced archives', () => {
  let workDir: string;

  before(() => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'graph-extract-'));
    // torch.jit.script reads the module's source, so the script runs from a file.
    const script = path.join(workDir, 'trace_models.py');
    fs.writeFileSync(script, TRACE_SCRIPT);
    execFileSync(venvPython, [script, workDir], { stdio: ['ignore', 'ignore', 'inherit'] });
  });

  after(() => fs.rmSync(workDir, { recursive: true, force: true }));

  test('classic trace pins torch.ones to cpu', async () => {
    const records = readCodeRecords(path.join(workDir, 'classic.pt'));
    const graph = await extractGraph(records);
    assertWellFormed(graph, records);

    assert.equal(graph.root, '__torch__.Classic');
    assert.deepEqual(nodesOfKind(graph, 'input').map((node) => node.label), ['x']);

    const devices = nodesOfKind(graph, 'device');
    assert.equal(devices.length, 1);
    assert.equal(devices[0].device, 'cpu');
    assert.equal(sourceText(records, devices[0]), 'torch.device("cpu")');

    const ones = graph.nodes.find((node) => node.label === 'torch.ones');
    assert.ok(ones, 'torch.ones is an op node');
    assert.ok(graph.edges.some((edge) => edge.from === devices[0].id && edge.to === ones.id), 'the device flows into torch.ones');

    const zerosLike = graph.nodes.find((node) => node.label === 'torch.zeros_like');
    assert.ok(zerosLike, 'torch.zeros_like is an op node');
    assert.ok(graph.edges.some((edge) => edge.from === 'input@x' && edge.to === zerosLike.id), 'x flows into zeros_like');

    const [output] = nodesOfKind(graph, 'output');
    assert.ok(reachableFrom(graph, devices[0].id).has(output.id), 'the device reaches the output');
    assert.ok(reachableFrom(graph, 'input@x').has(output.id), 'the input reaches the output');
  });

  test('submodule calls become nested groups', async () => {
    const records = readCodeRecords(path.join(workDir, 'net.pt'));
    const graph = await extractGraph(records);
    assertWellFormed(graph, records);

    const groups = new Map(graph.groups.map((group) => [group.id, group]));
    for (const id of ['block1', 'block1.conv', 'block1.bn', 'block2', 'block2.conv', 'block2.bn', 'fc']) {
      assert.ok(groups.has(id), `group ${id} exists`);
    }
    assert.equal(groups.get('block1.conv')!.parent, 'block1');
    assert.equal(groups.get('block1')!.parent, undefined);
    assert.equal(groups.get('block1')!.label, 'block1: Block');
    assert.ok(graph.groups.every((group) => group.collapsed === true));

    const block1Node = graph.nodes.find((node) => node.id === groups.get('block1')!.node);
    assert.equal(block1Node?.kind, 'module');
    assert.equal(block1Node?.label, 'block1');
    assert.equal(block1Node?.group, undefined);
    assert.ok(!graph.edges.some((edge) => edge.from === block1Node.id || edge.to === block1Node.id), 'edges bypass the group node');

    const weight = graph.nodes.find((node) => node.label === 'block1.conv.weight');
    assert.equal(weight?.kind, 'attribute');
    assert.equal(weight?.group, 'block1.conv');

    const convolution = graph.nodes.find((node) => node.label === 'torch._convolution' && node.group === 'block2.conv');
    assert.ok(convolution?.name?.startsWith('block2.conv.'), `names inside a group carry its module path (${convolution?.name})`);

    // Data flows from the root input through both blocks into the linear layer.
    const [output] = nodesOfKind(graph, 'output').filter((node) => node.group === undefined);
    const linear = graph.nodes.find((node) => node.label === 'torch.linear');
    assert.equal(linear?.group, 'fc');
    const fromInput = reachableFrom(graph, 'input@x');
    assert.ok(fromInput.has('block1/input@input') || fromInput.has('block1/input@x'), 'x reaches block1');
    assert.ok(fromInput.has(linear.id), 'x reaches fc');
    assert.ok(fromInput.has(output.id), 'x reaches the output');
  });

  test('scripted helper functions are inlined', async () => {
    const records = readCodeRecords(path.join(workDir, 'net_scripted.pt'));
    const graph = await extractGraph(records);
    assertWellFormed(graph, records);

    const labels = graph.groups.map((group) => group.label);
    assert.ok(labels.includes('torch.nn.functional.batch_norm()'), `batch_norm is a group (${labels.join(', ')})`);
    assert.ok(labels.some((label) => label.endsWith('._conv_forward()')), 'a method called on self is a group');
    assert.ok(graph.nodes.some((node) => node.label === 'torch.batch_norm'), 'the inlined body is in the graph');
  });

  test('rootClass selects another class', async () => {
    const records = readCodeRecords(path.join(workDir, 'net.pt'));
    const graph = await extractGraph(records, '__torch__.Block');
    assert.equal(graph.root, '__torch__.Block');
    assert.deepEqual(nodesOfKind(graph, 'input').filter((node) => node.group === undefined).map((node) => node.label), ['input']);
  });
});

describe('extractGraph on d2go_optimized.pt', () => {
  const records = readCodeRecords(path.join(realFixtures, 'd2go_optimized.pt'));

  test('every device literal is a device node', async () => {
    const graph = await extractGraph(records);
    assertWellFormed(graph, records);
    assert.equal(graph.root, '__torch__.___torch_mangle_636.Wrapper');

    const devices = nodesOfKind(graph, 'device');
    assert.equal(devices.length, 21);
    for (const device of devices) {
      assert.equal(device.device, 'cpu');
      assert.equal(sourceText(records, device), 'torch.device("cpu")');
    }

    const literalCount = records.reduce((count, record) => count + record.text.split('torch.device("cpu")').length - 1, 0);
    assert.equal(devices.length, literalCount);
  });

  test('tensor constants are shared within a scope', async () => {
    const graph = await extractGraph(records);
    const c60 = graph.nodes.filter((node) => node.label === 'CONSTANTS.c60');
    assert.equal(c60.length, 1);
    assert.equal(c60[0].literal, undefined);
    assert.equal(graph.edges.filter((edge) => edge.from === c60[0].id).length, 8);
  });

  test('the input reaches both outputs', async () => {
    const graph = await extractGraph(records);
    const outputs = nodesOfKind(graph, 'output');
    assert.deepEqual(outputs.map((node) => node.label), ['output 0', 'output 1']);

    const fromInput = reachableFrom(graph, 'input@inputs');
    for (const output of outputs) assert.ok(fromInput.has(output.id), `${output.label} depends on the input`);

    // `torch._set_item(res, ...)` fills the dict that the second output returns.
    const setItems = graph.nodes.filter((node) => node.label === 'torch._set_item');
    assert.equal(setItems.length, 3);
    const intoOutput = graph.edges.filter((edge) => edge.to === outputs[1].id).map((edge) => edge.from);
    assert.ok(setItems.some((node) => intoOutput.includes(node.id)), 'the last _set_item feeds the output');
  });
});

describe('extractGraph on crafted code', () => {
  const header = 'class M(Module):\n  __parameters__ = []\n  training : bool\n';

  test('two-argument and attribute devices', async () => {
    const text = `${header}  dev : str\n  def forward(self: __torch__.M,\n    x: Tensor) -> Tensor:\n    _0 = torch.device("cuda", 1)\n    _1 = torch.to(x, torch.device(self.dev), 6)\n    return torch.to(_1, _0, 6)\n`;
    const records = [{ record: 'code/__torch__.py', text }];
    const graph = await extractGraph(records);
    assertWellFormed(graph, records);

    const devices = nodesOfKind(graph, 'device');
    assert.deepEqual(devices.map((node) => node.device), ['cuda:1']);
    assert.equal(devices[0].name, '_0');

    const runtimeDevice = graph.nodes.find((node) => node.label === 'torch.device');
    assert.equal(runtimeDevice?.kind, 'op');
    const attribute = graph.nodes.find((node) => node.label === 'self.dev');
    assert.ok(graph.edges.some((edge) => edge.from === attribute?.id && edge.to === runtimeDevice.id));
  });

  test('if branches merge their definitions', async () => {
    const text = `${header}  def forward(self: __torch__.M,\n    x: Tensor) -> Tensor:\n    if bool(x):\n      _0 = torch.relu(x)\n      y = _0\n    else:\n      y = torch.neg(x)\n    return y\n`;
    const graph = await extractGraph([{ record: 'code/__torch__.py', text }]);
    const [output] = nodesOfKind(graph, 'output');
    const into = graph.edges.filter((edge) => edge.to === output.id).map((edge) => graph.nodes.find((node) => node.id === edge.from)?.label);
    assert.deepEqual(into.sort(), ['torch.neg', 'torch.relu']);
  });

  test('recursive methods stay single nodes', async () => {
    const text = `${header}  def forward(self: __torch__.M,\n    x: Tensor) -> Tensor:\n    return (self).forward(x, )\n  def helper(self: __torch__.M,\n    x: Tensor) -> Tensor:\n    return (self).helper(x, )\n`;
    const graph = await extractGraph([{ record: 'code/__torch__.py', text }]);
    assert.equal(graph.groups.length, 0);
    assert.ok(graph.nodes.some((node) => node.label === 'self.forward'));
  });

  test('deep nesting does not overflow the stack', async () => {
    const depth = 3000;
    const expression = `${'torch.neg('.repeat(depth)}x${')'.repeat(depth)}`;
    const text = `${header}  def forward(self: __torch__.M,\n    x: Tensor) -> Tensor:\n    return ${expression}\n`;
    const graph = await extractGraph([{ record: 'code/__torch__.py', text }]);
    assert.ok(graph.nodes.length > 100, 'the outer calls are still nodes');
    assert.equal(nodesOfKind(graph, 'output').length, 1);
  });

  test('ranges count UTF-16 code units', async () => {
    const text = `${header}  def forward(self: __torch__.M,\n    x: Tensor) -> Tensor:\n    _0 = "é😀"\n    return torch.to(x, torch.device("cpu"), 6)\n`;
    const records = [{ record: 'code/__torch__.py', text }];
    const graph = await extractGraph(records);
    assertWellFormed(graph, records);
    const [device] = nodesOfKind(graph, 'device');
    assert.equal(sourceText(records, device), 'torch.device("cpu")');
  });

  test('markup in names stays plain text', async () => {
    const text = `${header}  def forward(self: __torch__.M,\n    x: Tensor) -> Tensor:\n    _0 = torch.to(x, torch.device("<img src=x onerror=alert(1)>"), 6)\n    return _0\n`;
    const graph = await extractGraph([{ record: 'code/__torch__.py', text }]);
    assert.equal(nodesOfKind(graph, 'device')[0].device, '<img src=x onerror=alert(1)>');
  });

  test('no class gives an empty graph', async () => {
    const graph = await extractGraph([{ record: 'code/__torch__/torch/classes/quantized.py', text: '' }]);
    assert.deepEqual(graph, { nodes: [], edges: [], groups: [] });
  });
});
