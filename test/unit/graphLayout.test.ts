import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generateNetworkGraph } from '../../bench/graphLayout';
import { layoutGraph, type GraphLayout, type LayoutEdge, type LayoutNode } from '../../media/src/graph/layout/layout';
import { buildLayeredGraph, countCrossings } from '../../media/src/graph/layout/ordering';

const NODE_SEPARATION = 24;
const EDGE_SEPARATION = 10;

function chain(count: number): { nodes: LayoutNode[]; edges: LayoutEdge[] } {
  const nodes = Array.from({ length: count }, (_, i) => ({ id: `n${i}`, width: 40 + (i % 7) * 10, height: 20 }));
  const edges = nodes.slice(1).map((node, i) => ({ from: nodes[i].id, to: node.id }));
  return { nodes, edges };
}

/** Asserts that nodes sharing a layer keep the node separation between their boxes. */
function assertNoOverlap(layout: GraphLayout): void {
  const byLayer = new Map<number, GraphLayout['nodes']>();
  for (const node of layout.nodes) byLayer.set(node.layer, [...(byLayer.get(node.layer) ?? []), node]);

  for (const [layer, nodes] of byLayer) {
    nodes.sort((a, b) => a.x - b.x);
    for (let i = 1; i < nodes.length; i++) {
      const gap = nodes[i].x - nodes[i].width / 2 - (nodes[i - 1].x + nodes[i - 1].width / 2);
      assert.ok(gap >= NODE_SEPARATION - 1e-6, `layer ${layer}: ${nodes[i - 1].id} and ${nodes[i].id} are ${gap} apart`);
    }
    for (const node of nodes) assert.equal(node.y, nodes[0].y, `layer ${layer} shares one centre line`);
  }
}

/** Asserts that every edge of a DAG runs from the bottom of its source down to the top of its target. */
function assertDownward(layout: GraphLayout): void {
  const byId = new Map(layout.nodes.map((node) => [node.id, node]));
  for (const edge of layout.edges) {
    const from = byId.get(edge.from)!;
    const to = byId.get(edge.to)!;
    assert.ok(to.y > from.y, `${edge.from} -> ${edge.to} points downwards`);
    assert.equal(edge.points[1], from.y + from.height / 2, `${edge.from} -> ${edge.to} starts at the source's bottom`);
    assert.equal(edge.points[edge.points.length - 1], to.y - to.height / 2, `${edge.from} -> ${edge.to} ends at the target's top`);
    for (let i = 3; i < edge.points.length; i += 2) {
      assert.ok(edge.points[i] > edge.points[i - 2], `${edge.from} -> ${edge.to} descends at every point`);
    }
  }
}

/** Asserts that edges passing through a layer keep clear of that layer's nodes. */
function assertBendsAvoidNodes(layout: GraphLayout): void {
  const byY = new Map<number, GraphLayout['nodes']>();
  for (const node of layout.nodes) byY.set(node.y, [...(byY.get(node.y) ?? []), node]);

  for (const edge of layout.edges) {
    for (let i = 2; i + 2 < edge.points.length; i += 2) {
      const [x, y] = [edge.points[i], edge.points[i + 1]];
      for (const node of byY.get(y) ?? []) {
        const clearance = Math.abs(x - node.x) - node.width / 2;
        assert.ok(clearance >= (NODE_SEPARATION + EDGE_SEPARATION) / 2 - 1e-6, `${edge.from} -> ${edge.to} passes ${node.id} at ${clearance}`);
      }
    }
  }
}

/** Counts crossings between adjacent layers by comparing every pair of edges. */
function bruteForceCrossings(layers: number[][], edges: [number, number][]): number {
  const position = new Map<number, number>();
  for (const layer of layers) layer.forEach((v, i) => position.set(v, i));
  let crossings = 0;
  for (let i = 0; i < edges.length; i++) {
    for (let j = i + 1; j < edges.length; j++) {
      const [a, b] = edges[i];
      const [c, d] = edges[j];
      const sameLayers = layers.findIndex((layer) => layer.includes(a)) === layers.findIndex((layer) => layer.includes(c));
      if (!sameLayers) continue;
      const order = Math.sign(position.get(a)! - position.get(c)!) * Math.sign(position.get(b)! - position.get(d)!);
      if (order < 0) crossings++;
    }
  }
  return crossings;
}

describe('layoutGraph', () => {
  test('network nodes do not overlap', () => {
    const { nodes, edges } = generateNetworkGraph(3000, 7);
    const layout = layoutGraph(nodes, edges);
    assertNoOverlap(layout);
    assertDownward(layout);
    assertBendsAvoidNodes(layout);
  });

  test('network layout stays narrow', () => {
    // Operator chains run straight, so the width does not grow with the length of the network.
    const { nodes, edges } = generateNetworkGraph(3000, 7);
    const layout = layoutGraph(nodes, edges);
    const widest = Math.max(...nodes.map((node) => node.width));
    assert.ok(layout.width < 12 * widest, `width ${layout.width} for nodes up to ${widest} wide`);
  });

  test('20,000-node chain is one column', () => {
    const { nodes, edges } = chain(20000);
    const layout = layoutGraph(nodes, edges);
    assert.equal(layout.nodes.length, 20000);
    assert.equal(layout.edges.length, 19999);
    assert.equal(new Set(layout.nodes.map((node) => node.x)).size, 1, 'every node of the chain has the same x');
    assert.equal(layout.nodes[19999].layer, 19999);
    assertDownward(layout);
  });

  test('20,000-node network completes', () => {
    const { nodes, edges } = generateNetworkGraph(20000, 3);
    const layout = layoutGraph(nodes, edges);
    assert.equal(layout.nodes.length, 20000);
    assert.ok(layout.nodes.every((node) => Number.isFinite(node.x) && Number.isFinite(node.y)));
    assertNoOverlap(layout);
  });

  test('long skip edges get bend points', () => {
    const { nodes, edges } = chain(10);
    const layout = layoutGraph(nodes, [...edges, { from: 'n0', to: 'n9' }]);
    const skip = layout.edges.find((edge) => edge.from === 'n0' && edge.to === 'n9')!;
    assert.equal(skip.points.length, 2 * 10, 'one point per crossed layer plus both ends');
    assertBendsAvoidNodes(layout);
    assertNoOverlap(layout);
  });

  test('dummy limit draws long edges straight', () => {
    const { nodes, edges } = chain(50);
    const layout = layoutGraph(nodes, [...edges, { from: 'n0', to: 'n49' }, { from: 'n1', to: 'n5' }], { maxDummies: 5 });
    assert.equal(layout.edges.find((edge) => edge.from === 'n0')!.points.length, 4, 'n0 -> n49 has no bends');
    assert.equal(layout.edges.find((edge) => edge.from === 'n1' && edge.to === 'n5')!.points.length, 10, 'n1 -> n5 has 3 bends');
  });

  test('cycles are broken', () => {
    const nodes = ['a', 'b', 'c'].map((id) => ({ id, width: 30, height: 20 }));
    const edges = [
      { from: 'a', to: 'b' },
      { from: 'b', to: 'c' },
      { from: 'c', to: 'a' },
    ];
    const layout = layoutGraph(nodes, edges);
    assertNoOverlap(layout);
    assert.equal(layout.edges.length, 3);

    // The reversed edge still starts at its own source.
    const back = layout.edges.find((edge) => edge.from === 'c')!;
    const c = layout.nodes.find((node) => node.id === 'c')!;
    const a = layout.nodes.find((node) => node.id === 'a')!;
    assert.equal(back.points[0], c.x);
    assert.equal(back.points[back.points.length - 2], a.x);
    assert.ok(back.points[1] > back.points[back.points.length - 1], 'c -> a runs upwards');
  });

  test('inputs stay on top and constants sink', () => {
    const { nodes, edges } = chain(6);
    nodes[0].pinTop = true;
    const withExtras = [...nodes, { id: 'x', width: 30, height: 20, pinTop: true }, { id: 'constant', width: 30, height: 20 }];
    const layout = layoutGraph(withExtras, [...edges, { from: 'x', to: 'n5' }, { from: 'constant', to: 'n4' }]);
    const layerOf = (id: string): number => layout.nodes.find((node) => node.id === id)!.layer;
    assert.equal(layerOf('x'), 0);
    assert.equal(layerOf('n0'), 0);
    assert.equal(layerOf('constant'), 3);
  });

  test('unknown ends and self-loops are dropped', () => {
    const { nodes, edges } = chain(3);
    const layout = layoutGraph(nodes, [...edges, { from: 'n0', to: 'missing' }, { from: 'n1', to: 'n1' }, { from: 'n0', to: 'n1' }]);
    assert.equal(layout.edges.length, 3, 'two chain edges and the duplicate');
    assert.deepEqual(layout.edges[2].points, layout.edges[0].points);
  });

  test('empty graph has no size', () => {
    const layout = layoutGraph([], []);
    assert.deepEqual(layout, { nodes: [], edges: [], width: 0, height: 0, crossings: 0 });
  });

  test('crossed pairs get uncrossed', () => {
    // a -> d and b -> c start out crossed when c comes first in its layer.
    const nodes = ['a', 'b', 'c', 'd'].map((id) => ({ id, width: 30, height: 20 }));
    const layout = layoutGraph(nodes, [
      { from: 'b', to: 'c' },
      { from: 'a', to: 'd' },
    ]);
    assert.equal(layout.crossings, 0);
    const x = (id: string): number => layout.nodes.find((node) => node.id === id)!.x;
    assert.equal(Math.sign(x('a') - x('b')), Math.sign(x('d') - x('c')));
  });

  test('same input gives the same layout', () => {
    const { nodes, edges } = generateNetworkGraph(800, 11);
    assert.deepEqual(layoutGraph(nodes, edges), layoutGraph(nodes, edges));
  });
});

describe('countCrossings', () => {
  test('matches pairwise counting', () => {
    let seed = 12345;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };

    for (let trial = 0; trial < 50; trial++) {
      const layerSizes = Array.from({ length: 4 }, () => 1 + Math.floor(random() * 6));
      const layers: number[][] = [];
      let next = 0;
      for (const size of layerSizes) layers.push(Array.from({ length: size }, () => next++));

      const edges: [number, number][] = [];
      for (let l = 0; l + 1 < layers.length; l++) {
        for (const from of layers[l]) {
          for (const to of layers[l + 1]) if (random() < 0.4) edges.push([from, to]);
        }
      }

      const layerOf = new Int32Array(next);
      layers.forEach((layer, l) => layer.forEach((v) => (layerOf[v] = l)));
      const graph = buildLayeredGraph(next, Int32Array.from(edges, ([from]) => from), Int32Array.from(edges, ([, to]) => to), layerOf, 0);
      graph.layers = layers.map((layer) => Int32Array.from(layer));
      layers.forEach((layer) => layer.forEach((v, i) => (graph.position[v] = i)));

      assert.equal(countCrossings(graph), bruteForceCrossings(layers, edges), `trial ${trial}`);
    }
  });
});
