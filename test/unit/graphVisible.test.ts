import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { GraphNode, ModelGraph } from '../../server/src/graph/graphTypes';
import type { ViewOptions } from '../../media/src/graph/protocol';
import { buildVisibleGraph, GroupIndex } from '../../media/src/graph/visibleGraph';
import { computeVisibleLayout } from '../../media/src/graph/visibleLayout';

const source = { record: 'code/__torch__.py', range: { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } } };

function node(id: string, kind: GraphNode['kind'], extra: Partial<GraphNode> = {}): GraphNode {
  return { id, kind, label: id, source, ...extra };
}

/**
 * x -> block1 (a group holding conv, itself a group) -> relu -> output, with a device
 * inside block1.conv and a literal feeding relu.
 */
const nested: ModelGraph = {
  nodes: [
    node('input@x', 'input'),
    node('module@1', 'module', { label: 'block1' }),
    node('block1/input@x', 'input', { group: 'block1' }),
    node('block1/module@2', 'module', { label: 'block1.conv', group: 'block1' }),
    node('block1.conv/input@x', 'input', { group: 'block1.conv' }),
    node('block1.conv/device@3', 'device', { device: 'cuda:1', group: 'block1.conv' }),
    node('block1.conv/op@4', 'op', { label: 'torch.conv2d', group: 'block1.conv' }),
    node('block1.conv/output@5', 'output', { group: 'block1.conv' }),
    node('block1/output@6', 'output', { group: 'block1' }),
    node('constant@7', 'constant', { label: '0', literal: true }),
    node('op@8', 'op', { label: 'torch.relu' }),
    node('output@9', 'output'),
  ],
  edges: [
    { from: 'input@x', to: 'block1/input@x' },
    { from: 'block1/input@x', to: 'block1.conv/input@x' },
    { from: 'block1.conv/input@x', to: 'block1.conv/op@4' },
    { from: 'block1.conv/device@3', to: 'block1.conv/op@4' },
    { from: 'block1.conv/op@4', to: 'block1.conv/output@5' },
    { from: 'block1.conv/output@5', to: 'block1/output@6' },
    { from: 'block1/output@6', to: 'op@8' },
    { from: 'constant@7', to: 'op@8' },
    { from: 'op@8', to: 'output@9' },
  ],
  groups: [
    { id: 'block1', label: 'block1: Block', node: 'module@1', collapsed: true },
    { id: 'block1.conv', label: 'block1.conv: Conv2d', parent: 'block1', node: 'block1/module@2', collapsed: true },
  ],
};

function options(change: Partial<ViewOptions> = {}): ViewOptions {
  return { expanded: [], onlyPinnedPaths: false, showLiterals: false, ...change };
}

function ids(graph: { nodes: { id: string }[] }): string[] {
  return graph.nodes.map((visible) => visible.id).sort();
}

describe('buildVisibleGraph', () => {
  const index = new GroupIndex(nested);

  test('collapsed groups fold into their node', () => {
    const visible = buildVisibleGraph(index, options());
    assert.deepEqual(ids(visible), ['input@x', 'module@1', 'op@8', 'output@9']);
    assert.deepEqual(visible.edges, [
      { from: 'input@x', to: 'module@1' },
      { from: 'module@1', to: 'op@8' },
      { from: 'op@8', to: 'output@9' },
    ]);

    const block = visible.nodes.find((candidate) => candidate.id === 'module@1')!;
    assert.equal(block.collapsedGroup, 'block1');
    assert.equal(block.hiddenCount, 7);
    assert.deepEqual(block.devices, ['cuda:1'], 'a collapsed group carries the devices inside it');
  });

  test('expanding shows the members', () => {
    const visible = buildVisibleGraph(index, options({ expanded: ['block1'] }));
    assert.ok(!ids(visible).includes('module@1'), 'the node of an expanded group is hidden');
    assert.ok(ids(visible).includes('block1/module@2'), 'the inner group stays collapsed');
    assert.ok(visible.edges.some((edge) => edge.from === 'input@x' && edge.to === 'block1/input@x'));
  });

  test('inner group expanded inside collapsed parent', () => {
    // Expanding only the inner group changes nothing while its parent is collapsed.
    assert.deepEqual(ids(buildVisibleGraph(index, options({ expanded: ['block1.conv'] }))), ids(buildVisibleGraph(index, options())));
  });

  test('literals show on request', () => {
    assert.ok(!ids(buildVisibleGraph(index, options())).includes('constant@7'));
    assert.ok(ids(buildVisibleGraph(index, options({ showLiterals: true }))).includes('constant@7'));
  });

  test('inputs of the root are pinned to the top', () => {
    const visible = buildVisibleGraph(index, options({ expanded: ['block1'] }));
    assert.deepEqual(
      visible.nodes.filter((candidate) => candidate.pinTop).map((candidate) => candidate.id),
      ['input@x'],
    );
  });

  test('pinned paths go through devices', () => {
    // A second input that reaches the output without meeting a device drops out.
    const graph: ModelGraph = {
      ...nested,
      nodes: [...nested.nodes, node('input@y', 'input'), node('op@10', 'op', { label: 'torch.neg' }), node('output@11', 'output')],
      edges: [...nested.edges, { from: 'input@y', to: 'op@10' }, { from: 'op@10', to: 'output@11' }],
    };
    const visible = buildVisibleGraph(new GroupIndex(graph), options({ onlyPinnedPaths: true, expanded: ['block1', 'block1.conv'] }));
    assert.deepEqual(ids(visible), [
      'block1.conv/device@3',
      'block1.conv/input@x',
      'block1.conv/op@4',
      'block1.conv/output@5',
      'block1/input@x',
      'block1/output@6',
      'input@x',
      'op@8',
      'output@9',
    ]);
  });

  test('pinned paths use collapsed devices', () => {
    const visible = buildVisibleGraph(index, options({ onlyPinnedPaths: true }));
    assert.deepEqual(ids(visible), ['input@x', 'module@1', 'op@8', 'output@9']);
  });

  test('group cycles in crafted data end', () => {
    const cyclic: ModelGraph = {
      nodes: [node('a', 'op', { group: 'g1' }), node('n1', 'module'), node('n2', 'module')],
      edges: [],
      groups: [
        { id: 'g1', label: 'g1', parent: 'g2', node: 'n1', collapsed: true },
        { id: 'g2', label: 'g2', parent: 'g1', node: 'n2', collapsed: true },
      ],
    };
    const cyclicIndex = new GroupIndex(cyclic);
    assert.deepEqual(cyclicIndex.ancestry('g1'), ['g1', 'g2']);
    assert.ok(buildVisibleGraph(cyclicIndex, options()).nodes.length > 0);
  });
});

describe('computeVisibleLayout', () => {
  const index = new GroupIndex(nested);

  test('outlines enclose nested groups', () => {
    const layout = computeVisibleLayout(index, {}, options({ expanded: ['block1', 'block1.conv'] }));
    assert.deepEqual(
      layout.groupBoxes.map((box) => box.id),
      ['block1', 'block1.conv'],
      'outer outlines come first so inner ones are drawn on top',
    );

    const [outer, inner] = layout.groupBoxes;
    assert.ok(outer.x < inner.x, 'the outer outline starts left of the inner one');
    assert.ok(outer.y < inner.y, 'the outer outline starts above the inner one');
    assert.ok(outer.x + outer.width > inner.x + inner.width, 'the outer outline ends right of the inner one');
    assert.ok(outer.y + outer.height > inner.y + inner.height, 'the outer outline ends below the inner one');

    const members = layout.nodes.filter((candidate) => index.nodesById.get(candidate.id)?.group === 'block1.conv');
    assert.equal(members.length, 4);
    for (const member of members) {
      assert.ok(member.x - member.width / 2 > inner.x, `${member.id} starts inside`);
      assert.ok(member.x + member.width / 2 < inner.x + inner.width, `${member.id} ends inside`);
      assert.ok(member.y - member.height / 2 > inner.y, `${member.id} starts below the top`);
      assert.ok(member.y + member.height / 2 < inner.y + inner.height, `${member.id} ends above the bottom`);
    }
  });

  test('measured sizes reach the layout', () => {
    const layout = computeVisibleLayout(index, { 'op@8': [222, 44] }, options());
    const relu = layout.nodes.find((candidate) => candidate.id === 'op@8')!;
    assert.equal(relu.width, 222);
    assert.equal(relu.height, 44);
  });
});
