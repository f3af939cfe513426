import type { GraphGroup, GraphNode } from '../../../server/src/graph/graphTypes';

/** Lines longer than this are cut with an ellipsis; the tooltip shows the whole text. */
const MAX_LINE_CHARACTERS = 40;

const TITLE_FONT_SIZE = 12;
const SUBTITLE_FONT_SIZE = 11;
const HORIZONTAL_PADDING = 20;
/** Room for the expand button of a collapsed group. */
const TOGGLE_WIDTH = 20;
const MIN_WIDTH = 40;
const ONE_LINE_HEIGHT = 26;
const TWO_LINE_HEIGHT = 38;

export interface NodeText {
  title: string;
  subtitle?: string;
}

/**
 * Returns the text a node shows: a group's label while the node represents the collapsed
 * group, otherwise its own label, with its variable name below.
 */
export function nodeText(node: GraphNode, representedGroup?: GraphGroup): NodeText {
  const title = representedGroup ? representedGroup.label : node.label;
  const text: NodeText = { title: shorten(title) };
  if (node.name !== undefined && node.name !== title) text.subtitle = shorten(node.name);
  return text;
}

export function shorten(text: string): string {
  const singleLine = text.replace(/\s+/g, ' ');
  return singleLine.length <= MAX_LINE_CHARACTERS ? singleLine : `${singleLine.slice(0, MAX_LINE_CHARACTERS - 1)}…`;
}

/** Measures node text with a canvas in the webview's fonts. */
export class NodeMeasurer {
  private readonly context: CanvasRenderingContext2D | null;

  constructor(private readonly fontFamily: string) {
    this.context = document.createElement('canvas').getContext('2d');
  }

  size(text: NodeText, hasToggle: boolean): [number, number] {
    const width = Math.max(this.measure(text.title, `600 ${TITLE_FONT_SIZE}px`), text.subtitle ? this.measure(text.subtitle, `${SUBTITLE_FONT_SIZE}px`) : 0);
    const total = Math.ceil(width + HORIZONTAL_PADDING + (hasToggle ? TOGGLE_WIDTH : 0));
    return [Math.max(MIN_WIDTH, total), text.subtitle ? TWO_LINE_HEIGHT : ONE_LINE_HEIGHT];
  }

  private measure(text: string, font: string): number {
    if (!this.context) return text.length * 7.5;
    this.context.font = `${font} ${this.fontFamily}`;
    return this.context.measureText(text).width;
  }
}

export const NODE_TEXT_METRICS = { TITLE_FONT_SIZE, SUBTITLE_FONT_SIZE, TOGGLE_WIDTH };
