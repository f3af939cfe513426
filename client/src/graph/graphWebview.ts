/**
 * The extension side of the graph webview: the page's HTML with its content security
 * policy, and the message handling that sends the graph and serves the webview's
 * requests. `vscode` is imported for types only, so tests can drive this module with a
 * stand-in webview.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as vscode from 'vscode';
import type { Range } from '../../../server/src/analysis/types';
import type { ModelGraph } from '../../../server/src/graph/graphTypes';
import type { GraphStrings, HostMessage } from '../../../media/src/graph/protocol';

/** Build outputs and styles the page loads, relative to the extension folder. */
export const GRAPH_WEBVIEW_SCRIPT = ['dist', 'graphWebview.js'];
export const GRAPH_LAYOUT_WORKER_SCRIPT = ['dist', 'graphLayoutWorker.js'];
export const GRAPH_STYLESHEET = ['media', 'graph.css'];

/** An exported SVG larger than this is rejected instead of being written. */
const MAX_EXPORT_BYTES = 64 * 1024 * 1024;

/**
 * Returns the HTML of the graph webview. The webview's `localResourceRoots` must include
 * the extension's `dist` and `media` folders.
 *
 * The layout worker's script is embedded base64-encoded and started from a Blob URL,
 * because a webview document cannot start a worker from its resource URLs, which have
 * another origin. Scripts run only with the page's nonce.
 */
export function renderGraphHtml(webview: vscode.Webview, extensionUri: vscode.Uri, strings: Record<string, string>): string {
  const nonce = randomBytes(18).toString('base64');
  const scriptUri = webview.asWebviewUri(joinUri(extensionUri, GRAPH_WEBVIEW_SCRIPT));
  const styleUri = webview.asWebviewUri(joinUri(extensionUri, GRAPH_STYLESHEET));
  const workerPath = path.join(extensionUri.fsPath, ...GRAPH_LAYOUT_WORKER_SCRIPT);

  let workerSource: Buffer;
  try {
    workerSource = fs.readFileSync(workerPath);
  } catch (cause) {
    throw new Error(`the graph layout worker ${workerPath} is missing; run "npm run build" to create it`, { cause });
  }

  const policy = [
    `default-src 'none'`,
    `script-src 'nonce-${nonce}'`,
    `style-src ${webview.cspSource} 'nonce-${nonce}'`,
    `worker-src ${webview.cspSource} blob:`,
    `img-src ${webview.cspSource} data:`,
  ].join('; ');

  return [
    '<!DOCTYPE html>',
    '<html>',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${escapeAttribute(policy)}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<link rel="stylesheet" nonce="${escapeAttribute(nonce)}" href="${escapeAttribute(styleUri.toString())}">`,
    '</head>',
    `<body data-strings="${escapeAttribute(JSON.stringify(strings))}" data-worker-source="${workerSource.toString('base64')}">`,
    `<script nonce="${escapeAttribute(nonce)}" src="${escapeAttribute(scriptUri.toString())}"></script>`,
    '</body>',
    '</html>',
  ].join('\n');
}

export interface GraphWebviewHandlers {
  /** Opens a code record of the archive at a range. */
  reveal(record: string, range: Range): void;
  /** Saves an exported SVG, for example after a save dialog. A rejection is shown in the webview. */
  exportSvg(svg: string): Promise<void>;
}

/**
 * Sends `graph` each time the webview reports `ready` (on load, and again whenever
 * VS Code recreates the page) and passes the webview's reveal and export requests to
 * the handlers after checking them. Dispose the result to stop listening.
 * `extensionUri` is not used yet; it keeps the arguments in line with renderGraphHtml.
 */
export function attachGraphWebview(
  webview: vscode.Webview,
  extensionUri: vscode.Uri,
  graph: ModelGraph,
  handlers: GraphWebviewHandlers,
): vscode.Disposable {
  const records = new Set(graph.nodes.flatMap((node) => (node.source ? [node.source.record] : [])));
  const post = (message: HostMessage): void => {
    void webview.postMessage(message);
  };

  return webview.onDidReceiveMessage(async (message: unknown) => {
    if (typeof message !== 'object' || message === null) return;
    const { type } = message as { type?: unknown };

    if (type === 'ready') {
      post({ type: 'graph', graph });
      return;
    }

    if (type === 'reveal') {
      const { record, range } = message as { record?: unknown; range?: unknown };
      // Only records of this graph can be revealed, whatever the page sends.
      if (typeof record === 'string' && records.has(record) && isRange(range)) handlers.reveal(record, range);
      return;
    }

    if (type === 'exportSvg') {
      const { svg } = message as { svg?: unknown };
      if (typeof svg !== 'string' || !svg.startsWith('<svg') || svg.length > MAX_EXPORT_BYTES) return;
      try {
        await handlers.exportSvg(svg);
      } catch (error) {
        post({ type: 'exportFailed', message: error instanceof Error ? error.message : String(error) });
      }
    }
  });
}

/** Returns `uri` with path segments appended, using only the Uri instance (no runtime `vscode` import). */
function joinUri(uri: vscode.Uri, segments: readonly string[]): vscode.Uri {
  return uri.with({ path: path.posix.join(uri.path, ...segments) });
}

function escapeAttribute(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/'/g, '&#39;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function isRange(value: unknown): value is Range {
  const isPosition = (position: unknown): boolean => {
    if (typeof position !== 'object' || position === null) return false;
    const { line, character } = position as { line?: unknown; character?: unknown };
    return Number.isSafeInteger(line) && Number.isSafeInteger(character) && (line as number) >= 0 && (character as number) >= 0;
  };
  if (typeof value !== 'object' || value === null) return false;
  const { start, end } = value as { start?: unknown; end?: unknown };
  return isPosition(start) && isPosition(end);
}

export type { GraphStrings };
