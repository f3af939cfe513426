/**
 * Times the graph layout on synthetic network-shaped graphs of 3,000, 10,000 and 20,000
 * nodes, and @dagrejs/dagre 3.1.3 on the same 3,000-node graph. Run standalone with
 * `node --import tsx bench/graphLayout.ts` to print the measurements as JSON.
 */
import { performance } from 'node:perf_hooks';
import { layoutGraph, type LayoutEdge, type LayoutNode } from '../media/src/graph/layout/layout';

export interface SyntheticGraph {
  nodes: LayoutNode[];
  edges: LayoutEdge[];
}

/** Mulberry32: a small seeded generator, so that every run lays out the same graphs. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Generates a graph shaped like a traced network. A main chain of operators has a
 * residual skip edge every 3 to 5 nodes and side branches of 2 to 4 nodes that rejoin
 * the chain, and weight or constant nodes feed some operators. Node sizes vary like
 * labelled boxes.
 */
export function generateNetworkGraph(nodeCount: number, seed: number): SyntheticGraph {
  const random = seededRandom(seed);
  const nodes: LayoutNode[] = [];
  const edges: LayoutEdge[] = [];
  const addNode = (): string => {
    const id = `n${nodes.length}`;
    nodes.push({ id, width: 60 + Math.floor(random() * 120), height: random() < 0.5 ? 26 : 38, pinTop: nodes.length === 0 });
    return id;
  };

  let previous = addNode();
  let skipSource = previous;
  let untilSkip = 3;
  while (nodes.length < nodeCount) {
    const current = addNode();
    edges.push({ from: previous, to: current });

    if (--untilSkip === 0) {
      edges.push({ from: skipSource, to: current });
      skipSource = current;
      untilSkip = 3 + Math.floor(random() * 3);
    }

    if (random() < 0.3 && nodes.length < nodeCount) edges.push({ from: addNode(), to: current });

    if (random() < 0.08 && nodes.length + 4 < nodeCount) {
      // A side branch that leaves the current node and rejoins the chain a few nodes later.
      let branch = current;
      const length = 2 + Math.floor(random() * 3);
      for (let step = 0; step < length; step++) {
        const next = addNode();
        edges.push({ from: branch, to: next });
        branch = next;
      }
      const join = addNode();
      edges.push({ from: current, to: join }, { from: branch, to: join });
      previous = join;
      continue;
    }

    previous = current;
  }

  return { nodes, edges };
}

function timeLayout(graph: SyntheticGraph): number {
  const started = performance.now();
  layoutGraph(graph.nodes, graph.edges);
  return performance.now() - started;
}

/** Runs dagre on a graph and returns the time until it finished or threw, and whether it threw. */
async function timeDagre(graph: SyntheticGraph): Promise<{ ms: number; failed: boolean }> {
  // dagre 3 is an ES module, which this CommonJS file can only load with a dynamic import.
  const dagre = await import('@dagrejs/dagre');
  const dagreGraph = new dagre.graphlib.Graph();
  dagreGraph.setGraph({ rankdir: 'TB', nodesep: 24, ranksep: 36 });
  dagreGraph.setDefaultEdgeLabel(() => ({}));
  for (const node of graph.nodes) dagreGraph.setNode(node.id, { width: node.width, height: node.height });
  for (const edge of graph.edges) dagreGraph.setEdge(edge.from, edge.to);

  const started = performance.now();
  try {
    dagre.layout(dagreGraph);
    return { ms: performance.now() - started, failed: false };
  } catch (error) {
    process.stderr.write(`[bench] dagre failed on ${graph.nodes.length} nodes: ${error instanceof Error ? error.message : String(error)}\n`);
    return { ms: performance.now() - started, failed: true };
  }
}

export async function measureGraphLayout(): Promise<Record<string, number>> {
  const results: Record<string, number> = {};

  // One untimed run first, so that the timings do not include compiling the layout code.
  timeLayout(generateNetworkGraph(500, 1));

  for (const size of [3000, 10000, 20000]) {
    results[`graph_layout_${size}_ms`] = Math.round(timeLayout(generateNetworkGraph(size, 42)));
  }

  const dagreResult = await timeDagre(generateNetworkGraph(3000, 42));
  results.dagre_layout_3000_ms = Math.round(dagreResult.ms);
  if (dagreResult.failed) results.dagre_layout_3000_failed = 1;

  return results;
}

if (require.main === module) {
  measureGraphLayout().then(
    (results) => process.stdout.write(`${JSON.stringify(results, null, 2)}\n`),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
