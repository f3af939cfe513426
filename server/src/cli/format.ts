import type { FileReport, Finding } from '../analysis/types';
import type { RetargetResult } from '../retarget/retargetArchive';
import type { ModelGraph } from '../graph/graphTypes';

/** Formats the `check --json` document: findings without engine-internal fields. */
export function checkJson(reports: readonly FileReport[]): string {
  const files = reports.map((report) => ({
    path: report.path,
    kind: report.kind,
    ...(report.error !== undefined ? { error: report.error } : {}),
    findings: report.findings.map((finding) => ({
      code: finding.code,
      severity: finding.severity,
      device: finding.device,
      record: finding.record,
      ...(finding.range ? { range: finding.range } : {}),
      message: finding.message,
    })),
  }));
  return JSON.stringify({ files }, null, 2);
}

/** Formats one line per finding, `file: record:line:column: severity: message [code]`, with 1-based lines as compilers print them. */
export function checkText(reports: readonly FileReport[]): string {
  const lines: string[] = [];
  let total = 0;
  for (const report of reports) {
    if (report.error !== undefined) {
      lines.push(`${report.path}: error: ${stripPath(report.error, report.path)}`);
      continue;
    }
    for (const finding of report.findings) lines.push(`${report.path}: ${findingLocation(finding)}: ${finding.severity}: ${finding.message} [${finding.code}]`);
    total += report.findings.length;
  }
  const failed = reports.filter((report) => report.error !== undefined).length;
  const summary = `${total} hard-coded device${total === 1 ? '' : 's'} in ${reports.length - failed} file${reports.length - failed === 1 ? '' : 's'}`;
  lines.push(failed > 0 ? `${summary}; ${failed} file${failed === 1 ? '' : 's'} could not be analysed` : summary);
  return lines.join('\n');
}

function findingLocation(finding: Finding): string {
  if (!finding.range) return finding.record;
  return `${finding.record}:${finding.range.start.line + 1}:${finding.range.start.character + 1}`;
}

/** EngineError messages start with the file name, which the line already shows. */
function stripPath(message: string, filePath: string): string {
  return message.startsWith(`${filePath}: `) ? message.slice(filePath.length + 2) : message;
}

export function retargetText(result: RetargetResult): string {
  const lines = [`Wrote ${result.output} (${result.changes.length} device${result.changes.length === 1 ? '' : 's'} rewritten to ${result.device})`];
  for (const change of result.changes) {
    const where = change.range ? `${change.record}:${change.range.start.line + 1}:${change.range.start.character + 1}` : change.record;
    lines.push(`  ${where}: ${change.oldDevice} -> ${change.newDevice} (${change.target})`);
  }
  for (const warning of result.warnings) lines.push(`  warning: ${warning}`);
  for (const skipped of result.skipped) {
    const where = skipped.range ? `${skipped.record}:${skipped.range.start.line + 1}:${skipped.range.start.character + 1}` : skipped.record;
    lines.push(`  ${where}: kept ${skipped.device}: ${skipped.reason}`);
  }
  return lines.join('\n');
}

export function graphText(graph: ModelGraph): string {
  const devices = graph.nodes.filter((node) => node.kind === 'device');
  const lines = [`${graph.nodes.length} nodes, ${graph.edges.length} edges, ${graph.groups.length} submodule groups, ${devices.length} device constants`];
  for (const node of devices) {
    const where = node.source ? `${node.source.record}:${node.source.range.start.line + 1}:${node.source.range.start.character + 1}` : '';
    lines.push(`  ${node.device ?? node.label} ${where}`);
  }
  return lines.join('\n');
}
