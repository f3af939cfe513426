import { assignLayerY, assignX, type Spacing } from './coordinates';
import { assignLayers, findBackEdges } from './layering';
import { buildLayeredGraph, reduceCrossings } from './ordering';

/**
 * A layered (Sugiyama-style) top-down graph layout in plain TypeScript, without DOM or
 * recursion, so that the webview's worker and the benchmark run the same code:
 * 1. reverse the back edges of a depth-first search to break cycles,
 * 2. assign layers by longest path, then sink nodes towards their uses,
 * 3. split long edges into chains of dummy vertices,
 * 4. order layers with barycenter sweeps, keeping the order with the fewest crossings,
 * 5. place x after Brandes and Köpf, with straight operator chains (see coordinates.ts),
 * 6. route each edge through its dummies.
 */

export interface LayoutNode {
  id: string;
  width: number;
  height: number;
  /** Keeps the node in the top layer (graph inputs). */
  pinTop?: boolean;
}

export interface LayoutEdge {
  from: string;
  to: string;
}

export interface LayoutOptions {
  nodeSeparation?: number;
  edgeSeparation?: number;
  layerSeparation?: number;
  /** Barycenter iterations (one downward and one upward sweep each). */
  crossingIterations?: number;
  /** Dummy vertices allowed in total; beyond it the longest edges are drawn straight. */
  maxDummies?: number;
}

export interface PlacedNode {
  id: string;
  /** Centre of the node. */
  x: number;
  y: number;
  width: number;
  height: number;
  layer: number;
}

export interface RoutedEdge {
  from: string;
  to: string;
  /** Polyline from the source's border to the target's border, as x, y pairs. */
  points: number[];
}

export interface GraphLayout {
  /** In the order of the input nodes. */
  nodes: PlacedNode[];
  /** In the order of the input edges, without self-loops and edges to unknown nodes. */
  edges: RoutedEdge[];
  width: number;
  height: number;
  crossings: number;
}

const DEFAULTS: Required<LayoutOptions> = {
  nodeSeparation: 24,
  edgeSeparation: 10,
  layerSeparation: 36,
  crossingIterations: 4,
  maxDummies: 1_000_000,
};

export function layoutGraph(nodes: readonly LayoutNode[], edges: readonly LayoutEdge[], options: LayoutOptions = {}): GraphLayout {
  const settings = { ...DEFAULTS, ...options };
  const spacing: Spacing = {
    nodeSeparation: settings.nodeSeparation,
    edgeSeparation: settings.edgeSeparation,
    layerSeparation: settings.layerSeparation,
  };
  const nodeCount = nodes.length;

  // Index the nodes and keep one layout edge per distinct (from, to) pair.
  const indexOf = new Map<string, number>();
  nodes.forEach((node, index) => indexOf.set(node.id, index));
  const pairIndex = new Map<number, number>();
  const edgeOfInput = new Int32Array(edges.length).fill(-1);
  const pairSources: number[] = [];
  const pairTargets: number[] = [];
  edges.forEach((edge, inputIndex) => {
    const from = indexOf.get(edge.from);
    const to = indexOf.get(edge.to);
    if (from === undefined || to === undefined || from === to) return;
    const key = from * nodeCount + to;
    let pair = pairIndex.get(key);
    if (pair === undefined) {
      pair = pairSources.length;
      pairIndex.set(key, pair);
      pairSources.push(from);
      pairTargets.push(to);
    }
    edgeOfInput[inputIndex] = pair;
  });

  // Break cycles: a reversed edge points downwards during the layout and is turned back when routed.
  const sources = Int32Array.from(pairSources);
  const targets = Int32Array.from(pairTargets);
  const reversed = findBackEdges(nodeCount, sources, targets);
  const downSources = sources.map((source, edge) => (reversed[edge] ? targets[edge] : source));
  const downTargets = targets.map((target, edge) => (reversed[edge] ? sources[edge] : target));

  const pinnedTop = Uint8Array.from(nodes, (node) => (node.pinTop ? 1 : 0));
  const layerOf = assignLayers(nodeCount, downSources, downTargets, pinnedTop);
  const graph = buildLayeredGraph(nodeCount, downSources, downTargets, layerOf, settings.maxDummies);
  const crossings = reduceCrossings(graph, settings.crossingIterations);

  const widths = new Float64Array(graph.vertexCount);
  const heights = new Float64Array(graph.vertexCount);
  nodes.forEach((node, index) => {
    widths[index] = node.width;
    heights[index] = node.height;
  });
  const x = assignX(graph, widths, spacing);
  const layerY = assignLayerY(graph, heights, spacing);

  let left = Infinity;
  let right = -Infinity;
  for (let v = 0; v < graph.vertexCount; v++) {
    left = Math.min(left, x[v] - widths[v] / 2);
    right = Math.max(right, x[v] + widths[v] / 2);
  }
  if (graph.vertexCount === 0) left = right = 0;
  const bottom = graph.layers.length === 0 ? 0 : layerY[graph.layers.length - 1] + maxHeight(graph.layers[graph.layers.length - 1], heights) / 2;

  const placed: PlacedNode[] = nodes.map((node, index) => ({
    id: node.id,
    x: x[index] - left,
    y: layerY[graph.layerOf[index]],
    width: node.width,
    height: node.height,
    layer: graph.layerOf[index],
  }));

  const routes: number[][] = Array.from({ length: sources.length }, (_, pair) => {
    const from = downSources[pair];
    const to = downTargets[pair];
    const chain = graph.chains[pair] ?? Int32Array.of(from, to);
    const points: number[] = [x[from] - left, layerY[graph.layerOf[from]] + heights[from] / 2];
    for (let step = 1; step + 1 < chain.length; step++) points.push(x[chain[step]] - left, layerY[graph.layerOf[chain[step]]]);
    points.push(x[to] - left, layerY[graph.layerOf[to]] - heights[to] / 2);
    return reversed[pair] ? reversePoints(points) : points;
  });

  const routed: RoutedEdge[] = [];
  edges.forEach((edge, inputIndex) => {
    const pair = edgeOfInput[inputIndex];
    if (pair >= 0) routed.push({ from: edge.from, to: edge.to, points: routes[pair] });
  });

  return { nodes: placed, edges: routed, width: right - left, height: bottom, crossings };
}

function maxHeight(layer: Int32Array, heights: Float64Array): number {
  let height = 0;
  for (const v of layer) height = Math.max(height, heights[v]);
  return height;
}

function reversePoints(points: number[]): number[] {
  const result: number[] = [];
  for (let i = points.length - 2; i >= 0; i -= 2) result.push(points[i], points[i + 1]);
  return result;
}
