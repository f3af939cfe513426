import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import type * as vscode from 'vscode';
import { graphWebviewStrings } from '../../client/src/graph/graphStrings';
import { attachGraphWebview, renderGraphHtml } from '../../client/src/graph/graphWebview';
import { GRAPH_STRING_KEYS } from '../../media/src/graph/protocol';
import type { ModelGraph } from '../../server/src/graph/graphTypes';

/** A file URI with the members renderGraphHtml uses. */
class FileUri {
  constructor(readonly path: string) {}
  get fsPath(): string {
    return this.path;
  }
  with(change: { path?: string }): FileUri {
    return new FileUri(change.path ?? this.path);
  }
  toString(): string {
    return `file://${this.path}`;
  }
}

/** A webview that records posted messages and lets the test deliver messages from the page. */
class RecordingWebview {
  readonly cspSource = 'https://resources.example';
  readonly posted: unknown[] = [];
  private listener?: (message: unknown) => Promise<void> | void;

  asWebviewUri(uri: FileUri): { toString(): string } {
    return { toString: () => `https://resources.example${uri.path}` };
  }

  postMessage(message: unknown): Promise<boolean> {
    this.posted.push(message);
    return Promise.resolve(true);
  }

  onDidReceiveMessage(listener: (message: unknown) => Promise<void> | void): { dispose(): void } {
    this.listener = listener;
    return { dispose: () => (this.listener = undefined) };
  }

  async receive(message: unknown): Promise<void> {
    await this.listener?.(message);
  }
}

function extensionFolder(workerSource: string | undefined): FileUri {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'graph-host-'));
  if (workerSource !== undefined) {
    fs.mkdirSync(path.join(folder, 'dist'));
    fs.writeFileSync(path.join(folder, 'dist', 'graphLayoutWorker.js'), workerSource);
  }
  return new FileUri(folder);
}

const identity = { t: (message: string, ...args: string[]) => message.replace(/\{(\d+)\}/g, (_, i: string) => args[Number(i)]) };

const graph: ModelGraph = {
  nodes: [
    {
      id: 'device@1:2',
      kind: 'device',
      label: 'cpu',
      device: 'cpu',
      source: { record: 'code/__torch__.py', range: { start: { line: 1, character: 2 }, end: { line: 1, character: 21 } } },
    },
  ],
  edges: [],
  groups: [],
};

describe('renderGraphHtml', () => {
  test('policy allows only nonce scripts', () => {
    const webview = new RecordingWebview();
    const html = renderGraphHtml(webview as unknown as vscode.Webview, extensionFolder('self.onmessage = () => {};') as unknown as vscode.Uri, {});
    const nonce = /<script nonce="([^"]+)"/.exec(html)?.[1];
    assert.ok(nonce !== undefined, 'the script carries a nonce');
    assert.ok(nonce.length >= 16, 'the nonce is long enough to be unguessable');

    const policy = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1].replace(/&#39;/g, "'");
    assert.equal(
      policy,
      `default-src 'none'; script-src 'nonce-${nonce}'; style-src https://resources.example 'nonce-${nonce}'; ` +
        `worker-src https://resources.example blob:; img-src https://resources.example data:`,
    );
    assert.match(html, /<script nonce="[^"]+" src="https:\/\/resources\.example\/[^"]*\/dist\/graphWebview\.js"><\/script>/);
    assert.match(html, /<link rel="stylesheet" nonce="[^"]+" href="https:\/\/resources\.example\/[^"]*\/media\/graph\.css">/);
    assert.equal((html.match(/<script/g) ?? []).length, 1);
  });

  test('nonces differ per page', () => {
    const folder = extensionFolder('');
    const webview = new RecordingWebview() as unknown as vscode.Webview;
    const first = renderGraphHtml(webview, folder as unknown as vscode.Uri, {});
    const second = renderGraphHtml(webview, folder as unknown as vscode.Uri, {});
    assert.notEqual(/nonce="([^"]+)"/.exec(first)?.[1], /nonce="([^"]+)"/.exec(second)?.[1]);
  });

  test('worker source is embedded', () => {
    const source = 'self.onmessage = () => { /* </script> " & */ };';
    const html = renderGraphHtml(new RecordingWebview() as unknown as vscode.Webview, extensionFolder(source) as unknown as vscode.Uri, {});
    const encoded = /data-worker-source="([A-Za-z0-9+/=]*)"/.exec(html)?.[1];
    assert.ok(encoded !== undefined, 'the worker source is base64 in an attribute');
    assert.equal(Buffer.from(encoded, 'base64').toString('utf8'), source);
    assert.ok(!html.includes('</script> "'), 'the script text never appears raw');
  });

  test('strings are escaped', () => {
    const strings = { graphLabel: '"><script>alert(1)</script>&' };
    const html = renderGraphHtml(new RecordingWebview() as unknown as vscode.Webview, extensionFolder('') as unknown as vscode.Uri, strings);
    const attribute = /data-strings="([^"]*)"/.exec(html)?.[1];
    assert.ok(attribute !== undefined);
    assert.ok(!attribute.includes('<'), 'no raw markup in the attribute');
    const decoded = attribute.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
    assert.deepEqual(JSON.parse(decoded), strings);
  });

  test('missing worker names the fix', () => {
    assert.throws(
      () => renderGraphHtml(new RecordingWebview() as unknown as vscode.Webview, extensionFolder(undefined) as unknown as vscode.Uri, {}),
      /graphLayoutWorker\.js is missing; run "npm run build"/,
    );
  });

  test('string table has every key', () => {
    const strings = graphWebviewStrings({ l10n: identity });
    assert.deepEqual(Object.keys(strings).sort(), [...GRAPH_STRING_KEYS].sort());
    assert.equal(strings.status, '{0} nodes, {1} edges', 'placeholders survive for the webview to fill');
  });
});

describe('attachGraphWebview', () => {
  function attach(exportSvg: (svg: string) => Promise<void> = async () => {}) {
    const webview = new RecordingWebview();
    const reveals: unknown[] = [];
    const disposable = attachGraphWebview(webview as unknown as vscode.Webview, new FileUri('/ext') as unknown as vscode.Uri, graph, {
      reveal: (record, range) => reveals.push({ record, range }),
      exportSvg,
    });
    return { webview, reveals, disposable };
  }

  test('ready gets the graph', async () => {
    const { webview } = attach();
    await webview.receive({ type: 'ready' });
    await webview.receive({ type: 'ready' });
    assert.deepEqual(webview.posted, [
      { type: 'graph', graph },
      { type: 'graph', graph },
    ]);
  });

  test('valid reveal reaches the handler', async () => {
    const { webview, reveals } = attach();
    const range = { start: { line: 1, character: 2 }, end: { line: 1, character: 21 } };
    await webview.receive({ type: 'reveal', record: 'code/__torch__.py', range });
    assert.deepEqual(reveals, [{ record: 'code/__torch__.py', range }]);
  });

  test('invalid reveals are ignored', async () => {
    const { webview, reveals } = attach();
    const range = { start: { line: 1, character: 2 }, end: { line: 1, character: 21 } };
    await webview.receive({ type: 'reveal', record: '../../etc/passwd', range });
    await webview.receive({ type: 'reveal', record: 'code/__torch__.py', range: { start: { line: -1, character: 0 }, end: range.end } });
    await webview.receive({ type: 'reveal', record: 'code/__torch__.py', range: { start: { line: 0.5, character: 0 }, end: range.end } });
    await webview.receive({ type: 'reveal', record: 'code/__torch__.py' });
    await webview.receive(null);
    await webview.receive('reveal');
    assert.deepEqual(reveals, []);
  });

  test('export reaches the handler', async () => {
    const saved: string[] = [];
    const { webview } = attach(async (svg) => {
      saved.push(svg);
    });
    await webview.receive({ type: 'exportSvg', svg: '<svg xmlns="http://www.w3.org/2000/svg"></svg>' });
    await webview.receive({ type: 'exportSvg', svg: '<html></html>' });
    await webview.receive({ type: 'exportSvg', svg: 42 });
    assert.deepEqual(saved, ['<svg xmlns="http://www.w3.org/2000/svg"></svg>']);
  });

  test('failed export is reported', async () => {
    const { webview } = attach(async () => {
      throw new Error('disk full');
    });
    await webview.receive({ type: 'exportSvg', svg: '<svg></svg>' });
    assert.deepEqual(webview.posted, [{ type: 'exportFailed', message: 'disk full' }]);
  });

  test('dispose stops listening', async () => {
    const { webview, disposable } = attach();
    disposable.dispose();
    await webview.receive({ type: 'ready' });
    assert.deepEqual(webview.posted, []);
  });
});
