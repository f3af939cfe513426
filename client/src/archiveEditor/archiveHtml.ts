/**
 * The HTML of the archive editor's webview. The archive is untrusted input, so every text
 * that comes from it is escaped, and the page runs only its own nonce-tagged script.
 * This module does not import `vscode`, so unit tests can render pages directly.
 */
import type { ArchiveKind, FileReport, Finding, Severity } from '../../../server/src/analysis/types';
import { countDevices, PLACE_ORDER, type Place } from '../../../server/src/lsp/deviceCounts';
import { isRetargetable } from '../../../server/src/lsp/protocol';

/** Localized texts of the page. */
export interface ArchiveStrings {
  kinds: Record<ArchiveKind, string>;
  places: Record<Place, string>;
  severities: Record<Severity, string>;
  fileSection: string;
  kind: string;
  formatVersion: string;
  topFolder: string;
  recordCount: string;
  size: string;
  devicesSection: string;
  device: string;
  noFindings: string;
  findingsSection: string;
  storageSection: string;
  record: string;
  storageCount: string;
  usedAt: string;
  unreadable: string;
  retarget: string;
  showGraph: string;
  formatBytes(bytes: number): string;
  moreFindings(count: number): string;
}

export interface ArchivePage {
  /** File name shown as the title. */
  fileName: string;
  /** The webview's `cspSource`. */
  cspSource: string;
  /** A fresh random value per render; it tags the page's only style and script. */
  nonce: string;
  strings: ArchiveStrings;
  /** Reason no report could be shown, for example because the language server is not running. */
  failure?: string;
}

/** At most this many findings are listed; the summary table still counts all of them. */
export const MAX_LISTED_FINDINGS = 500;

/** Messages the page posts to the extension. Indexes refer to `report.findings`. */
export type ArchiveWebviewMessage =
  | { type: 'retarget' }
  | { type: 'showGraph' }
  | { type: 'reveal'; finding: number; related?: number };

/** Escapes text for HTML element content and double- or single-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function location(record: string, range: { start: { line: number; character: number } }): string {
  return `${record}:${range.start.line + 1}:${range.start.character + 1}`;
}

function renderFacts(report: FileReport, strings: ArchiveStrings): string {
  const rows: [string, string][] = [[strings.kind, strings.kinds[report.kind]]];
  const info = report.info;
  if (info?.formatVersion !== undefined) rows.push([strings.formatVersion, String(info.formatVersion)]);
  if (info?.topFolder !== undefined) rows.push([strings.topFolder, info.topFolder]);
  if (info?.recordCount !== undefined) rows.push([strings.recordCount, String(info.recordCount)]);
  if (info?.sizeBytes !== undefined) rows.push([strings.size, strings.formatBytes(info.sizeBytes)]);

  const items = rows.map(([name, value]) => `<dt>${escapeHtml(name)}</dt><dd>${escapeHtml(value)}</dd>`).join('');
  return `<section><h2>${escapeHtml(strings.fileSection)}</h2><dl>${items}</dl></section>`;
}

function renderDeviceTable(report: FileReport, strings: ArchiveStrings): string {
  const heading = `<h2>${escapeHtml(strings.devicesSection)}</h2>`;
  if (report.findings.length === 0) return `<section>${heading}<p class="none">${escapeHtml(strings.noFindings)}</p></section>`;

  const counts = countDevices(report);
  const places = PLACE_ORDER.filter((place) => [...counts.values()].some((row) => row.has(place)));
  const head = `<tr><th scope="col">${escapeHtml(strings.device)}</th>${places.map((place) => `<th scope="col">${escapeHtml(strings.places[place])}</th>`).join('')}</tr>`;
  const body = [...counts]
    .map(([device, row]) => {
      const cells = places.map((place) => `<td>${row.get(place) ?? ''}</td>`).join('');
      return `<tr><th scope="row"><code>${escapeHtml(device)}</code></th>${cells}</tr>`;
    })
    .join('');
  return `<section>${heading}<table><thead>${head}</thead><tbody>${body}</tbody></table></section>`;
}

/** Lists every storage location of the pickles, CPU storages included, which are not findings. */
function renderStorageLocations(report: FileReport, strings: ArchiveStrings): string {
  const locations = report.info?.storageLocations ?? [];
  if (locations.length === 0) return '';

  const head = `<tr><th scope="col">${escapeHtml(strings.record)}</th><th scope="col">${escapeHtml(strings.device)}</th><th scope="col">${escapeHtml(strings.storageCount)}</th></tr>`;
  const body = locations
    .map((entry) => `<tr><td class="text">${escapeHtml(entry.record)}</td><td class="text"><code>${escapeHtml(entry.device)}</code></td><td>${entry.count}</td></tr>`)
    .join('');
  return `<section><h2>${escapeHtml(strings.storageSection)}</h2><table><thead>${head}</thead><tbody>${body}</tbody></table></section>`;
}

function renderFinding(finding: Finding, index: number, strings: ArchiveStrings): string {
  const where =
    finding.range !== undefined
      ? `<a href="#" data-action="reveal" data-finding="${index}">${escapeHtml(location(finding.record, finding.range))}</a>`
      : `<span>${escapeHtml(finding.record)}</span>`;

  const uses = (finding.related ?? [])
    .map((use, relatedIndex) => `<a href="#" data-action="reveal" data-finding="${index}" data-related="${relatedIndex}">${escapeHtml(location(use.record, use.range))}</a>`)
    .join(', ');
  const usedAt = uses === '' ? '' : `<div class="uses">${escapeHtml(strings.usedAt)} ${uses}</div>`;

  return (
    `<li class="finding ${finding.severity}">` +
    `<div class="where"><span class="severity">${escapeHtml(strings.severities[finding.severity])}</span> ${where} <code>${escapeHtml(finding.device)}</code> <span class="code">${escapeHtml(finding.code)}</span></div>` +
    `<div class="message">${escapeHtml(finding.message)}</div>${usedAt}</li>`
  );
}

function renderFindings(findings: Finding[], strings: ArchiveStrings): string {
  if (findings.length === 0) return '';
  const listed = findings.slice(0, MAX_LISTED_FINDINGS).map((finding, index) => renderFinding(finding, index, strings));
  const more = findings.length > MAX_LISTED_FINDINGS ? `<p class="none">${escapeHtml(strings.moreFindings(findings.length - MAX_LISTED_FINDINGS))}</p>` : '';
  return `<section><h2>${escapeHtml(strings.findingsSection)} (${findings.length})</h2><ol class="findings">${listed.join('')}</ol>${more}</section>`;
}

const STYLE = `
body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); color: var(--vscode-foreground); background: var(--vscode-editor-background); padding: 0 20px 20px; line-height: 1.4; }
h1 { font-size: 1.5em; margin: 16px 0 4px; word-break: break-all; }
h2 { font-size: 1.15em; margin: 20px 0 8px; border-bottom: 1px solid var(--vscode-widget-border, var(--vscode-panel-border)); padding-bottom: 4px; }
code, .code { font-family: var(--vscode-editor-font-family); }
.code { color: var(--vscode-descriptionForeground); }
dl { display: grid; grid-template-columns: max-content auto; gap: 2px 16px; margin: 0; }
dt { color: var(--vscode-descriptionForeground); }
dd { margin: 0; word-break: break-all; }
table { border-collapse: collapse; }
th, td { text-align: left; padding: 2px 12px 2px 0; }
td { text-align: right; }
td.text { text-align: left; }
thead th { color: var(--vscode-descriptionForeground); font-weight: normal; }
.actions { display: flex; gap: 8px; margin: 12px 0; }
button { font-family: inherit; color: var(--vscode-button-foreground); background: var(--vscode-button-background); border: 1px solid var(--vscode-button-border, transparent); padding: 4px 12px; cursor: pointer; }
button:hover { background: var(--vscode-button-hoverBackground); }
button.secondary { color: var(--vscode-button-secondaryForeground); background: var(--vscode-button-secondaryBackground); }
button.secondary:hover { background: var(--vscode-button-secondaryHoverBackground); }
a { color: var(--vscode-textLink-foreground); }
a:hover { color: var(--vscode-textLink-activeForeground); }
.findings { padding-left: 24px; }
.finding { margin-bottom: 10px; }
.severity { font-weight: bold; }
.error .severity { color: var(--vscode-errorForeground); }
.warning .severity { color: var(--vscode-editorWarning-foreground); }
.information .severity, .hint .severity { color: var(--vscode-editorInfo-foreground); }
.message { margin-top: 2px; }
.uses { margin-top: 2px; color: var(--vscode-descriptionForeground); }
.none { color: var(--vscode-descriptionForeground); }
.unreadable { border-left: 3px solid var(--vscode-errorForeground); padding: 4px 12px; background: var(--vscode-inputValidation-errorBackground, transparent); white-space: pre-wrap; word-break: break-word; }
`;

const SCRIPT = `
const vscode = acquireVsCodeApi();
document.addEventListener('click', (event) => {
  const target = event.target instanceof Element ? event.target.closest('[data-action]') : null;
  if (!target) return;
  event.preventDefault();
  const message = { type: target.dataset.action };
  if (target.dataset.finding !== undefined) message.finding = Number(target.dataset.finding);
  if (target.dataset.related !== undefined) message.related = Number(target.dataset.related);
  vscode.postMessage(message);
});
`;

/** Renders the page for a report, or for `undefined` while the analysis runs. */
export function renderArchiveHtml(report: FileReport | undefined, page: ArchivePage): string {
  const { strings } = page;
  const csp = [`default-src 'none'`, `img-src ${page.cspSource} data:`, `style-src 'nonce-${page.nonce}'`, `script-src 'nonce-${page.nonce}'`].join('; ');

  let body = `<h1>${escapeHtml(page.fileName)}</h1>`;
  if (page.failure !== undefined) body += `<p class="unreadable" role="alert">${escapeHtml(page.failure)}</p>`;
  if (report) {
    const retargetable = report.error === undefined && isRetargetable(report.kind);
    const hasCode = (report.info?.codeRecords?.length ?? 0) > 0;
    const buttons = [
      retargetable ? `<button data-action="retarget">${escapeHtml(strings.retarget)}</button>` : '',
      hasCode ? `<button class="secondary" data-action="showGraph">${escapeHtml(strings.showGraph)}</button>` : '',
    ].join('');
    if (buttons !== '') body += `<div class="actions">${buttons}</div>`;
    if (report.error !== undefined) body += `<p class="unreadable" role="alert">${escapeHtml(strings.unreadable)} ${escapeHtml(report.error)}</p>`;

    body += renderFacts(report, strings);
    if (report.error === undefined) body += renderDeviceTable(report, strings) + renderStorageLocations(report, strings) + renderFindings(report.findings, strings);
  }

  return `<!DOCTYPE html>
<html>
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<style nonce="${escapeHtml(page.nonce)}">${STYLE}</style>
<title>${escapeHtml(page.fileName)}</title>
</head>
<body>
${body}
<script nonce="${escapeHtml(page.nonce)}">${SCRIPT}</script>
</body>
</html>`;
}
