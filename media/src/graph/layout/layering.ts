/**
 * The first two steps of the layered layout: make the graph acyclic by reversing a set
 * of edges, then assign every node a layer so that each edge points to a lower layer.
 * Both run without recursion, so a 20,000-node chain is as safe as a small graph.
 */

/** Out-neighbours in compressed sparse row form: the targets of node v are `targets[offsets[v] .. offsets[v+1])`. */
export interface Adjacency {
  offsets: Int32Array;
  targets: Int32Array;
  /** The edge index (into the edge list the adjacency was built from) of each target entry. */
  edgeIndices: Int32Array;
}

export function buildAdjacency(nodeCount: number, sources: Int32Array, targets: Int32Array, include?: (edge: number) => boolean): Adjacency {
  const offsets = new Int32Array(nodeCount + 1);
  for (let edge = 0; edge < sources.length; edge++) {
    if (!include || include(edge)) offsets[sources[edge] + 1]++;
  }
  for (let v = 0; v < nodeCount; v++) offsets[v + 1] += offsets[v];

  const fill = offsets.slice(0, nodeCount);
  const adjacentTargets = new Int32Array(offsets[nodeCount]);
  const edgeIndices = new Int32Array(offsets[nodeCount]);
  for (let edge = 0; edge < sources.length; edge++) {
    if (include && !include(edge)) continue;
    const slot = fill[sources[edge]]++;
    adjacentTargets[slot] = targets[edge];
    edgeIndices[slot] = edge;
  }
  return { offsets, targets: adjacentTargets, edgeIndices };
}

/**
 * Returns which edges to reverse so that the graph has no cycle: the back edges of a
 * depth-first search started from each node in input order.
 */
export function findBackEdges(nodeCount: number, sources: Int32Array, targets: Int32Array): Uint8Array {
  const adjacency = buildAdjacency(nodeCount, sources, targets);
  const reversed = new Uint8Array(sources.length);
  const state = new Uint8Array(nodeCount); // 0 unvisited, 1 on the DFS stack, 2 finished
  const stackNodes = new Int32Array(nodeCount);
  const stackNext = new Int32Array(nodeCount);

  for (let start = 0; start < nodeCount; start++) {
    if (state[start] !== 0) continue;
    let depth = 0;
    stackNodes[0] = start;
    stackNext[0] = adjacency.offsets[start];
    state[start] = 1;

    while (depth >= 0) {
      const v = stackNodes[depth];
      const slot = stackNext[depth];
      if (slot >= adjacency.offsets[v + 1]) {
        state[v] = 2;
        depth--;
        continue;
      }
      stackNext[depth] = slot + 1;

      const w = adjacency.targets[slot];
      if (state[w] === 1) {
        reversed[adjacency.edgeIndices[slot]] = 1;
      } else if (state[w] === 0) {
        state[w] = 1;
        depth++;
        stackNodes[depth] = w;
        stackNext[depth] = adjacency.offsets[w];
      }
    }
  }

  return reversed;
}

/**
 * Assigns layers to the nodes of a DAG (edges `sources[i] -> targets[i]`). Layers start
 * as the longest path from the sources. Then every node that is not pinned to the top
 * moves down as far as its successors allow, when that shortens more edges than it
 * lengthens.
 * Nodes without predecessors (weights, constants, devices) thereby sit just above their
 * first use instead of in the top layer.
 */
export function assignLayers(nodeCount: number, sources: Int32Array, targets: Int32Array, pinnedTop: Uint8Array): Int32Array {
  const out = buildAdjacency(nodeCount, sources, targets);
  const inDegree = new Int32Array(nodeCount);
  for (let edge = 0; edge < targets.length; edge++) inDegree[targets[edge]]++;

  // Kahn's algorithm gives a topological order and the longest-path layers at once.
  const order = new Int32Array(nodeCount);
  const remaining = inDegree.slice();
  const layer = new Int32Array(nodeCount);
  let head = 0;
  let tail = 0;
  for (let v = 0; v < nodeCount; v++) if (remaining[v] === 0) order[tail++] = v;
  while (head < tail) {
    const v = order[head++];
    for (let slot = out.offsets[v]; slot < out.offsets[v + 1]; slot++) {
      const w = out.targets[slot];
      if (layer[v] + 1 > layer[w]) layer[w] = layer[v] + 1;
      if (--remaining[w] === 0) order[tail++] = w;
    }
  }
  if (tail !== nodeCount) throw new Error(`assignLayers needs an acyclic graph, but ${nodeCount - tail} nodes lie on cycles`);

  for (let i = nodeCount - 1; i >= 0; i--) {
    const v = order[i];
    const outDegree = out.offsets[v + 1] - out.offsets[v];
    if (pinnedTop[v] || outDegree === 0 || outDegree < inDegree[v]) continue;

    let lowest = Number.MAX_SAFE_INTEGER;
    for (let slot = out.offsets[v]; slot < out.offsets[v + 1]; slot++) lowest = Math.min(lowest, layer[out.targets[slot]] - 1);
    if (lowest > layer[v]) layer[v] = lowest;
  }

  return layer;
}
