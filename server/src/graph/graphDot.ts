import type { GraphGroup, GraphNode, ModelGraph } from './graphTypes';

/** Graphviz attributes per node kind, with device nodes in red. */
const NODE_STYLES: Record<GraphNode['kind'], string> = {
  input: 'shape=invhouse, style=filled, fillcolor="#e3f2fd"',
  output: 'shape=house, style=filled, fillcolor="#e8f5e9"',
  op: 'shape=box, style=rounded',
  module: 'shape=box3d',
  constant: 'shape=note, fontcolor="#555555", color="#999999"',
  attribute: 'shape=box, style=dashed',
  device: 'shape=octagon, style="filled,bold", fillcolor="#ffcdd2", color="#c62828", fontcolor="#b71c1c", penwidth=2',
};

/**
 * Renders the fully expanded graph in Graphviz DOT (`graph --dot`): groups become nested
 * clusters, the call nodes that stand for groups are left out, and device nodes and the
 * edges leaving them are drawn in red.
 */
export function graphToDot(graph: ModelGraph): string {
  const groupNodes = new Set(graph.groups.map((group) => group.node));
  const deviceNodes = new Set(graph.nodes.filter((node) => node.kind === 'device').map((node) => node.id));
  const shownNodes = new Set<string>();

  const nodesByGroup = new Map<string | undefined, GraphNode[]>();
  for (const node of graph.nodes) {
    if (groupNodes.has(node.id)) continue;
    shownNodes.add(node.id);
    const members = nodesByGroup.get(node.group) ?? [];
    members.push(node);
    nodesByGroup.set(node.group, members);
  }

  const childGroups = new Map<string | undefined, GraphGroup[]>();
  const knownGroups = new Set(graph.groups.map((group) => group.id));
  for (const group of graph.groups) {
    const parent = group.parent !== undefined && knownGroups.has(group.parent) ? group.parent : undefined;
    const children = childGroups.get(parent) ?? [];
    children.push(group);
    childGroups.set(parent, children);
  }

  const lines = [
    'digraph model {',
    '  rankdir=TB;',
    '  node [fontname="Helvetica", fontsize=10];',
    '  edge [color="#777777"];',
  ];

  // Clusters nest as deep as the groups do, so an explicit stack replaces recursion.
  const stack: { group?: GraphGroup; indent: string; closing?: boolean }[] = [{ indent: '  ' }];
  while (stack.length > 0) {
    const entry = stack.pop()!;
    if (entry.closing) {
      lines.push(`${entry.indent}}`);
      continue;
    }

    let indent = entry.indent;
    if (entry.group) {
      lines.push(`${indent}subgraph ${quote(`cluster_${entry.group.id}`)} {`);
      lines.push(`${indent}  label=${quote(entry.group.label)}; style=dashed; color="#888888";`);
      stack.push({ indent, closing: true });
      indent += '  ';
    }

    for (const node of nodesByGroup.get(entry.group?.id) ?? []) {
      const text = node.name !== undefined && node.name !== node.label ? `${node.label}\n${node.name}` : node.label;
      lines.push(`${indent}${quote(node.id)} [label=${quote(text)}, ${NODE_STYLES[node.kind]}];`);
    }

    const children = childGroups.get(entry.group?.id) ?? [];
    for (let i = children.length - 1; i >= 0; i--) stack.push({ group: children[i], indent });
  }

  for (const edge of graph.edges) {
    if (!shownNodes.has(edge.from) || !shownNodes.has(edge.to)) continue;
    const style = deviceNodes.has(edge.from) ? ' [color="#c62828", penwidth=2]' : '';
    lines.push(`  ${quote(edge.from)} -> ${quote(edge.to)}${style};`);
  }

  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/**
 * Quotes a DOT ID or label. Inside quotes DOT reads `\"` as a quote and `\\` as a
 * backslash, and labels read `\n` as a line break. Other control characters become spaces.
 */
export function quote(text: string): string {
  const escaped = text
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/\r\n|\r|\n/g, '\\n')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f]/g, ' ');
  return `"${escaped}"`;
}
