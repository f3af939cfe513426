/**
 * Translates an engine FileReport into LSP diagnostics: one per code finding on the code
 * record's document, and one summary on the archive itself. The summary counts every
 * device and lists the pickle findings as related information, and for tensor constants
 * also the code lines that use them, so that the Problems panel links to those lines.
 */
import * as l10n from '@vscode/l10n';
import { Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, Range } from 'vscode-languageserver';
import type { FileReport, Finding, Severity } from '../analysis/types';
import { parseDevice } from '../device';
import { countDevices, PLACE_ORDER, type Place } from './deviceCounts';
import { DIAGNOSTIC_SOURCE, type DeviceDiagnosticData, isRetargetable } from './protocol';
import { codeRecordUri } from './uris';

/** Diagnostic code of the summary on the archive. */
export const SUMMARY_CODE = 'device-summary';

/** Diagnostic code of the error shown when the archive cannot be read. */
export const UNREADABLE_CODE = 'archive-unreadable';

/** At most this many locations are listed as related information of the summary. */
const MAX_SUMMARY_RELATED = 100;

const SEVERITY: Record<Severity, DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
  hint: DiagnosticSeverity.Hint,
};

const ARCHIVE_START = Range.create(0, 0, 0, 0);

/** Whether the finding sits in a code record and has a range there. */
function isCodeFinding(finding: Finding): finding is Finding & { range: NonNullable<Finding['range']> } {
  return finding.range !== undefined && finding.record.startsWith('code/');
}

/**
 * Returns the message for a finding. A `cuda:N` device with N > 0 always gets the advice to
 * retarget to plain `cuda`, even where the engine's message lacks it.
 */
export function diagnosticMessage(finding: Finding): string {
  if (!pinsOneCard(finding.device) || finding.message.includes('set_device')) return finding.message;
  return `${finding.message} ${pinnedCardAdvice(finding.device)}`;
}

/** Whether the device is `cuda:N` with N > 0. */
function pinsOneCard(device: string): boolean {
  const parsed = parseDevice(device);
  return parsed?.type === 'cuda' && parsed.index !== undefined && parsed.index > 0;
}

function pinnedCardAdvice(device: string): string {
  return l10n.t(
    '{0} pins one GPU in every process. Retarget to "cuda" or "cuda:0" so that torch.cuda.set_device(rank) chooses the card per process.',
    device,
  );
}

function countLabel(place: Place, count: number): string {
  switch (place) {
    case 'code':
      return l10n.t('{0} in code', count);
    case 'constants':
      return count === 1 ? l10n.t('1 tensor constant storage') : l10n.t('{0} tensor constant storages', count);
    case 'parameters':
      return count === 1 ? l10n.t('1 parameter storage') : l10n.t('{0} parameter storages', count);
    case 'tracedInputs':
      return count === 1 ? l10n.t('1 traced input storage') : l10n.t('{0} traced input storages', count);
    case 'bytecode':
      return l10n.t('{0} in mobile bytecode', count);
    case 'attributes':
      return count === 1 ? l10n.t('1 attribute') : l10n.t('{0} attributes', count);
    case 'storages':
      return count === 1 ? l10n.t('1 storage') : l10n.t('{0} storages', count);
  }
}

/** Returns the summary text, for example `1 hard-coded device: cpu (21 in code, 338 tensor constant storages)`. */
export function summaryMessage(report: Pick<FileReport, 'findings' | 'info'>): string {
  const counts = countDevices(report);
  const parts: string[] = [];
  for (const [device, places] of counts) {
    const labels = PLACE_ORDER.filter((place) => places.has(place)).map((place) => countLabel(place, places.get(place)!));
    parts.push(`${device === '' ? l10n.t('(unknown device)') : device} (${labels.join(', ')})`);
  }

  const list = parts.join(', ');
  const summary = counts.size === 1 ? l10n.t('1 hard-coded device: {0}', list) : l10n.t('{0} hard-coded devices: {1}', counts.size, list);
  const pinned = [...counts.keys()].find(pinsOneCard);
  return pinned === undefined ? summary : `${summary}. ${pinnedCardAdvice(pinned)}`;
}

function mostSevere(findings: Finding[]): DiagnosticSeverity {
  return Math.min(...findings.map((finding) => SEVERITY[finding.severity])) as DiagnosticSeverity;
}

function createDiagnostic(range: Range, message: string, severity: DiagnosticSeverity, code: string, data: DeviceDiagnosticData): Diagnostic {
  const diagnostic = Diagnostic.create(range, message, severity, code, DIAGNOSTIC_SOURCE);
  diagnostic.data = data;
  return diagnostic;
}

function addDiagnostic(result: Map<string, Diagnostic[]>, uri: string, diagnostic: Diagnostic): void {
  const list = result.get(uri);
  if (list) list.push(diagnostic);
  else result.set(uri, [diagnostic]);
}

/** Returns the summary's related information: each pickle finding, followed by the code lines that use its tensor constants. */
function summaryRelatedInformation(findings: Finding[], archiveUri: string): DiagnosticRelatedInformation[] {
  const related: DiagnosticRelatedInformation[] = [];
  let omitted = 0;
  const add = (uri: string, range: Range, message: string) => {
    if (related.length < MAX_SUMMARY_RELATED) related.push(DiagnosticRelatedInformation.create({ uri, range }, message));
    else omitted++;
  };

  for (const finding of findings) {
    if (isCodeFinding(finding)) continue;
    add(archiveUri, ARCHIVE_START, `${finding.record}: ${diagnosticMessage(finding)}`);
    for (const use of finding.related ?? []) add(codeRecordUri(archiveUri, use.record), use.range, use.message);
  }

  if (omitted > 0) related.push(DiagnosticRelatedInformation.create({ uri: archiveUri, range: ARCHIVE_START }, l10n.t('{0} more locations are not listed', omitted)));
  return related;
}

/**
 * Returns the diagnostics of one archive, keyed by document URI: the archive's own URI for
 * the summary (or the read error) and a code record URI for each record with findings.
 * An archive without findings and without an error maps to an empty map.
 */
export function diagnosticsForReport(report: FileReport, archiveUri: string): Map<string, Diagnostic[]> {
  const result = new Map<string, Diagnostic[]>();
  const retargetable = isRetargetable(report.kind);

  if (report.error !== undefined) {
    const data: DeviceDiagnosticData = { archive: archiveUri, devices: [], retargetable: false };
    addDiagnostic(result, archiveUri, createDiagnostic(ARCHIVE_START, report.error, DiagnosticSeverity.Error, UNREADABLE_CODE, data));
    return result;
  }
  if (report.findings.length === 0) return result;

  for (const finding of report.findings) {
    if (!isCodeFinding(finding)) continue;
    const data: DeviceDiagnosticData = { archive: archiveUri, devices: [finding.device], retargetable };
    const diagnostic = createDiagnostic(finding.range, diagnosticMessage(finding), SEVERITY[finding.severity], finding.code, data);
    addDiagnostic(result, codeRecordUri(archiveUri, finding.record), diagnostic);
  }

  const devices = [...countDevices(report).keys()];
  const summary = createDiagnostic(ARCHIVE_START, summaryMessage(report), mostSevere(report.findings), SUMMARY_CODE, { archive: archiveUri, devices, retargetable });
  const related = summaryRelatedInformation(report.findings, archiveUri);
  if (related.length > 0) summary.relatedInformation = related;
  addDiagnostic(result, archiveUri, summary);
  return result;
}
