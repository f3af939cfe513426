import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { findingMessage } from '../../server/src/analysis/messages';
import type { FileReport, Finding } from '../../server/src/analysis/types';
import { type ArchivePage, type ArchiveStrings, escapeHtml, MAX_LISTED_FINDINGS, renderArchiveHtml } from '../../client/src/archiveEditor/archiveHtml';
import { realFixturesDir } from './helpers/torchCodeRecords';

const STRINGS: ArchiveStrings = {
  kinds: {
    torchscript: 'TorchScript module',
    mobile: 'TorchScript mobile module',
    checkpoint: 'torch.save checkpoint',
    'torch-package': 'torch.package archive',
    'legacy-model-json': 'Legacy archive',
    'raw-pickle': 'Pickle file',
    'exported-program': 'torch.export program',
    'not-pytorch': 'Not a PyTorch file',
  },
  places: {
    code: 'In code',
    constants: 'Tensor constant storages',
    parameters: 'Parameter storages',
    tracedInputs: 'Traced input storages',
    bytecode: 'Mobile bytecode',
    attributes: 'Attributes',
    storages: 'Storages',
  },
  severities: { error: 'Error', warning: 'Warning', information: 'Info', hint: 'Hint' },
  fileSection: 'File',
  kind: 'Kind',
  formatVersion: 'Format version',
  topFolder: 'Top folder',
  recordCount: 'Records',
  size: 'Size',
  devicesSection: 'Hard-coded devices',
  device: 'Device',
  noFindings: 'No hard-coded devices found.',
  findingsSection: 'Findings',
  storageSection: 'Storage locations',
  record: 'Record',
  storageCount: 'Storages',
  usedAt: 'Used at',
  unreadable: 'The file could not be read:',
  retarget: 'Retarget device...',
  showGraph: 'Show graph',
  formatBytes: (bytes) => `${bytes} bytes`,
  moreFindings: (count) => `${count} more findings are not listed.`,
};

const NONCE = 'bm9uY2Utb2YtdGhlLXRlc3Q=';
const PAGE: ArchivePage = { fileName: 'd2go_optimized.pt', cspSource: 'https://webview.test', nonce: NONCE, strings: STRINGS };
const RECORD = 'code/__torch__/___torch_mangle_636.py';

function codeFinding(line: number, device = 'cpu'): Finding {
  return {
    code: 'code-device-literal',
    severity: 'warning',
    device,
    record: RECORD,
    range: { start: { line, character: 58 }, end: { line, character: 77 } },
    message: findingMessage('code-device-literal', device, 'torch.to'),
    rewritable: true,
  };
}

function d2goReport(findings: Finding[]): FileReport {
  return {
    path: path.join(realFixturesDir, 'd2go_optimized.pt'),
    kind: 'torchscript',
    info: { topFolder: 'd2go_optimized', formatVersion: 5, recordCount: 344, sizeBytes: 2150641, codeRecords: [RECORD, 'code/__torch__/torch/classes/quantized.py'] },
    findings,
  };
}

/** Returns every `<script` tag of the page. */
function scriptTags(html: string): string[] {
  return html.match(/<script\b[^>]*>/gi) ?? [];
}

describe('renderArchiveHtml', () => {
  it('shows facts, counts and links', () => {
    const findings = [codeFinding(43), codeFinding(120), { ...codeFinding(0, 'cuda:0'), code: 'parameter-storage-location' as const, record: 'data.pkl', range: undefined }];
    const html = renderArchiveHtml(d2goReport(findings), PAGE);

    assert.match(html, /<dt>Format version<\/dt><dd>5<\/dd>/);
    assert.match(html, /<dt>Top folder<\/dt><dd>d2go_optimized<\/dd>/);
    assert.match(html, /<dt>Records<\/dt><dd>344<\/dd>/);
    assert.match(html, /<dt>Size<\/dt><dd>2150641 bytes<\/dd>/);
    assert.match(html, /<tr><th scope="row"><code>cpu<\/code><\/th><td>2<\/td><td><\/td><\/tr>/);
    assert.match(html, /<tr><th scope="row"><code>cuda:0<\/code><\/th><td><\/td><td>1<\/td><\/tr>/);
    assert.match(html, /data-action="reveal" data-finding="0">code\/__torch__\/___torch_mangle_636\.py:44:59<\/a>/);
    assert.match(html, /data-action="reveal" data-finding="1">code\/__torch__\/___torch_mangle_636\.py:121:59<\/a>/);
    assert.doesNotMatch(html, /data-finding="2"/, 'a pickle finding has no code location to open');
    assert.match(html, /<button data-action="retarget">Retarget device\.\.\.<\/button>/);
    assert.match(html, /data-action="showGraph"/);
    assert.match(html, /Findings \(3\)<\/h2>/);
  });

  it('links each use of a tensor constant', () => {
    const constant: Finding = {
      code: 'constant-storage-location',
      severity: 'warning',
      device: 'cuda:0',
      record: 'constants.pkl',
      message: findingMessage('constant-storage-location', 'cuda:0'),
      related: [
        { record: RECORD, range: { start: { line: 46, character: 29 }, end: { line: 46, character: 41 } }, message: 'CONSTANTS.c0' },
        { record: RECORD, range: { start: { line: 47, character: 4 }, end: { line: 47, character: 16 } }, message: 'CONSTANTS.c0' },
      ],
      rewritable: true,
    };
    const html = renderArchiveHtml(d2goReport([constant]), PAGE);
    assert.match(html, /data-finding="0" data-related="0">code\/__torch__\/___torch_mangle_636\.py:47:30<\/a>/);
    assert.match(html, /data-finding="0" data-related="1">code\/__torch__\/___torch_mangle_636\.py:48:5<\/a>/);
  });

  it('escapes text from the archive', () => {
    const hostile = '"><script>alert(1)</script><img src=x onerror=alert(2)>\'';
    const finding: Finding = { ...codeFinding(3, hostile), record: `code/${hostile}.py`, message: hostile };
    const report: FileReport = { ...d2goReport([finding]), info: { topFolder: hostile, codeRecords: [`code/${hostile}.py`] } };
    const html = renderArchiveHtml(report, { ...PAGE, fileName: hostile });

    assert.equal(scriptTags(html).length, 1, 'only the page script');
    assert.equal(scriptTags(html)[0], `<script nonce="${NONCE}">`);
    assert.doesNotMatch(html, /<img/);
    assert.doesNotMatch(html, /onerror=alert\(2\)>/);
    assert.ok(html.includes(escapeHtml(hostile)));
  });

  it('sets a strict content security policy', () => {
    const html = renderArchiveHtml(d2goReport([codeFinding(3)]), PAGE);
    const csp = /http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(html)?.[1];
    assert.equal(csp, `default-src &#39;none&#39;; img-src https://webview.test data:; style-src &#39;nonce-${NONCE}&#39;; script-src &#39;nonce-${NONCE}&#39;`);
    assert.match(html, new RegExp(`<style nonce="${NONCE}">`));
    assert.doesNotMatch(html, /\son[a-z]+=/i, 'no inline event handlers, which the policy would block');
  });

  it('shows an unreadable file', () => {
    const report: FileReport = { path: '/tmp/broken.pt', kind: 'not-pytorch', error: '/tmp/broken.pt: not a zip archive <truncated>', findings: [] };
    const html = renderArchiveHtml(report, { ...PAGE, fileName: 'broken.pt' });

    assert.match(html, /role="alert">The file could not be read: \/tmp\/broken\.pt: not a zip archive &#60;truncated&#62;<\/p>/);
    assert.match(html, /<dd>Not a PyTorch file<\/dd>/);
    assert.doesNotMatch(html, /data-action="retarget"/);
    assert.doesNotMatch(html, /Hard-coded devices/);
  });

  it('shows checkpoint storages', () => {
    const storages: Finding[] = ['cuda:0', 'cuda:1'].map((device) => ({
      code: 'checkpoint-storage-location',
      severity: 'information',
      device,
      record: 'data.pkl',
      message: findingMessage('checkpoint-storage-location', device),
      rewritable: false,
    }));
    const storageLocations = [
      { record: 'data.pkl', device: 'cuda:0', count: 12 },
      { record: 'data.pkl', device: 'cuda:1', count: 1 },
      { record: 'data.pkl', device: 'cpu', count: 3 },
    ];
    const html = renderArchiveHtml({ path: '/tmp/weights.pth', kind: 'checkpoint', info: { recordCount: 5, storageLocations }, findings: storages }, PAGE);

    assert.match(html, /<dd>torch\.save checkpoint<\/dd>/);
    assert.match(html, /<th scope="col">Storages<\/th><\/tr><\/thead><tbody><tr><th scope="row"><code>cuda:0<\/code><\/th><td>12<\/td><\/tr>/);
    assert.match(html, /<code>cuda:1<\/code><\/th><td>1<\/td>/);
    assert.match(html, /<h2>Storage locations<\/h2>/);
    assert.match(html, /<tr><td class="text">data\.pkl<\/td><td class="text"><code>cpu<\/code><\/td><td>3<\/td><\/tr>/);
    assert.match(html, /data-action="retarget"/, 'retarget rewrites checkpoint storage locations');
    assert.doesNotMatch(html, /data-action="showGraph"/, 'a checkpoint has no code to draw');
  });

  it('says when no device is hard-coded', () => {
    const html = renderArchiveHtml(d2goReport([]), PAGE);
    assert.match(html, /No hard-coded devices found\./);
    assert.doesNotMatch(html, /<ol class="findings">/);
  });

  it('lists at most MAX_LISTED_FINDINGS findings', () => {
    const findings = Array.from({ length: MAX_LISTED_FINDINGS + 7 }, (_, line) => codeFinding(line));
    const html = renderArchiveHtml(d2goReport(findings), PAGE);
    assert.equal(html.match(/<li class="finding /g)?.length, MAX_LISTED_FINDINGS);
    assert.match(html, /7 more findings are not listed\./);
    assert.match(html, new RegExp(`<td>${MAX_LISTED_FINDINGS + 7}</td>`), 'the table counts every finding');
  });

  it('shows a failure without a report', () => {
    const html = renderArchiveHtml(undefined, { ...PAGE, failure: 'The language server could not describe this file: <closed>' });
    assert.match(html, /role="alert">The language server could not describe this file: &#60;closed&#62;<\/p>/);
  });
});
