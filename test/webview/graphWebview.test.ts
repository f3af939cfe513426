import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { extractGraph } from '../../server/src/graph/extractGraph';
import type { ModelGraph } from '../../server/src/graph/graphTypes';
import { artifactsDir, GraphHarness, repoRoot, type OpenedGraph } from './graphHarness';

const realFixtures = path.resolve(repoRoot, '..', 'shared', 'fixtures', 'real');
const venvPython = path.join(repoRoot, '.venv', 'bin', 'python');

/** Reads the code records of an archive with Python's zipfile, named without the top folder. */
function readCodeRecords(archive: string): { record: string; text: string }[] {
  const script = [
    'import json, sys, zipfile',
    'z = zipfile.ZipFile(sys.argv[1])',
    'top = z.namelist()[0].split("/")[0]',
    'names = [n for n in z.namelist() if n.startswith(top + "/code/") and n.endswith(".py")]',
    'print(json.dumps([{"record": n[len(top) + 1:], "text": z.read(n).decode("utf-8")} for n in names]))',
  ].join('\n');
  return JSON.parse(execFileSync('python3', ['-c', script, archive], { encoding: 'utf8' })) as { record: string; text: string }[];
}

/**
 * Traces the classic example and a module with submodules. Then it writes a copy of the
 * latter whose code text carries markup (an attribute renamed to HTML, a device string
 * holding a script) and that is otherwise the archive as PyTorch wrote it.
 */
const MODEL_SCRIPT = `
import sys, zipfile, torch, torch.nn as nn

class Classic(nn.Module):
    def forward(self, x):
        return torch.ones(x.shape, device=x.device) + torch.zeros_like(x)

class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 1)
    def forward(self, x):
        return torch.relu(self.conv(x)) + x

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block1 = Block()
        self.block2 = Block()
        self.scale = nn.Parameter(torch.ones(3))
    def forward(self, x):
        a = torch.ones(x.shape, device=x.device)
        return self.block2(self.block1(x + a)).mean([2, 3]) * self.scale

out = sys.argv[1]
torch.jit.trace(Classic(), torch.randn(2, 3)).save(out + '/classic.pt')
torch.jit.trace(Net().eval(), torch.randn(1, 3, 4, 4)).save(out + '/net.pt')

source = zipfile.ZipFile(out + '/net.pt')
crafted = zipfile.ZipFile(out + '/crafted.pt', 'w')
for info in source.infolist():
    data = source.read(info.filename)
    if info.filename.endswith('code/__torch__.py'):
        text = data.decode('utf-8')
        text = text.replace('scale', 'scale<img src=x onerror="window.__xss=1">')
        text = text.replace('torch.device("cpu")', 'torch.device("<script>window.__xss=2</script>")')
        data = text.encode('utf-8')
    crafted.writestr(info, data)
crafted.close()
`;

/** Returns a graph written by hand with markup in every text field the view shows. */
function hostileGraph(): ModelGraph {
  const source = (line: number) => ({ record: 'code/__torch__.py', range: { start: { line, character: 4 }, end: { line, character: 20 } } });
  return {
    root: '__torch__.<b>Evil</b>',
    nodes: [
      { id: 'input@<x>', kind: 'input', label: '<img src=x onerror="window.__xss=3">', source: source(1) },
      { id: 'device@1', kind: 'device', label: '<script>window.__xss=4</script>', device: '<script>window.__xss=4</script>', source: source(2) },
      { id: 'op@2', kind: 'op', label: 'torch.to', name: '<svg onload="window.__xss=5">', source: source(3) },
      { id: 'module@3', kind: 'module', label: 'm', source: source(4) },
      { id: 'g/op@1', kind: 'op', label: '"><iframe src="javascript:window.__xss=6">', group: '<g>', source: source(5) },
      { id: 'output@4', kind: 'output', label: 'output', source: source(6) },
    ],
    edges: [
      { from: 'input@<x>', to: 'op@2' },
      { from: 'device@1', to: 'op@2' },
      { from: 'op@2', to: 'g/op@1' },
      { from: 'g/op@1', to: 'output@4' },
    ],
    groups: [{ id: '<g>', label: '<img src=y onerror="window.__xss=7">: Block', node: 'module@3', collapsed: true }],
  };
}

/** Returns the number of laid-out nodes from the status line once a layout is shown. */
async function shownNodeCount(opened: OpenedGraph): Promise<number> {
  await opened.page.waitForFunction(() => /^\d+ nodes/.test(document.querySelector('.status')?.textContent ?? ''), undefined, { timeout: 60_000 });
  return Number(/^(\d+) nodes/.exec((await opened.page.locator('.status').textContent()) ?? '')![1]);
}

async function waitForNodes(opened: OpenedGraph): Promise<number> {
  const count = await shownNodeCount(opened);
  await opened.page.waitForSelector('svg.graph .node', { timeout: 30_000 });
  return count;
}

/** Waits until a new layout with a node count other than `previous` is shown, and returns that count. */
async function waitForNodeCountChange(opened: OpenedGraph, previous: number): Promise<number> {
  await opened.page.waitForFunction(
    (count) => {
      const match = /^(\d+) nodes/.exec(document.querySelector('.status')?.textContent ?? '');
      return match !== null && Number(match[1]) !== count;
    },
    previous,
    { timeout: 60_000 },
  );
  return shownNodeCount(opened);
}

/** Zooms out to the whole graph and returns how many nodes are drawn then. */
async function fitAndCountDrawn(opened: OpenedGraph): Promise<number> {
  await opened.page.click('button.fit');
  await opened.page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  return opened.page.locator('svg.graph .node').count();
}

describe('graph webview in Chromium', () => {
  let harness: GraphHarness;
  let workDir: string;
  let d2go: ModelGraph;
  let classic: { graph: ModelGraph; records: { record: string; text: string }[] };
  let net: ModelGraph;
  let crafted: ModelGraph;

  before(async () => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'graph-webview-'));
    const script = path.join(workDir, 'models.py');
    fs.writeFileSync(script, MODEL_SCRIPT);
    execFileSync(venvPython, [script, workDir], { stdio: ['ignore', 'ignore', 'inherit'] });

    d2go = await extractGraph(readCodeRecords(path.join(realFixtures, 'd2go_optimized.pt')));
    const classicRecords = readCodeRecords(path.join(workDir, 'classic.pt'));
    classic = { graph: await extractGraph(classicRecords), records: classicRecords };
    net = await extractGraph(readCodeRecords(path.join(workDir, 'net.pt')));
    crafted = await extractGraph(readCodeRecords(path.join(workDir, 'crafted.pt')));

    fs.mkdirSync(artifactsDir, { recursive: true });
    harness = await GraphHarness.start();
  });

  after(async () => {
    await harness?.stop();
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  test('d2go graph appears', async () => {
    const opened = await harness.open(d2go);
    try {
      const count = await waitForNodes(opened);
      const shown = d2go.nodes.filter((node) => !(node.kind === 'constant' && node.literal));
      assert.equal(count, shown.length, 'every node except literals is laid out');

      // The first view shows the top at a readable scale, so only part of the graph is drawn.
      const drawnAtFirst = await opened.page.locator('svg.graph .node').count();
      assert.ok(drawnAtFirst < count, `only nodes near the view are drawn (${drawnAtFirst} of ${count})`);
      assert.ok((await opened.page.locator('svg.graph .node .node-title').count()) > 0, 'nodes in view have labels');

      assert.equal(await fitAndCountDrawn(opened), count, 'the whole graph is drawn once it fits the view');
      assert.equal(await opened.page.locator('svg.graph .node .node-title').count(), 0, 'far zoomed out, nodes are plain boxes');
      assert.equal(await opened.page.locator('svg.graph .node.device').count(), 21);
      assert.ok((await opened.page.locator('svg.graph path.edge').count()) > count / 2, 'edges are drawn');
      assert.deepEqual(await opened.page.locator('.legend-device').allTextContents(), ['cpu']);
      assert.match((await opened.page.locator('.status').textContent()) ?? '', new RegExp(`^${count} nodes, \\d+ edges$`));

      assert.deepEqual(opened.blockedRequests, []);
      assert.deepEqual(opened.pageErrors, []);
    } finally {
      await opened.close();
    }
  });

  test('layout runs in a Blob worker', async () => {
    // The webview bundle has no layout code, so the UI thread cannot lay out. The marker is a message of the
    // layering step, which survives minification.
    const layoutMarker = 'needs an acyclic graph';
    const webviewBundle = fs.readFileSync(path.join(repoRoot, 'dist', 'graphWebview.js'), 'utf8');
    assert.ok(!webviewBundle.includes(layoutMarker), 'the webview bundle contains no layout code');
    const workerBundle = fs.readFileSync(path.join(repoRoot, 'dist', 'graphLayoutWorker.js'), 'utf8');
    assert.ok(workerBundle.includes(layoutMarker), 'the worker bundle contains the layout');

    const opened = await harness.open(classic.graph);
    try {
      await waitForNodes(opened);
      // Starting a worker straight from the resource origin fails, which is why the page uses a Blob URL.
      const direct = await opened.page.evaluate((url) => {
        try {
          new Worker(url);
          return 'started';
        } catch (error) {
          return (error as Error).name;
        }
      }, `${harness.resourceOrigin}/dist/graphLayoutWorker.js`);
      assert.equal(direct, 'SecurityError');
    } finally {
      await opened.close();
    }
  });

  test('search highlights matches', async () => {
    const opened = await harness.open(d2go);
    try {
      await waitForNodes(opened);
      await fitAndCountDrawn(opened);
      const expected = d2go.nodes.filter((node) => node.label === 'ops.quantized.conv2d_relu').length;
      assert.ok(expected > 5);

      await opened.page.fill('.search', 'CONV2D_relu');
      assert.equal(await opened.page.locator('svg.graph .node.match').count(), expected);
      assert.equal(await opened.page.locator('.match-count').textContent(), `${expected} matches`);

      await opened.page.press('.search', 'Enter');
      await opened.page.waitForSelector('svg.graph .node.match-current .node-title');
      assert.equal(await opened.page.locator('svg.graph .node.match-current').count(), 1, 'the first match is centred and zoomed in');

      // Variable names match too.
      await opened.page.fill('.search', 'pred_boxes0');
      assert.equal(await opened.page.locator('.match-count').textContent(), '1 matches');
      await opened.page.press('.search', 'Enter');
      await opened.page.waitForSelector('svg.graph .node.match-current');
      assert.equal(await opened.page.locator('svg.graph .node.match-current .node-subtitle').textContent(), 'pred_boxes0');

      await opened.page.fill('.search', 'no such operator');
      assert.equal(await opened.page.locator('svg.graph .node.match').count(), 0);
      assert.equal(await opened.page.locator('.match-count').textContent(), 'No matches');
    } finally {
      await opened.close();
    }
  });

  test('groups expand and collapse', async () => {
    const opened = await harness.open(net);
    try {
      const collapsed = await waitForNodes(opened);
      assert.equal(await opened.page.locator('svg.graph .node.collapsed-group').count(), 2, 'block1 and block2 start collapsed');

      await opened.page.locator('svg.graph .collapsed-group .toggle[data-group="block1"]').click();
      const expanded = await waitForNodeCountChange(opened, collapsed);
      assert.ok(expanded > collapsed, `expanding block1 shows more nodes (${collapsed} -> ${expanded})`);
      assert.equal(await opened.page.locator('svg.graph .group-box[data-group="block1"]').count(), 1);
      assert.equal(await opened.page.locator('svg.graph .collapsed-group .toggle[data-group="block1.conv"]').count(), 1, 'block1.conv is still collapsed');

      await opened.page.locator('svg.graph .group-box .toggle[data-group="block1"]').click();
      assert.equal(await waitForNodeCountChange(opened, expanded), collapsed);

      await opened.page.click('button.expand-all');
      const all = await waitForNodeCountChange(opened, collapsed);
      assert.equal(await fitAndCountDrawn(opened), all);
      assert.equal(await opened.page.locator('svg.graph .node.collapsed-group').count(), 0);
      const weights = net.nodes.filter((node) => node.label.endsWith('.conv.weight'));
      assert.equal(weights.length, 2);
      for (const weight of weights) assert.equal(await opened.page.locator(`svg.graph .node[data-id="${weight.id}"]`).count(), 1);

      await opened.page.click('button.collapse-all');
      assert.equal(await waitForNodeCountChange(opened, all), collapsed);
    } finally {
      await opened.close();
    }
  });

  test('clicking a node reveals its source', async () => {
    const opened = await harness.open(classic.graph);
    try {
      await waitForNodes(opened);
      const device = classic.graph.nodes.find((node) => node.kind === 'device')!;
      await opened.page.locator(`svg.graph .node[data-id="${device.id}"]`).click();

      await opened.page.waitForFunction(() => (window as unknown as { __posted: { type: string }[] }).__posted.some((message) => message.type === 'reveal'));
      assert.deepEqual(opened.host.reveals, [{ record: 'code/__torch__.py', range: device.source!.range }]);

      // The range covers the device literal in the record's text.
      const text = classic.records[0].text.split('\n')[device.source!.range.start.line];
      assert.equal(text.slice(device.source!.range.start.character, device.source!.range.end.character), 'torch.device("cpu")');
      assert.equal(await opened.page.locator(`svg.graph .node.selected[data-id="${device.id}"]`).count(), 1);
    } finally {
      await opened.close();
    }
  });

  test('pinned-path filter keeps device paths', async () => {
    // x feeds a relu chain to output 0; y meets a cpu device in torch.to on the way to output 1.
    const source = { record: 'code/__torch__.py', range: { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } } };
    const graph: ModelGraph = {
      nodes: [
        { id: 'input@x', kind: 'input', label: 'x', source },
        { id: 'input@y', kind: 'input', label: 'y', source },
        { id: 'op@1', kind: 'op', label: 'torch.relu', source },
        { id: 'device@2', kind: 'device', label: 'cpu', device: 'cpu', source },
        { id: 'op@3', kind: 'op', label: 'torch.to', source },
        { id: 'output@4', kind: 'output', label: 'output 0', source },
        { id: 'output@5', kind: 'output', label: 'output 1', source },
      ],
      edges: [
        { from: 'input@x', to: 'op@1' },
        { from: 'op@1', to: 'output@4' },
        { from: 'input@y', to: 'op@3' },
        { from: 'device@2', to: 'op@3' },
        { from: 'op@3', to: 'output@5' },
      ],
      groups: [],
    };
    const opened = await harness.open(graph);
    try {
      const all = await waitForNodes(opened);
      assert.equal(all, 7);
      await opened.page.check('input.only-pinned-paths');
      await waitForNodeCountChange(opened, all);
      const kept = await opened.page.locator('svg.graph .node').evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-id')));
      assert.deepEqual(kept.sort(), ['device@2', 'input@y', 'op@3', 'output@5']);
    } finally {
      await opened.close();
    }
  });

  test('export posts a standalone SVG', async () => {
    const opened = await harness.open(net, 'dark');
    try {
      await waitForNodes(opened);
      await opened.page.click('button.export-svg');
      await opened.page.waitForFunction(() => (window as unknown as { __posted: { type: string }[] }).__posted.some((message) => message.type === 'exportSvg'));
      await new Promise((resolve) => setTimeout(resolve, 200));

      assert.equal(opened.host.exports.length, 1);
      const svg = opened.host.exports[0];
      assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
      assert.match(svg, />torch\.ones</);
      assert.doesNotMatch(svg, /var\(--vscode/, 'theme variables are resolved to colours');
      assert.doesNotMatch(svg, /class="/, 'classes are replaced by inline styles');
      const parsed = await opened.page.evaluate((text) => {
        const document = new DOMParser().parseFromString(text, 'image/svg+xml');
        return {
          error: document.querySelector('parsererror') !== null,
          texts: Array.from(document.querySelectorAll('text'), (element) => element.textContent),
          rects: document.querySelectorAll('rect').length,
        };
      }, svg);
      assert.equal(parsed.error, false);
      assert.ok(parsed.texts.includes('block1: Block'), 'collapsed groups are exported with their label');
      assert.ok(!parsed.texts.includes('+'), 'expand buttons are left out');
      assert.ok(parsed.rects > 10);
    } finally {
      await opened.close();
    }
  });

  test('markup in a graph stays inert', async () => {
    const graph = hostileGraph();
    const opened = await harness.open(graph);
    try {
      await waitForNodes(opened);
      await opened.page.fill('.search', 'xss');
      await new Promise((resolve) => setTimeout(resolve, 300));

      assert.equal(await opened.page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined);
      assert.equal(await opened.page.locator('body img, body iframe, svg.graph script, .legend script').count(), 0);
      assert.equal(await opened.page.locator('script').count(), 2, 'only the host stub and the webview script');

      const titles = await opened.page.locator('svg.graph .node-title').allTextContents();
      assert.ok(titles.includes('<img src=x onerror="window.__xss=3">'), 'input label appears literally');
      assert.ok(titles.includes('<script>window.__xss=4</script>'), 'device label appears literally');
      assert.ok(titles.some((title) => title.startsWith('<img src=y onerror=')), 'group label appears literally');
      assert.deepEqual(await opened.page.locator('.legend-device').allTextContents(), ['<script>window.__xss=4</script>']);
      assert.deepEqual(opened.blockedRequests, []);
    } finally {
      await opened.close();
    }
  });

  test('crafted archive stays inert', async () => {
    assert.ok(crafted.nodes.some((node) => node.device === '<script>window.__xss=2</script>'), 'the crafted device string reaches the graph');
    // The renamed attribute is no valid Python, so tree-sitter splits it into operators and a string literal.
    assert.ok(crafted.nodes.some((node) => node.label === '"window.__xss=1"'), 'the crafted attribute name reaches the graph');

    const opened = await harness.open(crafted, 'dark', { width: 1400, height: 2400 });
    try {
      const collapsed = await waitForNodes(opened);
      await opened.page.click('button.expand-all');
      const expanded = await waitForNodeCountChange(opened, collapsed);
      await opened.page.check('input.show-literals');
      await waitForNodeCountChange(opened, expanded);
      await opened.page.click('button.fit');
      await opened.page.waitForSelector('svg.graph .node .node-title');

      assert.equal(await opened.page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined);
      assert.equal(await opened.page.locator('body img, body iframe, svg.graph script').count(), 0);
      const titles = await opened.page.locator('svg.graph .node-title').allTextContents();
      assert.ok(titles.includes('<script>window.__xss=2</script>'), 'the device string appears literally');
      assert.ok(titles.includes('"window.__xss=1"'), 'the attribute name appears literally');
      assert.deepEqual(opened.pageErrors, []);
    } finally {
      await opened.close();
    }
  });

  test('screenshots in three themes', async () => {
    for (const theme of ['light', 'dark', 'highContrast'] as const) {
      const opened = await harness.open(net, theme, { width: 1400, height: 900 });
      try {
        await waitForNodes(opened);
        await opened.page.locator('svg.graph .collapsed-group .toggle[data-group="block1"]').click();
        await opened.page.waitForSelector('svg.graph .group-box[data-group="block1"]');
        await opened.page.click('button.fit');
        await opened.page.fill('.search', 'relu');
        await opened.page.screenshot({ path: path.join(artifactsDir, `graph-net-${theme}.png`) });
      } finally {
        await opened.close();
      }

      const d2goPage = await harness.open(d2go, theme, { width: 1400, height: 900 });
      try {
        await waitForNodes(d2goPage);
        await d2goPage.page.fill('.search', 'torch.arange');
        await d2goPage.page.press('.search', 'Enter');
        await d2goPage.page.screenshot({ path: path.join(artifactsDir, `graph-d2go-${theme}.png`) });
      } finally {
        await d2goPage.close();
      }
    }
    for (const name of ['net-light', 'net-dark', 'net-highContrast', 'd2go-light', 'd2go-dark', 'd2go-highContrast']) {
      assert.ok(fs.statSync(path.join(artifactsDir, `graph-${name}.png`)).size > 10_000, `graph-${name}.png was written`);
    }
  });
});
