/**
 * The graph webview: shows a ModelGraph as SVG with pan, zoom, search, expandable
 * groups, a device legend and a filter for paths through pinned devices. Layout runs
 * in a worker. Clicking a node sends the extension a request to reveal its source.
 */
import type { GraphGroup, GraphNode, ModelGraph } from '../../../server/src/graph/graphTypes';
import { assignDeviceColors } from './deviceColors';
import { formatString, htmlElement, svgElement } from './dom';
import { buildSvgExport } from './exportSvg';
import { LayoutClient } from './layoutClient';
import { NodeMeasurer, nodeText } from './nodeText';
import { PanZoom } from './panZoom';
import { GRAPH_STRING_KEYS, type GraphStrings, type HostMessage, type ViewOptions, type VisibleLayout, type WebviewMessage } from './protocol';
import { GraphRenderer } from './graphRenderer';
import { addMarkers } from './render';
import { buildToolbar, renderLegend, type Toolbar } from './toolbar';
import { GroupIndex } from './visibleGraph';

interface VsCodeApi {
  postMessage(message: WebviewMessage): void;
  getState(): unknown;
  setState(state: SavedState): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

/** What survives the webview being hidden and shown again. */
interface SavedState extends ViewOptions {
  root?: string;
  search: string;
}

/** The screen position of a group's node or outline before a re-layout, which it keeps after. */
interface Anchor {
  group: string;
  viewX: number;
  viewY: number;
}

class GraphView {
  private readonly toolbar: Toolbar;
  private readonly svg: SVGSVGElement;
  private readonly viewport: SVGGElement;
  private readonly status: HTMLElement;
  private readonly panZoom: PanZoom;
  private readonly layoutClient: LayoutClient | undefined;

  private graph?: ModelGraph;
  private index?: GroupIndex;
  private groupsById = new Map<string, GraphGroup>();
  private deviceColors = new Map<string, number>();
  private options: ViewOptions = { expanded: [], onlyPinnedPaths: false, showLiterals: false };
  private layout?: VisibleLayout;
  private renderer?: GraphRenderer;
  private drawScheduled = false;
  private anchor?: Anchor;
  private fitPending = true;
  private matches: string[] = [];
  private currentMatch = -1;
  private selected?: string;

  constructor(
    private readonly vscode: VsCodeApi,
    private readonly strings: GraphStrings,
    workerSource: string,
  ) {
    this.toolbar = buildToolbar(strings);
    this.svg = svgElement('svg', { class: 'graph', role: 'img', 'aria-label': strings.graphLabel });
    addMarkers(this.svg);
    this.viewport = svgElement('g', { class: 'viewport' });
    this.svg.append(this.viewport);
    this.status = htmlElement('div', { class: 'status', role: 'status' }, strings.waiting);

    const canvas = htmlElement('div', { class: 'canvas' });
    canvas.append(this.svg);
    document.body.append(this.toolbar.root, canvas, this.status);
    this.panZoom = new PanZoom(this.svg, this.viewport, () => this.scheduleDraw());

    try {
      this.layoutClient = new LayoutClient(
        workerSource,
        (layout) => this.onLayout(layout),
        (message) => this.setStatus(formatString(strings.layoutFailed, message), true),
      );
    } catch (error) {
      this.setStatus(formatString(strings.workerFailed, error instanceof Error ? error.message : String(error)), true);
    }

    this.wireControls();
    window.addEventListener('message', (event: MessageEvent<HostMessage>) => this.onHostMessage(event.data));
    vscode.postMessage({ type: 'ready' });
  }

  private wireControls(): void {
    const { toolbar } = this;
    toolbar.zoomIn.addEventListener('click', () => this.panZoom.zoomBy(1.25));
    toolbar.zoomOut.addEventListener('click', () => this.panZoom.zoomBy(0.8));
    toolbar.fit.addEventListener('click', () => this.layout && this.panZoom.fit(this.layout.width, this.layout.height));
    toolbar.expandAll.addEventListener('click', () => this.setOptions({ expanded: [...this.groupsById.keys()] }));
    toolbar.collapseAll.addEventListener('click', () => this.setOptions({ expanded: [] }));
    toolbar.exportSvg.addEventListener('click', () => this.exportSvg());
    toolbar.onlyPinnedPaths.addEventListener('change', () => this.setOptions({ onlyPinnedPaths: toolbar.onlyPinnedPaths.checked }));
    toolbar.showLiterals.addEventListener('change', () => this.setOptions({ showLiterals: toolbar.showLiterals.checked }));

    toolbar.search.addEventListener('input', () => {
      this.updateMatches();
      this.saveState();
    });
    toolbar.search.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') this.showNextMatch(event.shiftKey ? -1 : 1);
      if (event.key === 'Escape') {
        toolbar.search.value = '';
        this.updateMatches();
        this.saveState();
      }
    });

    this.svg.addEventListener('click', (event) => this.onCanvasClick(event));
    this.svg.addEventListener('dblclick', (event) => {
      const group = (event.target as Element).closest('.collapsed-group')?.querySelector('.toggle')?.getAttribute('data-group');
      if (group) this.toggleGroup(group);
    });
  }

  private onHostMessage(message: HostMessage): void {
    if (typeof message !== 'object' || message === null) return;
    if (message.type === 'graph' && isModelGraph(message.graph)) this.showGraph(message.graph);
    if (message.type === 'exportFailed' && typeof message.message === 'string') this.setStatus(formatString(this.strings.exportFailed, message.message), true);
  }

  private showGraph(graph: ModelGraph): void {
    this.graph = graph;
    this.index = new GroupIndex(graph);
    this.groupsById = new Map(graph.groups.map((group) => [group.id, group]));
    this.deviceColors = assignDeviceColors(graph);
    renderLegend(this.toolbar.legend, this.strings, this.deviceColors);
    this.renderer = new GraphRenderer(this.viewport, {
      nodesById: this.index.nodesById,
      groupsById: this.groupsById,
      deviceColors: this.deviceColors,
      strings: this.strings,
    });
    this.layout = undefined;
    this.selected = undefined;

    // Restore the view options saved for the same model; a different model starts fresh.
    const saved = this.vscode.getState() as Partial<SavedState> | undefined;
    const sameModel = saved !== undefined && saved.root === graph.root;
    this.options = {
      expanded: sameModel && Array.isArray(saved.expanded) ? saved.expanded.filter((id) => this.groupsById.has(id)) : [],
      onlyPinnedPaths: sameModel && saved.onlyPinnedPaths === true,
      showLiterals: sameModel && saved.showLiterals === true,
    };
    this.toolbar.onlyPinnedPaths.checked = this.options.onlyPinnedPaths;
    this.toolbar.showLiterals.checked = this.options.showLiterals;
    this.toolbar.search.value = sameModel && typeof saved.search === 'string' ? saved.search : '';

    const measurer = new NodeMeasurer(getComputedStyle(document.body).getPropertyValue('--vscode-editor-font-family') || 'monospace');
    const sizes: Record<string, [number, number]> = {};
    for (const node of graph.nodes) {
      const group = this.groupOf(node);
      sizes[node.id] = measurer.size(nodeText(node, group), group !== undefined);
    }

    this.fitPending = true;
    this.layoutClient?.setGraph(graph, sizes);
    this.requestLayout();
  }

  private groupOf(node: GraphNode): GraphGroup | undefined {
    const group = this.index?.groupRepresentedBy(node.id);
    return group === undefined ? undefined : this.groupsById.get(group);
  }

  private setOptions(change: Partial<ViewOptions>): void {
    this.options = { ...this.options, ...change };
    this.saveState();
    this.requestLayout();
  }

  private requestLayout(): void {
    if (!this.graph || !this.layoutClient) return;
    this.setStatus(formatString(this.strings.layingOut, this.graph.nodes.length), false);
    this.layoutClient.requestLayout(this.options);
  }

  private onLayout(layout: VisibleLayout): void {
    const renderer = this.renderer;
    if (!renderer) return;
    this.layout = layout;
    renderer.setLayout(layout);

    if (this.fitPending) {
      this.fitPending = false;
      this.panZoom.showReadable(layout.width, layout.height);
    } else if (this.anchor) {
      const position = this.groupPosition(this.anchor.group);
      if (position) this.panZoom.placeAt(position.x, position.y, this.anchor.viewX, this.anchor.viewY);
    }
    this.anchor = undefined;

    if (this.selected && renderer.hasNode(this.selected)) renderer.setNodeClass(this.selected, 'selected', true);
    this.updateMatches();
    this.draw();

    if (this.graph!.nodes.length === 0) this.setStatus(this.strings.emptyGraph, false);
    else if (layout.nodes.length === 0 && this.options.onlyPinnedPaths) this.setStatus(this.strings.noPinnedPaths, false);
    else this.setStatus(formatString(this.strings.status, layout.nodes.length, layout.edges.length), false);
  }

  /** Returns the top-left corner of a group's outline, or of its node while it is collapsed, in graph coordinates. */
  private groupPosition(group: string): { x: number; y: number } | undefined {
    const box = this.layout?.groupBoxes.find((candidate) => candidate.id === group);
    if (box) return { x: box.x, y: box.y };
    const node = this.layout?.nodes.find((candidate) => candidate.collapsedGroup === group);
    return node ? { x: node.x - node.width / 2, y: node.y - node.height / 2 } : undefined;
  }

  private toggleGroup(group: string): void {
    const position = this.groupPosition(group);
    if (position) {
      const view = this.panZoom.toView(position.x, position.y);
      this.anchor = { group, viewX: view.x, viewY: view.y };
    }
    const expanded = new Set(this.options.expanded);
    if (expanded.has(group)) expanded.delete(group);
    else expanded.add(group);
    this.setOptions({ expanded: [...expanded] });
  }

  private onCanvasClick(event: MouseEvent): void {
    if (this.panZoom.dragged) return;
    const target = event.target as Element;

    const toggle = target.closest('.toggle');
    const toggledGroup = toggle?.getAttribute('data-group');
    if (toggledGroup) {
      this.toggleGroup(toggledGroup);
      return;
    }

    const id = target.closest('.node')?.getAttribute('data-id');
    const node = id ? this.index?.nodesById.get(id) : undefined;
    if (!node) return;

    this.select(node.id);
    if (node.source) this.vscode.postMessage({ type: 'reveal', record: node.source.record, range: node.source.range });
  }

  private select(id: string | undefined): void {
    this.renderer?.clearNodeClass('selected');
    this.selected = id;
    if (id) this.renderer?.setNodeClass(id, 'selected', true);
  }

  /** Draws what is in view at the next animation frame, once however many changes come before it. */
  private scheduleDraw(): void {
    if (this.drawScheduled) return;
    this.drawScheduled = true;
    requestAnimationFrame(() => {
      this.drawScheduled = false;
      this.draw();
    });
  }

  private draw(): void {
    this.renderer?.update(this.panZoom.visibleRect(), this.panZoom.scale);
  }

  /** Highlights the nodes whose label, variable name, device or group label contains the search text. */
  private updateMatches(): void {
    const renderer = this.renderer;
    if (!renderer || !this.index || !this.graph || !this.layout) return;
    for (const className of ['match', 'match-inside', 'match-current']) renderer.clearNodeClass(className);

    const query = this.toolbar.search.value.trim().toLowerCase();
    this.matches = [];
    this.currentMatch = -1;
    if (query === '') {
      this.toolbar.matchCount.textContent = '';
      return;
    }

    const expanded = new Set(this.options.expanded);
    const direct = new Set<string>();
    const inside = new Set<string>();
    for (const node of this.graph.nodes) {
      const texts = [node.label, node.name, node.device, this.groupOf(node)?.label];
      if (!texts.some((text) => text?.toLowerCase().includes(query))) continue;
      const shownAs = this.index.representative(node.id, expanded, this.options.showLiterals);
      if (shownAs === undefined || !renderer.hasNode(shownAs)) continue;
      if (shownAs === node.id) direct.add(shownAs);
      else inside.add(shownAs);
    }

    for (const id of direct) renderer.setNodeClass(id, 'match', true);
    for (const id of inside) if (!direct.has(id)) renderer.setNodeClass(id, 'match-inside', true);

    const position = (id: string) => renderer.nodeLayout(id)!;
    this.matches = [...new Set([...direct, ...inside])].sort((a, b) => position(a).y - position(b).y || position(a).x - position(b).x);
    this.toolbar.matchCount.textContent = this.matches.length === 0 ? this.strings.noMatches : formatString(this.strings.matchCount, this.matches.length);
  }

  private showNextMatch(step: number): void {
    const renderer = this.renderer;
    if (this.matches.length === 0 || !renderer) return;
    renderer.clearNodeClass('match-current');
    this.currentMatch = (this.currentMatch + step + this.matches.length) % this.matches.length;

    const id = this.matches[this.currentMatch];
    renderer.setNodeClass(id, 'match-current', true);
    const node = renderer.nodeLayout(id);
    if (node) this.panZoom.centerOn(node.x, node.y);
  }

  private exportSvg(): void {
    if (!this.layout || !this.renderer) return;

    // The view draws only what is in sight, so the export draws everything into a hidden group first.
    const everything = svgElement('g', { visibility: 'hidden' });
    this.svg.append(everything);
    try {
      this.renderer.renderAll(everything);
      const svg = buildSvgExport(this.svg, everything, this.layout.width, this.layout.height);
      this.vscode.postMessage({ type: 'exportSvg', svg });
    } finally {
      everything.remove();
    }
  }

  private setStatus(text: string, isError: boolean): void {
    this.status.textContent = text;
    this.status.classList.toggle('error', isError);
  }

  private saveState(): void {
    this.vscode.setState({ ...this.options, root: this.graph?.root, search: this.toolbar.search.value });
  }
}

const NODE_KINDS = new Set<unknown>(['input', 'op', 'module', 'constant', 'device', 'attribute', 'output']);

/** Checks the shape of a graph message before any of it is used. */
function isModelGraph(value: unknown): value is ModelGraph {
  if (typeof value !== 'object' || value === null) return false;
  const graph = value as Partial<ModelGraph>;
  if (!Array.isArray(graph.nodes) || !Array.isArray(graph.edges) || !Array.isArray(graph.groups)) return false;
  return (
    graph.nodes.every((node) => typeof node?.id === 'string' && typeof node.label === 'string' && NODE_KINDS.has(node.kind)) &&
    graph.edges.every((edge) => typeof edge?.from === 'string' && typeof edge.to === 'string') &&
    graph.groups.every((group) => typeof group?.id === 'string' && typeof group.node === 'string' && typeof group.label === 'string')
  );
}

/** Reads the localized strings from the page; a missing string shows its key rather than "undefined". */
function readStrings(): GraphStrings {
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(document.body.dataset.strings ?? '{}') as Record<string, unknown>;
  } catch {
    // Keys stand in for every string below.
  }
  const strings = {} as GraphStrings;
  for (const key of GRAPH_STRING_KEYS) {
    const value = parsed[key];
    strings[key] = typeof value === 'string' ? value : key;
  }
  return strings;
}

new GraphView(acquireVsCodeApi(), readStrings(), document.body.dataset.workerSource ?? '');
