/**
 * Messages between the graph webview and the extension, and between the webview and
 * its layout worker. The extension host imports these types too, so this module contains
 * types and constants only.
 */
import type { Range } from '../../../server/src/analysis/types';
import type { ModelGraph } from '../../../server/src/graph/graphTypes';

/** Sent by the extension. `graph` is the reply to the webview's `ready`. */
export type HostMessage = { type: 'graph'; graph: ModelGraph } | { type: 'exportFailed'; message: string };

/** Sent by the webview. */
export type WebviewMessage =
  | { type: 'ready' }
  | { type: 'reveal'; record: string; range: Range }
  | { type: 'exportSvg'; svg: string };

/** View settings that change which nodes are shown. */
export interface ViewOptions {
  /** Ids of the groups the user expanded; every other group is collapsed. */
  expanded: string[];
  /** Keep only nodes on a path from an input through a device node to an output. */
  onlyPinnedPaths: boolean;
  /** Show literal constants (`0`, `None`, `False`), which are hidden by default. */
  showLiterals: boolean;
}

/** Sent by the webview to its layout worker. `setGraph` comes first, then any number of `layout` requests. */
export type WorkerRequest =
  | { type: 'setGraph'; graph: ModelGraph; sizes: Record<string, [width: number, height: number]> }
  | { type: 'layout'; requestId: number; options: ViewOptions };

/** Sent by the layout worker, one per `layout` request. */
export type WorkerResponse =
  | { type: 'layout'; requestId: number; layout: VisibleLayout }
  | { type: 'error'; requestId: number; message: string };

export interface VisibleLayout {
  nodes: VisibleNodeLayout[];
  edges: { from: string; to: string; points: number[] }[];
  /** Outlines of expanded groups that have visible members, outermost first. */
  groupBoxes: { id: string; x: number; y: number; width: number; height: number }[];
  width: number;
  height: number;
  /** Time the worker spent on the request. */
  elapsedMs: number;
}

export interface VisibleNodeLayout {
  id: string;
  /** Centre of the node. */
  x: number;
  y: number;
  width: number;
  height: number;
  /** The devices of the device nodes this node is or contains (for a collapsed group). */
  devices: string[];
  /** Set when the node represents a collapsed group: the group id. */
  collapsedGroup?: string;
  /** Number of graph nodes a collapsed group hides. */
  hiddenCount: number;
}

/**
 * Keys of the user-facing strings. The extension passes a localized table with every
 * key. `{0}` and `{1}` are filled in by the webview.
 */
export const GRAPH_STRING_KEYS = [
  'graphLabel',
  'waiting',
  'searchLabel',
  'searchPlaceholder',
  'matchCount',
  'noMatches',
  'zoomIn',
  'zoomOut',
  'fit',
  'expandAll',
  'collapseAll',
  'exportSvg',
  'onlyPinnedPaths',
  'showLiterals',
  'legendTitle',
  'noDevices',
  'layingOut',
  'status',
  'emptyGraph',
  'noPinnedPaths',
  'layoutFailed',
  'workerFailed',
  'exportFailed',
  'expandGroup',
  'collapseGroup',
  'hiddenNodes',
  'sourceLocation',
  'kindInput',
  'kindOp',
  'kindModule',
  'kindConstant',
  'kindDevice',
  'kindAttribute',
  'kindOutput',
] as const;

export type GraphStringKey = (typeof GRAPH_STRING_KEYS)[number];
export type GraphStrings = Record<GraphStringKey, string>;
