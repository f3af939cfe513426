import type { LayeredGraph } from './ordering';

export interface Spacing {
  /** Minimum horizontal gap between two nodes of a layer. */
  nodeSeparation: number;
  /** Minimum horizontal gap next to a dummy vertex (an edge passing through a layer). */
  edgeSeparation: number;
  /** Vertical gap between layers. */
  layerSeparation: number;
}

type Vertical = 'up' | 'down';
type Horizontal = 'left' | 'right';

/**
 * Assigns x coordinates (vertex centres) after Brandes and Köpf ("Fast and simple
 * horizontal coordinate assignment", 2001). For each of the four directions, vertices
 * are aligned into vertical blocks that share one x, and the blocks are compacted
 * against each other. Each vertex then takes the mean of its two median candidates.
 * Finally each leaf (a constant or weight with a single edge) moves as close to its
 * neighbour as the gaps in its layer allow.
 */
export function assignX(graph: LayeredGraph, widths: Float64Array, spacing: Spacing): Float64Array {
  const candidates: Float64Array[] = [];
  for (const vertical of ['up', 'down'] as const) {
    for (const horizontal of ['left', 'right'] as const) {
      const root = alignBlocks(graph, vertical, horizontal);
      candidates.push(compactBlocks(graph, root, horizontal, widths, spacing));
    }
  }

  // Shift the four placements onto the narrowest one: left-aligned ones by their left edge, right-aligned ones by their right edge.
  const extents = candidates.map((xs) => extentOf(xs, widths));
  const narrowest = extents.reduce((best, extent) => (extent.right - extent.left < best.right - best.left ? extent : best));
  candidates.forEach((xs, index) => {
    const shift = index % 2 === 0 ? narrowest.left - extents[index].left : narrowest.right - extents[index].right;
    for (let v = 0; v < xs.length; v++) xs[v] += shift;
  });

  // The mean of the two middle values of four is their sum without the smallest and the largest, halved.
  const x = new Float64Array(graph.vertexCount);
  const [a, b, c, d] = candidates;
  for (let v = 0; v < graph.vertexCount; v++) {
    const smallest = Math.min(a[v], b[v], c[v], d[v]);
    const largest = Math.max(a[v], b[v], c[v], d[v]);
    x[v] = (a[v] + b[v] + c[v] + d[v] - smallest - largest) / 2;
  }

  placeLeaves(graph, widths, spacing, x);
  return x;
}

function degreeOf(graph: LayeredGraph, v: number): number {
  return graph.upperStart[v + 1] - graph.upperStart[v] + graph.lowerStart[v + 1] - graph.lowerStart[v];
}

function isLeaf(graph: LayeredGraph, v: number): boolean {
  return v < graph.realCount && degreeOf(graph, v) <= 1;
}

function gapBetween(graph: LayeredGraph, widths: Float64Array, spacing: Spacing, left: number, right: number): number {
  const dummies = Number(left >= graph.realCount) + Number(right >= graph.realCount);
  let separation = spacing.nodeSeparation;
  if (dummies === 2) separation = spacing.edgeSeparation;
  else if (dummies === 1) separation = (spacing.nodeSeparation + spacing.edgeSeparation) / 2;
  return (widths[left] + widths[right]) / 2 + separation;
}

/**
 * Aligns each vertex with at most one neighbour in the previous layer (the layer above
 * for `up`), never crossing another alignment, and returns the root (first vertex) of
 * each vertex's block. Pairs are chosen in three rounds so that the important ones win:
 * inner segments of long edges (dummy to dummy), which keeps long edges straight, then
 * node to node, which keeps operator chains straight, then edge ends. Leaves are never
 * aligned, so that a constant beside an operator cannot bend the chain it feeds. Within a
 * round each vertex takes a median candidate, as Brandes and Köpf do.
 */
function alignBlocks(graph: LayeredGraph, vertical: Vertical, horizontal: Horizontal): Int32Array {
  const { vertexCount, realCount } = graph;
  const root = Int32Array.from({ length: vertexCount }, (_, v) => v);
  const partner = new Int32Array(vertexCount).fill(-1); // the aligned vertex in the next layer
  const starts = vertical === 'up' ? graph.upperStart : graph.lowerStart;
  const list = vertical === 'up' ? graph.upperList : graph.lowerList;
  const leaf = Uint8Array.from({ length: vertexCount }, (_, v) => (isLeaf(graph, v) ? 1 : 0));

  // In the `right` directions positions count from the right, so the same left-to-right scan applies.
  const mirroredPosition = new Int32Array(vertexCount);
  for (let v = 0; v < vertexCount; v++) {
    mirroredPosition[v] = horizontal === 'left' ? graph.position[v] : graph.layers[graph.layerOf[v]].length - 1 - graph.position[v];
  }

  let widest = 0;
  let maxDegree = 0;
  for (const layer of graph.layers) widest = Math.max(widest, layer.length);
  for (let v = 0; v < vertexCount; v++) maxDegree = Math.max(maxDegree, starts[v + 1] - starts[v]);
  const alignedAt = new Int32Array(widest);
  const rightBound = new Int32Array(widest + 1);
  const candidates = new Int32Array(maxDegree);
  const candidatePositions = new Int32Array(maxDegree);

  const layerCount = graph.layers.length;
  const mirrored = horizontal === 'right';
  for (let step = 1; step < layerCount; step++) {
    const layer = graph.layers[vertical === 'up' ? step : layerCount - 1 - step];
    const size = layer.length;

    // The previous-layer position each vertex (by scan index) is aligned with, or -1.
    alignedAt.fill(-1, 0, size);

    for (let round = 0; round < 3; round++) {
      // A new pair must fall strictly between the pairs aligned left and right of it in earlier rounds.
      rightBound[size] = Number.MAX_SAFE_INTEGER;
      for (let i = size - 1; i >= 0; i--) rightBound[i] = alignedAt[i] >= 0 ? alignedAt[i] : rightBound[i + 1];

      let leftBound = -1;
      for (let i = 0; i < size; i++) {
        const v = mirrored ? layer[size - 1 - i] : layer[i];
        if (alignedAt[i] >= 0) {
          leftBound = alignedAt[i];
          continue;
        }
        if (leaf[v]) continue;

        // Free candidates of this round, kept sorted by position with an insertion sort (degrees are small).
        let count = 0;
        for (let slot = starts[v]; slot < starts[v + 1]; slot++) {
          const u = list[slot];
          if (partner[u] >= 0 || leaf[u] || alignmentRound(u, v, realCount) !== round) continue;
          const position = mirroredPosition[u];
          if (position <= leftBound || position >= rightBound[i + 1]) continue;
          let j = count++;
          while (j > 0 && candidatePositions[j - 1] > position) {
            candidates[j] = candidates[j - 1];
            candidatePositions[j] = candidatePositions[j - 1];
            j--;
          }
          candidates[j] = u;
          candidatePositions[j] = position;
        }
        if (count === 0) continue;

        const median = (count - 1) >> 1;
        const u = candidates[median];
        partner[u] = v;
        root[v] = root[u];
        alignedAt[i] = candidatePositions[median];
        leftBound = candidatePositions[median];
      }
    }
  }

  return root;
}

/** Round 0 pairs a dummy with a dummy, round 1 a node with a node, round 2 a node with a dummy. */
function alignmentRound(previous: number, v: number, realCount: number): number {
  const dummies = Number(previous >= realCount) + Number(v >= realCount);
  if (dummies === 2) return 0;
  if (dummies === 0) return 1;
  return 2;
}

/**
 * Places the blocks as far left as the gaps allow (longest path over the constraint
 * "block A is left of block B in some layer"), then moves each block right towards the
 * blocks right of it where that closes a gap. For `right`, the scan runs mirrored and
 * the result is negated.
 */
function compactBlocks(graph: LayeredGraph, root: Int32Array, horizontal: Horizontal, widths: Float64Array, spacing: Spacing): Float64Array {
  const vertexCount = graph.vertexCount;

  // Constraint edges between block roots, one per pair of neighbours in a layer.
  const edgeFrom: number[] = [];
  const edgeTo: number[] = [];
  const edgeGap: number[] = [];
  for (const layer of graph.layers) {
    const ordered = horizontal === 'left' ? layer : layer.slice().reverse();
    for (let i = 1; i < ordered.length; i++) {
      edgeFrom.push(root[ordered[i - 1]]);
      edgeTo.push(root[ordered[i]]);
      edgeGap.push(gapBetween(graph, widths, spacing, ordered[i - 1], ordered[i]));
    }
  }

  const outOffsets = new Int32Array(vertexCount + 1);
  const inOffsets = new Int32Array(vertexCount + 1);
  for (let e = 0; e < edgeFrom.length; e++) {
    outOffsets[edgeFrom[e] + 1]++;
    inOffsets[edgeTo[e] + 1]++;
  }
  for (let v = 0; v < vertexCount; v++) {
    outOffsets[v + 1] += outOffsets[v];
    inOffsets[v + 1] += inOffsets[v];
  }
  const outEdges = new Int32Array(edgeFrom.length);
  const inEdges = new Int32Array(edgeFrom.length);
  const outFill = outOffsets.slice(0, vertexCount);
  const inFill = inOffsets.slice(0, vertexCount);
  for (let e = 0; e < edgeFrom.length; e++) {
    outEdges[outFill[edgeFrom[e]]++] = e;
    inEdges[inFill[edgeTo[e]]++] = e;
  }

  // Kahn's algorithm over the roots. The alignment never crosses, so the constraints are acyclic.
  const order: number[] = [];
  const remaining = new Int32Array(vertexCount);
  for (let v = 0; v < vertexCount; v++) remaining[v] = inOffsets[v + 1] - inOffsets[v];
  for (let v = 0; v < vertexCount; v++) if (root[v] === v && remaining[v] === 0) order.push(v);
  for (let head = 0; head < order.length; head++) {
    const v = order[head];
    for (let slot = outOffsets[v]; slot < outOffsets[v + 1]; slot++) {
      const to = edgeTo[outEdges[slot]];
      if (--remaining[to] === 0) order.push(to);
    }
  }

  const blockX = new Float64Array(vertexCount);
  for (const v of order) {
    for (let slot = inOffsets[v]; slot < inOffsets[v + 1]; slot++) {
      const e = inEdges[slot];
      blockX[v] = Math.max(blockX[v], blockX[edgeFrom[e]] + edgeGap[e]);
    }
  }
  for (let i = order.length - 1; i >= 0; i--) {
    const v = order[i];
    let limit = Infinity;
    for (let slot = outOffsets[v]; slot < outOffsets[v + 1]; slot++) {
      const e = outEdges[slot];
      limit = Math.min(limit, blockX[edgeTo[e]] - edgeGap[e]);
    }
    if (limit !== Infinity && limit > blockX[v]) blockX[v] = limit;
  }

  const x = new Float64Array(vertexCount);
  for (let v = 0; v < vertexCount; v++) x[v] = horizontal === 'left' ? blockX[root[v]] : -blockX[root[v]];
  return x;
}

function extentOf(xs: Float64Array, widths: Float64Array): { left: number; right: number } {
  let left = Infinity;
  let right = -Infinity;
  for (let v = 0; v < xs.length; v++) {
    left = Math.min(left, xs[v] - widths[v] / 2);
    right = Math.max(right, xs[v] + widths[v] / 2);
  }
  return { left, right };
}

/** Leaves have weight 1 and other vertices this weight when a layer is re-placed, so other vertices practically stay put. */
const FIXED_WEIGHT = 1e6;

/**
 * Moves each leaf towards its only neighbour. Per layer this is the weighted
 * least-squares placement under the gap constraints (other vertices weigh so much that
 * they barely move), which the pool-adjacent-violators algorithm finds in linear time
 * once the cumulative gaps are subtracted.
 */
function placeLeaves(graph: LayeredGraph, widths: Float64Array, spacing: Spacing, x: Float64Array): void {
  for (const layer of graph.layers) {
    const count = layer.length;
    if (!layer.some((v) => isLeaf(graph, v))) continue;

    const offsets = new Float64Array(count);
    for (let i = 1; i < count; i++) offsets[i] = offsets[i - 1] + gapBetween(graph, widths, spacing, layer[i - 1], layer[i]);

    const blockWeight = new Float64Array(count);
    const blockSum = new Float64Array(count);
    const blockStart = new Int32Array(count);
    let blocks = 0;
    for (let i = 0; i < count; i++) {
      const v = layer[i];
      const leaf = isLeaf(graph, v);
      let neighbour = -1;
      if (graph.upperStart[v + 1] > graph.upperStart[v]) neighbour = graph.upperList[graph.upperStart[v]];
      else if (graph.lowerStart[v + 1] > graph.lowerStart[v]) neighbour = graph.lowerList[graph.lowerStart[v]];
      const preferred = leaf && neighbour >= 0 ? x[neighbour] : x[v];
      const weight = leaf ? 1 : FIXED_WEIGHT;

      blockWeight[blocks] = weight;
      blockSum[blocks] = weight * (preferred - offsets[i]);
      blockStart[blocks] = i;
      blocks++;
      while (blocks > 1 && blockSum[blocks - 2] / blockWeight[blocks - 2] >= blockSum[blocks - 1] / blockWeight[blocks - 1]) {
        blockWeight[blocks - 2] += blockWeight[blocks - 1];
        blockSum[blocks - 2] += blockSum[blocks - 1];
        blocks--;
      }
    }

    for (let block = 0; block < blocks; block++) {
      const value = blockSum[block] / blockWeight[block];
      const end = block + 1 < blocks ? blockStart[block + 1] : count;
      for (let i = blockStart[block]; i < end; i++) x[layer[i]] = value + offsets[i];
    }
  }
}

/** Assigns each layer's centre line: layers are as tall as their tallest node, with `layerSeparation` between them. */
export function assignLayerY(graph: LayeredGraph, heights: Float64Array, spacing: Spacing): Float64Array {
  const centres = new Float64Array(graph.layers.length);
  let top = 0;
  graph.layers.forEach((layer, l) => {
    let height = 0;
    for (const v of layer) height = Math.max(height, heights[v]);
    centres[l] = top + height / 2;
    top += height + spacing.layerSeparation;
  });
  return centres;
}
