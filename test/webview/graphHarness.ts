/**
 * Runs the real graph webview (dist/graphWebview.js and its layout worker) in headless
 * Chromium, hosted the way VS Code hosts it. The page comes from renderGraphHtml with its
 * content security policy and is served from one loopback origin, while its scripts and
 * styles come from another, as webview resources do. A stand-in for the VS Code webview
 * object connects attachGraphWebview to the page, so the extension side runs too.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type * as vscode from 'vscode';
import { attachGraphWebview, renderGraphHtml } from '../../client/src/graph/graphWebview';
import { graphWebviewStrings } from '../../client/src/graph/graphStrings';
import type { Range } from '../../server/src/analysis/types';
import type { ModelGraph } from '../../server/src/graph/graphTypes';

export const repoRoot = path.resolve(__dirname, '..', '..');
export const artifactsDir = path.join(repoRoot, 'test-artifacts');

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Theme variables as VS Code's Light+, Dark+ and Dark High Contrast themes set them (a subset: the ones graph.css reads). */
export const THEMES = {
  light: {
    bodyClass: 'vscode-light',
    variables: {
      '--vscode-editor-background': '#ffffff',
      '--vscode-foreground': '#616161',
      '--vscode-editor-foreground': '#000000',
      '--vscode-descriptionForeground': '#717171',
      '--vscode-font-family': 'system-ui, sans-serif',
      '--vscode-font-size': '13px',
      '--vscode-editor-font-family': '"DejaVu Sans Mono", monospace',
      '--vscode-input-background': '#ffffff',
      '--vscode-input-foreground': '#616161',
      '--vscode-input-border': '#cecece',
      '--vscode-button-background': '#007acc',
      '--vscode-button-foreground': '#ffffff',
      '--vscode-button-secondaryBackground': '#5f6a79',
      '--vscode-button-secondaryForeground': '#ffffff',
      '--vscode-button-secondaryHoverBackground': '#4c5561',
      '--vscode-focusBorder': '#0090f1',
      '--vscode-panel-border': 'rgba(128, 128, 128, 0.35)',
      '--vscode-editorWidget-background': '#f3f3f3',
      '--vscode-editorWidget-border': '#c8c8c8',
      '--vscode-charts-red': '#e51400',
      '--vscode-charts-blue': '#1a85ff',
      '--vscode-charts-yellow': '#bf8803',
      '--vscode-charts-orange': '#d18616',
      '--vscode-charts-green': '#388a34',
      '--vscode-charts-purple': '#652d90',
      '--vscode-charts-lines': 'rgba(97, 97, 97, 0.5)',
      '--vscode-editor-findMatchHighlightBackground': 'rgba(234, 92, 0, 0.33)',
      '--vscode-editor-findMatchBackground': '#a8ac94',
      '--vscode-editor-inactiveSelectionBackground': '#e5ebf1',
      '--vscode-errorForeground': '#a1260d',
    },
  },
  dark: {
    bodyClass: 'vscode-dark',
    variables: {
      '--vscode-editor-background': '#1e1e1e',
      '--vscode-foreground': '#cccccc',
      '--vscode-editor-foreground': '#d4d4d4',
      '--vscode-descriptionForeground': 'rgba(204, 204, 204, 0.7)',
      '--vscode-font-family': 'system-ui, sans-serif',
      '--vscode-font-size': '13px',
      '--vscode-editor-font-family': '"DejaVu Sans Mono", monospace',
      '--vscode-input-background': '#3c3c3c',
      '--vscode-input-foreground': '#cccccc',
      '--vscode-button-background': '#0e639c',
      '--vscode-button-foreground': '#ffffff',
      '--vscode-button-secondaryBackground': '#3a3d41',
      '--vscode-button-secondaryForeground': '#ffffff',
      '--vscode-button-secondaryHoverBackground': '#45494e',
      '--vscode-focusBorder': '#007fd4',
      '--vscode-panel-border': 'rgba(128, 128, 128, 0.35)',
      '--vscode-editorWidget-background': '#252526',
      '--vscode-editorWidget-border': '#454545',
      '--vscode-charts-red': '#f14c4c',
      '--vscode-charts-blue': '#3794ff',
      '--vscode-charts-yellow': '#cca700',
      '--vscode-charts-orange': '#d18616',
      '--vscode-charts-green': '#89d185',
      '--vscode-charts-purple': '#b180d7',
      '--vscode-charts-lines': 'rgba(204, 204, 204, 0.5)',
      '--vscode-editor-findMatchHighlightBackground': 'rgba(234, 92, 0, 0.33)',
      '--vscode-editor-findMatchBackground': '#515c6a',
      '--vscode-editor-findMatchBorder': '#74879f',
      '--vscode-editor-inactiveSelectionBackground': '#3a3d41',
      '--vscode-errorForeground': '#f48771',
    },
  },
  highContrast: {
    bodyClass: 'vscode-high-contrast',
    variables: {
      '--vscode-editor-background': '#000000',
      '--vscode-foreground': '#ffffff',
      '--vscode-editor-foreground': '#ffffff',
      '--vscode-descriptionForeground': 'rgba(255, 255, 255, 0.7)',
      '--vscode-font-family': 'system-ui, sans-serif',
      '--vscode-font-size': '13px',
      '--vscode-editor-font-family': '"DejaVu Sans Mono", monospace',
      '--vscode-input-background': '#000000',
      '--vscode-input-foreground': '#ffffff',
      '--vscode-input-border': '#6fc3df',
      '--vscode-button-background': '#000000',
      '--vscode-button-foreground': '#ffffff',
      '--vscode-button-border': '#6fc3df',
      '--vscode-button-secondaryBackground': '#000000',
      '--vscode-button-secondaryForeground': '#ffffff',
      '--vscode-focusBorder': '#f38518',
      '--vscode-contrastBorder': '#6fc3df',
      '--vscode-contrastActiveBorder': '#f38518',
      '--vscode-panel-border': '#6fc3df',
      '--vscode-editorWidget-background': '#0c141f',
      '--vscode-editorWidget-border': '#6fc3df',
      '--vscode-charts-red': '#f14c4c',
      '--vscode-charts-blue': '#3794ff',
      '--vscode-charts-yellow': '#ffd602',
      '--vscode-charts-orange': '#d18616',
      '--vscode-charts-green': '#89d185',
      '--vscode-charts-purple': '#b180d7',
      '--vscode-charts-lines': 'rgba(255, 255, 255, 0.5)',
      '--vscode-editor-findMatchBorder': '#f38518',
      '--vscode-editor-findMatchHighlightBackground': 'transparent',
      '--vscode-errorForeground': '#f48771',
    },
  },
} as const;

export type ThemeName = keyof typeof THEMES;

/** A minimal vscode.Uri: the parts renderGraphHtml uses (`path`, `fsPath`, `with`, `toString`). */
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

/** What the extension side received from the page. */
export interface HostLog {
  reveals: { record: string; range: Range }[];
  exports: string[];
}

export interface OpenedGraph {
  page: Page;
  host: HostLog;
  /** Requests for anything but the two loopback servers, which must stay empty. */
  blockedRequests: string[];
  /** Errors thrown in the page and content security policy violations. */
  pageErrors: string[];
  close(): Promise<void>;
}

/** Serves files under dist/ and media/ of the repository, as a webview's resource origin would. */
function startResourceServer(): Promise<http.Server> {
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const relative = path.posix.normalize(decodeURIComponent(url.pathname)).replace(/^\/+/, '');
    const allowed = relative.startsWith('dist/') || relative.startsWith('media/');
    const file = path.join(repoRoot, relative);
    if (!allowed || !file.startsWith(repoRoot + path.sep) || !fs.existsSync(file)) {
      response.writeHead(404).end();
      return;
    }
    const type = file.endsWith('.css') ? 'text/css' : file.endsWith('.js') ? 'text/javascript' : 'application/octet-stream';
    response.writeHead(200, { 'content-type': type }).end(fs.readFileSync(file));
  });
  return listen(server);
}

function listen(server: http.Server): Promise<http.Server> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

function originOf(server: http.Server): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/**
 * Starts Chromium and the resource server once for a test file. `open` then serves one
 * page per graph from a fresh page server.
 */
export class GraphHarness {
  private constructor(
    private readonly browser: Browser,
    private readonly resources: http.Server,
  ) {}

  static async start(): Promise<GraphHarness> {
    for (const bundle of ['graphWebview.js', 'graphLayoutWorker.js']) {
      if (!fs.existsSync(path.join(repoRoot, 'dist', bundle))) throw new Error(`dist/${bundle} is missing; run "npm run build" first`);
    }
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
    return new GraphHarness(browser, await startResourceServer());
  }

  get resourceOrigin(): string {
    return originOf(this.resources);
  }

  async stop(): Promise<void> {
    await this.browser.close();
    await new Promise((resolve) => this.resources.close(resolve));
  }

  async open(graph: ModelGraph, theme: ThemeName = 'light', viewport = { width: 1280, height: 800 }): Promise<OpenedGraph> {
    const resourceOrigin = this.resourceOrigin;
    const host: HostLog = { reveals: [], exports: [] };
    const blockedRequests: string[] = [];
    const pageErrors: string[] = [];

    const context = await this.browser.newContext({ viewport });
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('http://127.0.0.1:') || url.startsWith('blob:')) return route.continue();
      blockedRequests.push(url);
      return route.abort();
    });

    // The webview object the extension side talks to: messages go into the page and come back through an exposed function.
    let receive: ((message: unknown) => void) | undefined;
    const webview = {
      cspSource: resourceOrigin,
      asWebviewUri: (uri: FileUri) => ({ toString: () => `${resourceOrigin}/${path.relative(repoRoot, uri.fsPath).split(path.sep).join('/')}` }),
      postMessage: async (message: unknown) => {
        await page.evaluate((data) => window.postMessage(data, '*'), message);
        return true;
      },
      onDidReceiveMessage: (listener: (message: unknown) => void) => {
        receive = listener;
        return { dispose: () => (receive = undefined) };
      },
    } as unknown as vscode.Webview;
    await page.exposeFunction('__hostReceive', (message: unknown) => receive?.(message));

    const extensionUri = new FileUri(repoRoot) as unknown as vscode.Uri;
    const strings = graphWebviewStrings({ l10n: { t: (message: string, ...args: string[]) => message.replace(/\{(\d+)\}/g, (_, i: string) => args[Number(i)] ?? `{${i}}`) } });
    const attachment = attachGraphWebview(webview, extensionUri, graph, {
      reveal: (record, range) => host.reveals.push({ record, range }),
      exportSvg: async (svg) => {
        host.exports.push(svg);
      },
    });

    const html = injectHostStub(renderGraphHtml(webview, extensionUri, strings), theme);
    const pageServer = await listen(
      http.createServer((request, response) => {
        if (request.url === '/') response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
        else response.writeHead(404).end();
      }),
    );

    await page.exposeFunction('__recordViolation', (text: string) => pageErrors.push(text));
    await page.goto(`${originOf(pageServer)}/`);

    return {
      page,
      host,
      blockedRequests,
      pageErrors,
      close: async () => {
        attachment.dispose();
        await context.close();
        await new Promise((resolve) => pageServer.close(resolve));
      },
    };
  }
}

/**
 * Adds what VS Code provides around a webview page: `acquireVsCodeApi` (recording what
 * the page posts and forwarding it to the extension side), the theme's CSS variables and
 * body class. Both run under the page's own nonce, as VS Code's injected scripts do.
 */
function injectHostStub(html: string, theme: ThemeName): string {
  const nonce = /<script nonce="([^"]+)"/.exec(html)?.[1];
  if (!nonce) throw new Error('renderGraphHtml produced no script nonce');
  const { bodyClass, variables } = THEMES[theme];
  const declarations = Object.entries(variables)
    .map(([name, value]) => `${name}: ${value};`)
    .join(' ');

  const stub = `<script nonce="${nonce}">
    window.__posted = [];
    window.__state = undefined;
    document.addEventListener('securitypolicyviolation', (event) => window.__recordViolation(event.violatedDirective + ' ' + event.blockedURI));
    window.acquireVsCodeApi = () => ({
      postMessage: (message) => { window.__posted.push(message); window.__hostReceive(message); },
      getState: () => window.__state,
      setState: (state) => { window.__state = state; },
    });
  </script>
  <style nonce="${nonce}">html { ${declarations} }</style>`;

  return html.replace('</head>', `${stub}\n</head>`).replace('<body ', `<body class="${bodyClass}" `);
}
