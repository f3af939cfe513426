import { layoutGraph } from './layout/layout';
import type { ViewOptions, VisibleLayout } from './protocol';
import { buildVisibleGraph, type GroupIndex } from './visibleGraph';

/** Space between a group's outline and its members, and the extra room above them for the group's label. */
const GROUP_PADDING = 10;
const GROUP_LABEL_HEIGHT = 18;

/** Size of a node that the webview did not measure. */
const DEFAULT_SIZE: [number, number] = [80, 26];

/**
 * Computes what the view draws for one set of view options: the visible graph, its
 * layout, and the outlines of expanded groups. The layout worker runs this, so that the
 * webview's UI thread never lays out a graph.
 */
export function computeVisibleLayout(index: GroupIndex, sizes: Readonly<Record<string, [number, number]>>, options: ViewOptions): VisibleLayout {
  const started = Date.now();
  const visible = buildVisibleGraph(index, options);

  const layout = layoutGraph(
    visible.nodes.map((node) => {
      const [width, height] = sizes[node.id] ?? DEFAULT_SIZE;
      return { id: node.id, width, height, pinTop: node.pinTop };
    }),
    visible.edges,
  );

  const nodes = visible.nodes.map((node, i) => {
    const placed = layout.nodes[i];
    return { ...placed, devices: node.devices, collapsedGroup: node.collapsedGroup, hiddenCount: node.hiddenCount };
  });

  return {
    nodes,
    edges: layout.edges,
    groupBoxes: groupOutlines(index, nodes, new Set(options.expanded)),
    width: layout.width,
    height: layout.height,
    elapsedMs: Date.now() - started,
  };
}

interface Box {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/**
 * Returns an outline around the visible members of each expanded group, innermost
 * groups padded first so that an outer outline encloses the inner ones and their labels.
 */
function groupOutlines(
  index: GroupIndex,
  nodes: readonly { id: string; x: number; y: number; width: number; height: number }[],
  expanded: ReadonlySet<string>,
): VisibleLayout['groupBoxes'] {
  const boxes = new Map<string, Box>();
  const extend = (group: string, box: Box): void => {
    const current = boxes.get(group);
    if (!current) {
      boxes.set(group, { ...box });
      return;
    }
    current.left = Math.min(current.left, box.left);
    current.top = Math.min(current.top, box.top);
    current.right = Math.max(current.right, box.right);
    current.bottom = Math.max(current.bottom, box.bottom);
  };

  // A visible node's groups are all expanded (otherwise the node would be folded away), and it belongs to each of them.
  for (const node of nodes) {
    const member = index.nodesById.get(node.id);
    for (const group of index.ancestry(member?.group)) {
      if (!expanded.has(group)) continue;
      extend(group, {
        left: node.x - node.width / 2,
        top: node.y - node.height / 2,
        right: node.x + node.width / 2,
        bottom: node.y + node.height / 2,
      });
    }
  }

  // Deepest groups first: each padded box then grows its parent's box.
  const depthOf = new Map([...boxes.keys()].map((group) => [group, index.ancestry(group).length]));
  const ordered = [...boxes.keys()].sort((a, b) => depthOf.get(b)! - depthOf.get(a)!);
  for (const group of ordered) {
    const box = boxes.get(group)!;
    box.left -= GROUP_PADDING;
    box.right += GROUP_PADDING;
    box.top -= GROUP_PADDING + GROUP_LABEL_HEIGHT;
    box.bottom += GROUP_PADDING;

    const parent = index.ancestry(group)[1];
    if (parent !== undefined && boxes.has(parent)) extend(parent, box);
  }

  return ordered.reverse().map((group) => {
    const box = boxes.get(group)!;
    return { id: group, x: box.left, y: box.top, width: box.right - box.left, height: box.bottom - box.top };
  });
}
