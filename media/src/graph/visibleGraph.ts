import type { GraphNode, ModelGraph } from '../../../server/src/graph/graphTypes';
import type { ViewOptions } from './protocol';

/** A node of the graph as the view shows it, before layout. */
export interface VisibleNode {
  id: string;
  devices: string[];
  collapsedGroup?: string;
  hiddenCount: number;
  /** Inputs of the root `forward`, kept in the top layer. */
  pinTop: boolean;
}

export interface VisibleGraph {
  nodes: VisibleNode[];
  edges: { from: string; to: string }[];
}

/**
 * The group structure of a graph, indexed once to find which node shows a given node
 * for a set of expanded groups.
 */
export class GroupIndex {
  private readonly parentOf = new Map<string, string | undefined>();
  private readonly nodeOfGroup = new Map<string, string>();
  private readonly groupOfNode = new Map<string, string>();
  readonly nodesById = new Map<string, GraphNode>();

  constructor(readonly graph: ModelGraph) {
    const groupIds = new Set(graph.groups.map((group) => group.id));
    for (const group of graph.groups) {
      // A parent missing from the graph makes the group a top-level one.
      this.parentOf.set(group.id, group.parent !== undefined && groupIds.has(group.parent) ? group.parent : undefined);
      this.nodeOfGroup.set(group.id, group.node);
      this.groupOfNode.set(group.node, group.id);
    }
    for (const node of graph.nodes) this.nodesById.set(node.id, node);
  }

  /** Returns the group a node represents while that group is collapsed. */
  groupRepresentedBy(nodeId: string): string | undefined {
    return this.groupOfNode.get(nodeId);
  }

  /** Returns the group and its ancestors, innermost first. A cycle in crafted data ends the walk. */
  ancestry(group: string | undefined): string[] {
    const chain: string[] = [];
    const seen = new Set<string>();
    for (let current = group; current !== undefined && this.parentOf.has(current) && !seen.has(current); current = this.parentOf.get(current)) {
      seen.add(current);
      chain.push(current);
    }
    return chain;
  }

  /**
   * Returns the id of the node that shows `nodeId`: the node of its outermost collapsed
   * group, the node itself, or undefined when it is hidden (a group node whose group is
   * expanded, or a literal while literals are hidden).
   */
  representative(nodeId: string, expanded: ReadonlySet<string>, showLiterals: boolean): string | undefined {
    const node = this.nodesById.get(nodeId);
    if (!node) return undefined;

    const chain = this.ancestry(node.group);
    for (let i = chain.length - 1; i >= 0; i--) {
      if (!expanded.has(chain[i])) return this.nodeOfGroup.get(chain[i]);
    }

    const represented = this.groupOfNode.get(nodeId);
    if (represented !== undefined && this.parentOf.has(represented) && expanded.has(represented)) return undefined;
    if (!showLiterals && node.kind === 'constant' && node.literal) return undefined;
    return nodeId;
  }
}

/**
 * Builds the graph the view shows: members of collapsed groups fold into the group's
 * node, edges follow them without self-loops or duplicates, and with `onlyPinnedPaths`
 * only nodes on paths through device nodes remain (see keepPinnedPaths).
 */
export function buildVisibleGraph(index: GroupIndex, options: ViewOptions): VisibleGraph {
  const expanded = new Set(options.expanded);
  const nodes = new Map<string, VisibleNode>();
  const representativeOf = new Map<string, string | undefined>();

  for (const node of index.graph.nodes) {
    const shownAs = index.representative(node.id, expanded, options.showLiterals);
    representativeOf.set(node.id, shownAs);
    if (shownAs === undefined) continue;

    let visible = nodes.get(shownAs);
    if (!visible) {
      const shownNode = index.nodesById.get(shownAs)!;
      const group = index.groupRepresentedBy(shownAs);
      visible = {
        id: shownAs,
        devices: [],
        hiddenCount: 0,
        pinTop: shownNode.kind === 'input' && shownNode.group === undefined,
      };
      if (group !== undefined && !expanded.has(group)) visible.collapsedGroup = group;
      nodes.set(shownAs, visible);
    }
    if (shownAs !== node.id) visible.hiddenCount++;
    if (node.kind === 'device' && node.device !== undefined && !visible.devices.includes(node.device)) visible.devices.push(node.device);
  }

  const edges: { from: string; to: string }[] = [];
  const edgeKeys = new Set<string>();
  for (const edge of index.graph.edges) {
    const from = representativeOf.get(edge.from);
    const to = representativeOf.get(edge.to);
    if (from === undefined || to === undefined || from === to) continue;
    const key = `${from}\u0000${to}`;
    if (edgeKeys.has(key)) continue;
    edgeKeys.add(key);
    edges.push({ from, to });
  }

  const visible: VisibleGraph = { nodes: [...nodes.values()], edges };
  return options.onlyPinnedPaths ? keepPinnedPaths(visible, index) : visible;
}

/**
 * Keeps the nodes that lie on a path from an input through a device to an output. A
 * device node has no inputs of its own, so "through" means: every node downstream of a
 * device that reaches an output, plus everything upstream of those nodes that comes
 * from an input. Nodes showing a collapsed group that contains a device count as device
 * nodes. Inputs and outputs are those of the root `forward`.
 */
export function keepPinnedPaths(graph: VisibleGraph, index: GroupIndex): VisibleGraph {
  const successors = new Map<string, string[]>();
  const predecessors = new Map<string, string[]>();
  for (const edge of graph.edges) {
    appendTo(successors, edge.from, edge.to);
    appendTo(predecessors, edge.to, edge.from);
  }

  const isRoot = (id: string, kind: GraphNode['kind']): boolean => {
    const node = index.nodesById.get(id);
    return node?.kind === kind && node.group === undefined;
  };
  const devices = graph.nodes.filter((node) => node.devices.length > 0).map((node) => node.id);
  const inputs = graph.nodes.filter((node) => isRoot(node.id, 'input')).map((node) => node.id);
  const outputs = graph.nodes.filter((node) => isRoot(node.id, 'output')).map((node) => node.id);

  const fromDevices = reach(devices, successors);
  const toOutputs = reach(outputs, predecessors);
  const pinned = [...fromDevices].filter((id) => toOutputs.size === 0 || toOutputs.has(id));

  const fromInputs = reach(inputs, successors);
  const feedingPinned = reach(pinned, predecessors);
  const keep = new Set(pinned);
  for (const id of feedingPinned) if (fromInputs.has(id)) keep.add(id);

  return {
    nodes: graph.nodes.filter((node) => keep.has(node.id)),
    edges: graph.edges.filter((edge) => keep.has(edge.from) && keep.has(edge.to)),
  };
}

/** Returns the starts and every node reachable from them along `next`. */
function reach(starts: readonly string[], next: ReadonlyMap<string, string[]>): Set<string> {
  const seen = new Set(starts);
  const stack = [...starts];
  while (stack.length > 0) {
    for (const id of next.get(stack.pop()!) ?? []) {
      if (!seen.has(id)) {
        seen.add(id);
        stack.push(id);
      }
    }
  }
  return seen;
}

function appendTo(lists: Map<string, string[]>, key: string, value: string): void {
  const list = lists.get(key);
  if (list) list.push(value);
  else lists.set(key, [value]);
}
