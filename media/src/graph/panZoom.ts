/** Pointer movement beyond this many pixels turns a press into a drag, which suppresses the click. */
const DRAG_THRESHOLD = 4;
const MIN_SCALE = 0.01;
const MAX_SCALE = 4;
/** Below this scale node labels are too small to read. */
const READABLE_SCALE = 0.6;

/**
 * Pans (drag) and zooms (wheel, buttons, fit) an SVG by setting a transform on one group
 * inside it; graph coordinates stay untouched.
 */
export class PanZoom {
  x = 0;
  y = 0;
  scale = 1;
  /** True after the last press moved far enough to count as a drag. */
  dragged = false;

  private pressed?: { pointerId: number; startX: number; startY: number; originX: number; originY: number };

  /**
   * The SVG's position and size, kept up to date by a ResizeObserver. Reading them from
   * the DOM after the graph changed would force a layout of every node.
   */
  private bounds = { left: 0, top: 0, width: 0, height: 0 };

  constructor(
    private readonly svg: SVGSVGElement,
    private readonly viewport: SVGGElement,
    /** Called after every change of the transform or of the view size. */
    private readonly onChange: () => void,
  ) {
    this.measure();
    new ResizeObserver(() => {
      this.measure();
      this.onChange();
    }).observe(svg);
    svg.addEventListener('wheel', (event) => this.onWheel(event), { passive: false });
    svg.addEventListener('pointerdown', (event) => this.onPointerDown(event));
    svg.addEventListener('pointermove', (event) => this.onPointerMove(event));
    svg.addEventListener('pointerup', (event) => this.onPointerUp(event));
    svg.addEventListener('pointercancel', (event) => this.onPointerUp(event));
  }

  /** Zooms by `factor` keeping the point under the given client position fixed; without one, the centre of the view. */
  zoomBy(factor: number, clientX?: number, clientY?: number): void {
    const bounds = this.bounds;
    const anchorX = (clientX ?? bounds.left + bounds.width / 2) - bounds.left;
    const anchorY = (clientY ?? bounds.top + bounds.height / 2) - bounds.top;
    const scale = Math.min(MAX_SCALE, Math.max(MIN_SCALE, this.scale * factor));

    this.x = anchorX - ((anchorX - this.x) * scale) / this.scale;
    this.y = anchorY - ((anchorY - this.y) * scale) / this.scale;
    this.scale = scale;
    this.apply();
  }

  /** Scales and centres a graph of the given size into the view, never enlarging past 1:1. */
  fit(width: number, height: number, margin = 24): void {
    const bounds = this.bounds;
    const available = { width: Math.max(1, bounds.width - 2 * margin), height: Math.max(1, bounds.height - 2 * margin) };
    const scale = Math.min(1, available.width / Math.max(width, 1), available.height / Math.max(height, 1));
    this.scale = Math.max(MIN_SCALE, scale);
    this.x = (bounds.width - width * this.scale) / 2;
    this.y = Math.max(margin, (bounds.height - height * this.scale) / 2);
    this.apply();
  }

  /**
   * Shows a graph at a readable scale: fitted when that keeps it at least at
   * `READABLE_SCALE`, otherwise its top part, at the scale that fits its width within
   * `READABLE_SCALE` and 1:1.
   */
  showReadable(width: number, height: number, margin = 24): void {
    this.fit(width, height, margin);
    if (this.scale >= READABLE_SCALE) return;

    const bounds = this.bounds;
    this.scale = Math.min(1, Math.max(READABLE_SCALE, (bounds.width - 2 * margin) / Math.max(width, 1)));
    this.x = Math.max(margin, (bounds.width - width * this.scale) / 2);
    this.y = margin;
    this.apply();
  }

  /** Moves the view so that a graph point lies at the centre, zooming in first if labels would be too small to read. */
  centerOn(graphX: number, graphY: number): void {
    if (this.scale < READABLE_SCALE) this.scale = 1;
    const bounds = this.bounds;
    this.x = bounds.width / 2 - graphX * this.scale;
    this.y = bounds.height / 2 - graphY * this.scale;
    this.apply();
  }

  /** Moves the view so that a graph point appears at a given position inside the SVG. */
  placeAt(graphX: number, graphY: number, viewX: number, viewY: number): void {
    this.x = viewX - graphX * this.scale;
    this.y = viewY - graphY * this.scale;
    this.apply();
  }

  /** Returns where a graph point appears inside the SVG. */
  toView(graphX: number, graphY: number): { x: number; y: number } {
    return { x: this.x + graphX * this.scale, y: this.y + graphY * this.scale };
  }

  /** Returns the visible area in graph coordinates. */
  visibleRect(): { left: number; top: number; right: number; bottom: number } {
    return {
      left: -this.x / this.scale,
      top: -this.y / this.scale,
      right: (this.bounds.width - this.x) / this.scale,
      bottom: (this.bounds.height - this.y) / this.scale,
    };
  }

  private measure(): void {
    const rect = this.svg.getBoundingClientRect();
    this.bounds = { left: rect.left, top: rect.top, width: rect.width, height: rect.height };
  }

  private apply(): void {
    this.viewport.setAttribute('transform', `translate(${this.x.toFixed(2)} ${this.y.toFixed(2)}) scale(${this.scale.toFixed(5)})`);
    this.onChange();
  }

  private onWheel(event: WheelEvent): void {
    event.preventDefault();
    // Lines and pages count as about 16 and 400 pixels, and trackpads send pixels.
    let pixels = event.deltaY;
    if (event.deltaMode === WheelEvent.DOM_DELTA_LINE) pixels *= 16;
    else if (event.deltaMode === WheelEvent.DOM_DELTA_PAGE) pixels *= 400;
    this.zoomBy(Math.exp(-pixels * 0.0015), event.clientX, event.clientY);
  }

  private onPointerDown(event: PointerEvent): void {
    if (event.button !== 0) return;
    this.dragged = false;
    this.pressed = { pointerId: event.pointerId, startX: event.clientX, startY: event.clientY, originX: this.x, originY: this.y };
  }

  private onPointerMove(event: PointerEvent): void {
    const pressed = this.pressed;
    if (!pressed || pressed.pointerId !== event.pointerId) return;
    const dx = event.clientX - pressed.startX;
    const dy = event.clientY - pressed.startY;
    if (!this.dragged && Math.hypot(dx, dy) < DRAG_THRESHOLD) return;

    if (!this.dragged) {
      this.dragged = true;
      this.svg.setPointerCapture(event.pointerId);
      this.svg.classList.add('panning');
    }
    this.x = pressed.originX + dx;
    this.y = pressed.originY + dy;
    this.apply();
  }

  private onPointerUp(event: PointerEvent): void {
    if (!this.pressed || this.pressed.pointerId !== event.pointerId) return;
    this.pressed = undefined;
    this.svg.classList.remove('panning');
    if (this.svg.hasPointerCapture(event.pointerId)) this.svg.releasePointerCapture(event.pointerId);
  }
}
