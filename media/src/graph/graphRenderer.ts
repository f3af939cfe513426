import { svgElement } from './dom';
import type { VisibleLayout, VisibleNodeLayout } from './protocol';
import { renderEdge, renderGroupBox, renderNode, type RenderContext } from './render';

/** Below this zoom scale nodes are drawn as plain boxes, because their labels are too small to read. */
const DETAIL_SCALE = 0.35;

/** Part of the view's size added on each side of the drawn area, so that short pans show nodes that already exist. */
const OVERSCAN = 0.5;

/** A rectangle in graph coordinates. */
export interface ViewRect {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/**
 * Draws a layout into an SVG group, keeping in the DOM only the nodes and edges that
 * fall inside the visible area (plus a margin). A 10,000-node graph viewed at a readable
 * scale then costs a few hundred elements, and zoomed far out it costs one box per node.
 */
export class GraphRenderer {
  private layout?: VisibleLayout;
  private nodesById = new Map<string, VisibleNodeLayout>();
  /** Per edge: left, top, right, bottom of its points. */
  private edgeBounds = new Float64Array(0);
  private edgeSourceDevice: (string | undefined)[] = [];

  private readonly groupLayer = svgElement('g', { class: 'groups' });
  private readonly edgeLayer = svgElement('g', { class: 'edges' });
  private readonly nodeLayer = svgElement('g', { class: 'nodes' });
  private readonly nodeElements = new Map<string, SVGGElement>();
  private readonly edgeElements = new Map<number, SVGPathElement>();
  private detailed = true;

  /** Classes such as `match` or `selected` that stay on a node while it leaves and re-enters the view. */
  private readonly nodeClasses = new Map<string, Set<string>>();

  constructor(
    viewport: SVGGElement,
    private readonly context: RenderContext,
  ) {
    viewport.replaceChildren(this.groupLayer, this.edgeLayer, this.nodeLayer);
  }

  /** Replaces the drawn layout; call `update` afterwards to draw what is in view. */
  setLayout(layout: VisibleLayout): void {
    this.layout = layout;
    this.nodesById = new Map(layout.nodes.map((node) => [node.id, node]));
    this.clear();
    this.nodeClasses.clear();

    this.edgeBounds = new Float64Array(layout.edges.length * 4);
    layout.edges.forEach((edge, index) => {
      let [left, top, right, bottom] = [Infinity, Infinity, -Infinity, -Infinity];
      for (let i = 0; i + 1 < edge.points.length; i += 2) {
        left = Math.min(left, edge.points[i]);
        right = Math.max(right, edge.points[i]);
        top = Math.min(top, edge.points[i + 1]);
        bottom = Math.max(bottom, edge.points[i + 1]);
      }
      this.edgeBounds.set([left, top, right, bottom], index * 4);
    });
    this.edgeSourceDevice = layout.edges.map((edge) => {
      const source = this.context.nodesById.get(edge.from);
      return source?.kind === 'device' ? this.nodesById.get(edge.from)?.devices[0] : undefined;
    });

    this.groupLayer.replaceChildren(...layout.groupBoxes.map((box) => renderGroupBox(box, this.context)));
  }

  /** Draws the nodes and edges that intersect `view`, at the detail the zoom `scale` allows. */
  update(view: ViewRect, scale: number): void {
    const layout = this.layout;
    if (!layout) return;

    const detailed = scale >= DETAIL_SCALE;
    if (detailed !== this.detailed) {
      this.detailed = detailed;
      this.clear();
    }

    const marginX = (view.right - view.left) * OVERSCAN;
    const marginY = (view.bottom - view.top) * OVERSCAN;
    const area = { left: view.left - marginX, top: view.top - marginY, right: view.right + marginX, bottom: view.bottom + marginY };

    const shownNodes = new Set<string>();
    for (const node of layout.nodes) {
      const outside =
        node.x + node.width / 2 < area.left || node.x - node.width / 2 > area.right || node.y + node.height / 2 < area.top || node.y - node.height / 2 > area.bottom;
      if (!outside) shownNodes.add(node.id);
    }
    const shownEdges = new Set<number>();
    for (let index = 0; index < layout.edges.length; index++) {
      const [left, top, right, bottom] = this.edgeBounds.subarray(index * 4, index * 4 + 4);
      if (right >= area.left && left <= area.right && bottom >= area.top && top <= area.bottom) shownEdges.add(index);
    }

    this.syncNodes(shownNodes);
    this.syncEdges(shownEdges, layout);
  }

  /** Fills `target` with the whole layout at full detail, whatever is in view (for export). */
  renderAll(target: SVGGElement): void {
    const layout = this.layout;
    if (!layout) return;
    const groups = svgElement('g', { class: 'groups' });
    const edges = svgElement('g', { class: 'edges' });
    const nodes = svgElement('g', { class: 'nodes' });
    groups.append(...layout.groupBoxes.map((box) => renderGroupBox(box, this.context)));
    edges.append(...layout.edges.map((edge, index) => renderEdge(edge, this.edgeSourceDevice[index], this.context)));
    for (const node of layout.nodes) {
      const element = renderNode(node, this.context, true);
      if (element) nodes.append(element);
    }
    target.replaceChildren(groups, edges, nodes);
  }

  /** Returns whether the layout contains a node, drawn or not. */
  hasNode(id: string): boolean {
    return this.nodesById.has(id);
  }

  nodeLayout(id: string): VisibleNodeLayout | undefined {
    return this.nodesById.get(id);
  }

  /** Adds or removes a class on a node, now if it is drawn and whenever it is drawn later. */
  setNodeClass(id: string, className: string, enabled: boolean): void {
    let classes = this.nodeClasses.get(id);
    if (enabled) {
      if (!classes) this.nodeClasses.set(id, (classes = new Set()));
      classes.add(className);
    } else {
      classes?.delete(className);
    }
    this.nodeElements.get(id)?.classList.toggle(className, enabled);
  }

  /** Removes a class from every node. */
  clearNodeClass(className: string): void {
    for (const [id, classes] of this.nodeClasses) {
      if (classes.delete(className)) this.nodeElements.get(id)?.classList.remove(className);
    }
  }

  private syncNodes(shown: ReadonlySet<string>): void {
    for (const [id, element] of this.nodeElements) {
      if (!shown.has(id)) {
        element.remove();
        this.nodeElements.delete(id);
      }
    }
    const added: SVGGElement[] = [];
    for (const id of shown) {
      if (this.nodeElements.has(id)) continue;
      const element = renderNode(this.nodesById.get(id)!, this.context, this.detailed);
      if (!element) continue;
      for (const className of this.nodeClasses.get(id) ?? []) element.classList.add(className);
      this.nodeElements.set(id, element);
      added.push(element);
    }
    this.nodeLayer.append(...added);
  }

  private syncEdges(shown: ReadonlySet<number>, layout: VisibleLayout): void {
    for (const [index, element] of this.edgeElements) {
      if (!shown.has(index)) {
        element.remove();
        this.edgeElements.delete(index);
      }
    }
    const added: SVGPathElement[] = [];
    for (const index of shown) {
      if (this.edgeElements.has(index)) continue;
      const element = renderEdge(layout.edges[index], this.edgeSourceDevice[index], this.context);
      this.edgeElements.set(index, element);
      added.push(element);
    }
    this.edgeLayer.append(...added);
  }

  private clear(): void {
    this.nodeLayer.replaceChildren();
    this.edgeLayer.replaceChildren();
    this.nodeElements.clear();
    this.edgeElements.clear();
  }
}
