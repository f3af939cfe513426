/**
 * The middle steps of the layered layout: split long edges into chains of dummy vertices,
 * one per layer crossed, then order each layer to reduce edge crossings with barycenter
 * sweeps.
 */

/** The layout's graph once every edge spans exactly one layer. Vertices below `realCount` are the input nodes. */
export interface LayeredGraph {
  vertexCount: number;
  realCount: number;
  layerOf: Int32Array;
  /** Vertex indices per layer, in their current left-to-right order. */
  layers: Int32Array[];
  /** Position of each vertex within its layer. */
  position: Int32Array;
  /** Neighbours one layer up: `upperList[upperStart[v] .. upperStart[v + 1])`. */
  upperStart: Int32Array;
  upperList: Int32Array;
  /** Neighbours one layer down, stored like the upper ones. */
  lowerStart: Int32Array;
  lowerList: Int32Array;
  /** For each layout edge: the vertices it passes, top to bottom, or undefined when it is drawn without dummies. */
  chains: (Int32Array | undefined)[];
}

/**
 * Builds the layered graph. Each edge (already pointing downwards) gets a dummy per
 * layer it crosses, unless the dummies would exceed `maxDummies`: then the longest edges
 * get none, take no part in the ordering and are drawn as straight lines.
 */
export function buildLayeredGraph(
  nodeCount: number,
  sources: Int32Array,
  targets: Int32Array,
  layerOf: Int32Array,
  maxDummies: number,
): LayeredGraph {
  const edgeCount = sources.length;
  const spans = new Int32Array(edgeCount);
  let dummyTotal = 0;
  for (let edge = 0; edge < edgeCount; edge++) {
    spans[edge] = layerOf[targets[edge]] - layerOf[sources[edge]];
    dummyTotal += spans[edge] - 1;
  }

  // NOTE: edges left without dummies may cross nodes. Only graphs with very long skip edges reach the limit.
  const routed = new Uint8Array(edgeCount).fill(1);
  if (dummyTotal > maxDummies) {
    const bySpan = Array.from({ length: edgeCount }, (_, edge) => edge).sort((a, b) => spans[a] - spans[b]);
    let budget = maxDummies;
    for (const edge of bySpan) {
      if (spans[edge] - 1 <= budget) budget -= spans[edge] - 1;
      else routed[edge] = 0;
    }
    dummyTotal = maxDummies - budget;
  }

  const vertexCount = nodeCount + dummyTotal;
  const vertexLayer = new Int32Array(vertexCount);
  vertexLayer.set(layerOf);
  const chains: (Int32Array | undefined)[] = new Array(edgeCount);
  const upperStart = new Int32Array(vertexCount + 1);
  const lowerStart = new Int32Array(vertexCount + 1);

  let nextDummy = nodeCount;
  for (let edge = 0; edge < edgeCount; edge++) {
    if (!routed[edge]) continue;
    const chain = new Int32Array(spans[edge] + 1);
    chain[0] = sources[edge];
    for (let step = 1; step < spans[edge]; step++) {
      chain[step] = nextDummy;
      vertexLayer[nextDummy] = layerOf[sources[edge]] + step;
      nextDummy++;
    }
    chain[spans[edge]] = targets[edge];
    for (let step = 0; step < spans[edge]; step++) {
      lowerStart[chain[step] + 1]++;
      upperStart[chain[step + 1] + 1]++;
    }
    chains[edge] = chain;
  }

  for (let v = 0; v < vertexCount; v++) {
    upperStart[v + 1] += upperStart[v];
    lowerStart[v + 1] += lowerStart[v];
  }
  const upperList = new Int32Array(upperStart[vertexCount]);
  const lowerList = new Int32Array(lowerStart[vertexCount]);
  const upperFill = upperStart.slice(0, vertexCount);
  const lowerFill = lowerStart.slice(0, vertexCount);
  for (const chain of chains) {
    if (!chain) continue;
    for (let step = 0; step + 1 < chain.length; step++) {
      lowerList[lowerFill[chain[step]]++] = chain[step + 1];
      upperList[upperFill[chain[step + 1]]++] = chain[step];
    }
  }

  let layerCount = 0;
  for (let v = 0; v < vertexCount; v++) layerCount = Math.max(layerCount, vertexLayer[v] + 1);
  const graph: LayeredGraph = {
    vertexCount,
    realCount: nodeCount,
    layerOf: vertexLayer,
    layers: [],
    position: new Int32Array(vertexCount),
    upperStart,
    upperList,
    lowerStart,
    lowerList,
    chains,
  };
  graph.layers = initialOrder(graph, layerCount);
  for (const layer of graph.layers) {
    for (let i = 0; i < layer.length; i++) graph.position[layer[i]] = i;
  }
  return graph;
}

/**
 * Orders each layer by the first visit of a depth-first search along downward edges,
 * started from the vertices in index order, so that chains start out side by side.
 */
function initialOrder(graph: LayeredGraph, layerCount: number): Int32Array[] {
  const { vertexCount, layerOf, lowerStart, lowerList } = graph;
  const layerSizes = new Int32Array(layerCount);
  for (let v = 0; v < vertexCount; v++) layerSizes[layerOf[v]]++;
  const layers = Array.from(layerSizes, (size) => new Int32Array(size));
  const filled = new Int32Array(layerCount);

  const visited = new Uint8Array(vertexCount);
  const stack = new Int32Array(vertexCount);
  for (let start = 0; start < vertexCount; start++) {
    if (visited[start]) continue;
    let top = 0;
    stack[top++] = start;
    visited[start] = 1;
    while (top > 0) {
      const v = stack[--top];
      layers[layerOf[v]][filled[layerOf[v]]++] = v;
      // Push in reverse so that the first successor is visited first.
      for (let slot = lowerStart[v + 1] - 1; slot >= lowerStart[v]; slot--) {
        const w = lowerList[slot];
        if (!visited[w]) {
          visited[w] = 1;
          stack[top++] = w;
        }
      }
    }
  }

  return layers;
}

/**
 * Reorders the layers with alternating downward and upward barycenter sweeps and keeps
 * the order with the fewest crossings seen.
 */
export function reduceCrossings(graph: LayeredGraph, iterations: number): number {
  let best = countCrossings(graph);
  let bestLayers = graph.layers.map((layer) => layer.slice());

  let widest = 0;
  for (const layer of graph.layers) widest = Math.max(widest, layer.length);
  const scratch = { keys: new Float64Array(widest), indices: new Array<number>(widest), sorted: new Int32Array(widest) };

  for (let iteration = 0; iteration < iterations && best > 0; iteration++) {
    for (let l = 1; l < graph.layers.length; l++) sortByBarycenter(graph, graph.layers[l], graph.upperStart, graph.upperList, scratch);
    for (let l = graph.layers.length - 2; l >= 0; l--) sortByBarycenter(graph, graph.layers[l], graph.lowerStart, graph.lowerList, scratch);

    const crossings = countCrossings(graph);
    if (crossings < best) {
      best = crossings;
      bestLayers = graph.layers.map((layer) => layer.slice());
    }
  }

  graph.layers = bestLayers;
  for (const layer of graph.layers) {
    for (let i = 0; i < layer.length; i++) graph.position[layer[i]] = i;
  }
  return best;
}

function sortByBarycenter(
  graph: LayeredGraph,
  layer: Int32Array,
  starts: Int32Array,
  list: Int32Array,
  scratch: { keys: Float64Array; indices: number[]; sorted: Int32Array },
): void {
  if (layer.length < 2) return;
  const { keys, indices, sorted } = scratch;

  for (let i = 0; i < layer.length; i++) {
    const v = layer[i];
    indices[i] = i;
    if (starts[v] === starts[v + 1]) {
      // A vertex without neighbours on that side keeps its place.
      keys[i] = i;
      continue;
    }
    let sum = 0;
    for (let slot = starts[v]; slot < starts[v + 1]; slot++) sum += graph.position[list[slot]];
    keys[i] = sum / (starts[v + 1] - starts[v]);
  }

  const order = indices.slice(0, layer.length).sort((a, b) => keys[a] - keys[b] || a - b);
  for (let i = 0; i < layer.length; i++) sorted[i] = layer[order[i]];
  for (let i = 0; i < layer.length; i++) {
    layer[i] = sorted[i];
    graph.position[sorted[i]] = i;
  }
}

/**
 * Counts edge crossings between all pairs of adjacent layers with the accumulator tree
 * of Barth, Jünger and Mutzel ("Simple and efficient bilayer cross counting", 2004).
 */
export function countCrossings(graph: LayeredGraph): number {
  const { lowerStart, lowerList, position } = graph;
  let total = 0;
  const ends: number[] = [];

  for (let l = 0; l + 1 < graph.layers.length; l++) {
    const north = graph.layers[l];
    const southSize = graph.layers[l + 1].length;
    // With one vertex on either side, no two edges can cross.
    if (southSize < 2 || north.length < 2) continue;

    // Edge end positions in the south layer, sorted by north position and then south position.
    ends.length = 0;
    for (const v of north) {
      const first = ends.length;
      for (let slot = lowerStart[v]; slot < lowerStart[v + 1]; slot++) ends.push(position[lowerList[slot]]);
      if (ends.length - first > 1) {
        const sortedEnds = ends.slice(first).sort((a, b) => a - b);
        for (let i = 0; i < sortedEnds.length; i++) ends[first + i] = sortedEnds[i];
      }
    }

    let firstLeaf = 1;
    while (firstLeaf < southSize) firstLeaf *= 2;
    const tree = new Int32Array(2 * firstLeaf - 1);
    firstLeaf -= 1;
    for (const end of ends) {
      let index = end + firstLeaf;
      tree[index]++;
      while (index > 0) {
        if (index % 2 === 1) total += tree[index + 1];
        index = (index - 1) >> 1;
        tree[index]++;
      }
    }
  }
  return total;
}
