import type { GraphEdge, GraphGroup, GraphNode, ModelGraph } from './graphTypes';

/** Collects nodes, edges and groups while keeping ids unique and edges free of duplicates. */
export class GraphBuilder {
  private readonly nodes: GraphNode[] = [];
  private readonly nodesById = new Map<string, GraphNode>();
  private readonly edges: GraphEdge[] = [];
  private readonly edgeKeys = new Set<string>();
  private readonly groups: GraphGroup[] = [];
  private readonly groupIds = new Set<string>();

  get nodeCount(): number {
    return this.nodes.length;
  }

  /**
   * Adds a node and returns its id. The id scheme derives ids from source positions, and
   * two nodes can start at the same position (`f(x)(y)`), so a taken id gets `~2`, `~3`, ….
   */
  addNode(node: GraphNode): string {
    let id = node.id;
    for (let suffix = 2; this.nodesById.has(id); suffix++) id = `${node.id}~${suffix}`;

    const added = { ...node, id };
    this.nodes.push(added);
    this.nodesById.set(id, added);
    return id;
  }

  node(id: string): GraphNode | undefined {
    return this.nodesById.get(id);
  }

  addEdge(from: string, to: string): void {
    if (from === to) return;
    const key = `${from}\u0000${to}`;
    if (this.edgeKeys.has(key)) return;
    this.edgeKeys.add(key);
    this.edges.push({ from, to });
  }

  addEdges(from: readonly string[], to: string): void {
    for (const source of from) this.addEdge(source, to);
  }

  /** Returns `base`, or `base#2`, `base#3`, … when a call to the same target was inlined before. */
  uniqueGroupId(base: string): string {
    let id = base;
    for (let suffix = 2; this.groupIds.has(id); suffix++) id = `${base}#${suffix}`;
    return id;
  }

  addGroup(group: GraphGroup): void {
    this.groupIds.add(group.id);
    this.groups.push(group);
  }

  toGraph(root: string | undefined): ModelGraph {
    const graph: ModelGraph = { nodes: this.nodes, edges: this.edges, groups: this.groups };
    if (root !== undefined) graph.root = root;
    return graph;
  }
}
