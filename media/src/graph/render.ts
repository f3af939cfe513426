import type { GraphGroup, GraphNode } from '../../../server/src/graph/graphTypes';
import { DEVICE_COLOR_COUNT, deviceColorClass } from './deviceColors';
import { formatString, svgElement } from './dom';
import { NODE_TEXT_METRICS, nodeText } from './nodeText';
import type { GraphStrings, VisibleLayout, VisibleNodeLayout } from './protocol';

/** Graph data and settings the renderer needs besides the layout. */
export interface RenderContext {
  nodesById: ReadonlyMap<string, GraphNode>;
  groupsById: ReadonlyMap<string, GraphGroup>;
  deviceColors: ReadonlyMap<string, number>;
  strings: GraphStrings;
}

const KIND_STRING: Record<GraphNode['kind'], keyof GraphStrings> = {
  input: 'kindInput',
  op: 'kindOp',
  module: 'kindModule',
  constant: 'kindConstant',
  device: 'kindDevice',
  attribute: 'kindAttribute',
  output: 'kindOutput',
};

/** Adds the arrowhead markers: one in the edge colour and one per device colour. */
export function addMarkers(svg: SVGSVGElement): void {
  const defs = svgElement('defs');
  const classes = ['edge-arrow', ...Array.from({ length: DEVICE_COLOR_COUNT }, (_, i) => `device-color-${i}`)];
  for (const className of classes) {
    const marker = svgElement('marker', {
      id: `arrow-${className}`,
      viewBox: '0 0 10 10',
      refX: 9,
      refY: 5,
      markerWidth: 7,
      markerHeight: 7,
      orient: 'auto-start-reverse',
      markerUnits: 'userSpaceOnUse',
    });
    marker.append(svgElement('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: `arrow ${className}` }));
    defs.append(marker);
  }
  svg.append(defs);
}

/** Builds the path of an edge, coloured after the device when it leaves a device node. */
export function renderEdge(edge: VisibleLayout['edges'][number], sourceDevice: string | undefined, context: RenderContext): SVGPathElement {
  const colorClass = sourceDevice === undefined ? 'edge-arrow' : deviceColorClass(context.deviceColors, sourceDevice);
  return svgElement('path', {
    d: edgePath(edge.points),
    class: sourceDevice === undefined ? 'edge' : `edge device-edge ${colorClass}`,
    'marker-end': `url(#arrow-${colorClass})`,
  });
}

export function renderGroupBox(box: VisibleLayout['groupBoxes'][number], context: RenderContext): SVGGElement {
  const group = context.groupsById.get(box.id);
  const label = group?.label ?? box.id;
  const element = svgElement('g', { class: 'group-box', 'data-group': box.id });
  element.append(svgElement('rect', { x: box.x, y: box.y, width: box.width, height: box.height, rx: 6 }));

  const toggle = svgElement('g', { class: 'toggle', 'data-group': box.id, role: 'button' });
  toggle.append(svgElement('title', {}, formatString(context.strings.collapseGroup, label)));
  toggle.append(svgElement('rect', { x: box.x + 6, y: box.y + 5, width: 14, height: 14, rx: 3 }));
  toggle.append(svgElement('text', { x: box.x + 13, y: box.y + 16, 'text-anchor': 'middle' }, '−'));
  element.append(toggle);

  element.append(svgElement('text', { class: 'group-label', x: box.x + 26, y: box.y + 16 }, label));
  return element;
}

/**
 * Builds a node. Without `detailed` (when zoomed out too far to read) it is only a box in
 * the node's colours, which keeps large graphs fast to draw.
 */
export function renderNode(layoutNode: VisibleNodeLayout, context: RenderContext, detailed: boolean): SVGGElement | undefined {
  const node = context.nodesById.get(layoutNode.id);
  if (!node) return undefined;

  const group = layoutNode.collapsedGroup === undefined ? undefined : context.groupsById.get(layoutNode.collapsedGroup);
  const text = nodeText(node, group);
  const classes = ['node', `kind-${node.kind}`];
  if (group) classes.push('collapsed-group');
  if (node.kind === 'device' && node.device !== undefined) classes.push('device', deviceColorClass(context.deviceColors, node.device));
  else if (layoutNode.devices.length > 0) classes.push('contains-device');
  if (node.kind === 'constant' && node.literal) classes.push('literal');

  const left = layoutNode.x - layoutNode.width / 2;
  const top = layoutNode.y - layoutNode.height / 2;
  const element = svgElement('g', { class: classes.join(' '), 'data-id': node.id, transform: `translate(${left.toFixed(1)} ${top.toFixed(1)})` });
  const corner = node.kind === 'op' || node.kind === 'module' ? 4 : layoutNode.height / 2;
  element.append(svgElement('rect', { class: 'node-box', width: layoutNode.width, height: layoutNode.height, rx: corner }));
  if (!detailed) return element;

  element.prepend(svgElement('title', {}, tooltip(node, layoutNode, group, context.strings)));

  const textWidth = layoutNode.width - (group ? NODE_TEXT_METRICS.TOGGLE_WIDTH : 0);
  const titleY = text.subtitle ? 16 : layoutNode.height / 2 + 4;
  element.append(svgElement('text', { class: 'node-title', x: textWidth / 2, y: titleY, 'text-anchor': 'middle' }, text.title));
  if (text.subtitle) {
    element.append(svgElement('text', { class: 'node-subtitle', x: textWidth / 2, y: 30, 'text-anchor': 'middle' }, text.subtitle));
  }

  // Devices hidden inside a collapsed group show as coloured dots along its bottom edge.
  layoutNode.devices.forEach((device, index) => {
    if (node.kind === 'device') return;
    const dot = svgElement('circle', { class: `device-dot ${deviceColorClass(context.deviceColors, device)}`, cx: 8 + index * 9, cy: layoutNode.height, r: 4 });
    element.append(dot);
  });

  if (group) {
    const toggle = svgElement('g', { class: 'toggle', 'data-group': group.id, role: 'button' });
    toggle.append(svgElement('title', {}, formatString(context.strings.expandGroup, group.label)));
    const x = layoutNode.width - NODE_TEXT_METRICS.TOGGLE_WIDTH + 2;
    toggle.append(svgElement('rect', { x, y: layoutNode.height / 2 - 7, width: 14, height: 14, rx: 3 }));
    toggle.append(svgElement('text', { x: x + 7, y: layoutNode.height / 2 + 4, 'text-anchor': 'middle' }, '+'));
    element.append(toggle);
  }

  return element;
}

function tooltip(node: GraphNode, layoutNode: VisibleNodeLayout, group: GraphGroup | undefined, strings: GraphStrings): string {
  const lines = [`${strings[KIND_STRING[node.kind]]}: ${group ? group.label : node.label}`];
  if (node.name !== undefined) lines.push(node.name);
  if (node.device !== undefined) lines.push(node.device);
  if (group) lines.push(formatString(strings.hiddenNodes, layoutNode.hiddenCount));
  if (node.source) lines.push(formatString(strings.sourceLocation, node.source.record, node.source.range.start.line + 1));
  return lines.join('\n');
}

/** Returns a smooth path through the layout's points, leaving and entering each point vertically. */
export function edgePath(points: readonly number[]): string {
  if (points.length < 4) return '';
  const parts = [`M${round(points[0])},${round(points[1])}`];
  for (let i = 2; i + 1 < points.length; i += 2) {
    const [ax, ay, bx, by] = [points[i - 2], points[i - 1], points[i], points[i + 1]];
    const middle = (ay + by) / 2;
    parts.push(`C${round(ax)},${round(middle)} ${round(bx)},${round(middle)} ${round(bx)},${round(by)}`);
  }
  return parts.join(' ');
}

function round(value: number): string {
  return (Math.round(value * 10) / 10).toString();
}
