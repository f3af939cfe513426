import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { DiagnosticSeverity } from 'vscode-languageserver';
import { findingMessage } from '../../server/src/analysis/messages';
import type { FileReport, Finding, Range } from '../../server/src/analysis/types';
import { diagnosticMessage, diagnosticsForReport, SUMMARY_CODE, summaryMessage, UNREADABLE_CODE } from '../../server/src/lsp/diagnostics';
import { DIAGNOSTIC_SOURCE } from '../../server/src/lsp/protocol';
import { codeRecordUri, fileUriFromPath } from '../../server/src/lsp/uris';
import { readCodeRecords, realFixturesDir } from './helpers/torchCodeRecords';

const D2GO = path.join(realFixturesDir, 'd2go_optimized.pt');
const D2GO_URI = fileUriFromPath(D2GO);
const D2GO_RECORD = 'code/__torch__/___torch_mangle_636.py';

/** Ranges of every `needle` in a text, as LSP positions (the text is ASCII, so bytes are UTF-16 units). */
function rangesOf(text: string, needle: string): Range[] {
  const ranges: Range[] = [];
  text.split('\n').forEach((line, lineIndex) => {
    for (let at = line.indexOf(needle); at !== -1; at = line.indexOf(needle, at + 1)) {
      ranges.push({ start: { line: lineIndex, character: at }, end: { line: lineIndex, character: at + needle.length } });
    }
  });
  return ranges;
}

/** Builds findings for the 21 `torch.device("cpu")` literals of the real d2go archive, located in its code record as Python's zipfile reads it. */
function d2goFindings(): { text: string; findings: Finding[] } {
  const text = readCodeRecords(D2GO).get(D2GO_RECORD)!.toString('utf8');
  const findings = rangesOf(text, 'torch.device("cpu")').map(
    (range): Finding => ({
      code: 'code-device-literal',
      severity: 'warning',
      device: 'cpu',
      record: D2GO_RECORD,
      range,
      message: findingMessage('code-device-literal', 'cpu', 'torch.to'),
      rewritable: true,
    }),
  );
  return { text, findings };
}

function textAt(text: string, range: Range): string {
  const line = text.split('\n')[range.start.line];
  return line.slice(range.start.character, range.end.character);
}

function storageFinding(code: Finding['code'], device: string, record: string, extra: Partial<Finding> = {}): Finding {
  return { code, severity: 'warning', device, record, message: findingMessage(code, device), rewritable: true, ...extra };
}

describe('diagnosticsForReport', () => {
  it('puts d2go code findings on the code record', () => {
    const { text, findings } = d2goFindings();
    assert.equal(findings.length, 21);
    const report: FileReport = { path: D2GO, kind: 'torchscript', findings };

    const diagnostics = diagnosticsForReport(report, D2GO_URI);
    const codeUri = codeRecordUri(D2GO_URI, D2GO_RECORD);
    assert.deepEqual([...diagnostics.keys()].sort(), [D2GO_URI, codeUri].sort());

    const code = diagnostics.get(codeUri)!;
    assert.equal(code.length, 21);
    for (const diagnostic of code) {
      assert.equal(textAt(text, diagnostic.range), 'torch.device("cpu")');
      assert.equal(diagnostic.code, 'code-device-literal');
      assert.equal(diagnostic.source, DIAGNOSTIC_SOURCE);
      assert.equal(diagnostic.severity, DiagnosticSeverity.Warning);
      assert.deepEqual(diagnostic.data, { archive: D2GO_URI, devices: ['cpu'], retargetable: true });
    }
  });

  it('summarizes d2go on the archive', () => {
    const { findings } = d2goFindings();
    const summary = diagnosticsForReport({ path: D2GO, kind: 'torchscript', findings }, D2GO_URI).get(D2GO_URI)!;

    assert.equal(summary.length, 1);
    assert.equal(summary[0].message, '1 hard-coded device: cpu (21 in code)');
    assert.equal(summary[0].code, SUMMARY_CODE);
    assert.deepEqual(summary[0].range, { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } });
    assert.deepEqual(summary[0].data, { archive: D2GO_URI, devices: ['cpu'], retargetable: true });
    assert.equal(summary[0].relatedInformation, undefined);
  });

  it('lists tensor constant uses in the summary', () => {
    const useA: Range = { start: { line: 40, character: 30 }, end: { line: 40, character: 42 } };
    const useB: Range = { start: { line: 41, character: 4 }, end: { line: 41, character: 16 } };
    const constant = storageFinding('constant-storage-location', 'cuda:0', 'constants.pkl', {
      related: [
        { record: D2GO_RECORD, range: useA, message: 'CONSTANTS.c0 is this tensor' },
        { record: 'code/__torch__/other.py', range: useB, message: 'CONSTANTS.c1 is this tensor' },
      ],
    });
    const report: FileReport = { path: D2GO, kind: 'torchscript', findings: [constant] };

    const diagnostics = diagnosticsForReport(report, D2GO_URI);
    assert.deepEqual([...diagnostics.keys()], [D2GO_URI], 'pickle findings add no diagnostics to code records');

    const summary = diagnostics.get(D2GO_URI)![0];
    assert.equal(summary.message, '1 hard-coded device: cuda:0 (1 tensor constant storage)');
    assert.deepEqual(
      summary.relatedInformation?.map((related) => [related.location.uri, related.location.range, related.message]),
      [
        [D2GO_URI, { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, `constants.pkl: ${constant.message}`],
        [codeRecordUri(D2GO_URI, D2GO_RECORD), useA, 'CONSTANTS.c0 is this tensor'],
        [codeRecordUri(D2GO_URI, 'code/__torch__/other.py'), useB, 'CONSTANTS.c1 is this tensor'],
      ],
    );
  });

  it('counts storages from storageLocations', () => {
    const { findings } = d2goFindings();
    const constant = storageFinding('constant-storage-location', 'cpu', 'constants.pkl');
    const report: FileReport = {
      path: D2GO,
      kind: 'torchscript',
      info: { storageLocations: [{ record: 'constants.pkl', device: 'cpu', count: 338 }, { record: 'data.pkl', device: 'cpu', count: 4 }] },
      findings: [...findings, constant],
    };
    const summary = diagnosticsForReport(report, D2GO_URI).get(D2GO_URI)![0];
    assert.equal(summary.message, '1 hard-coded device: cpu (21 in code, 338 tensor constant storages)');
  });

  it('counts mixed devices and places', () => {
    const { findings } = d2goFindings();
    const mixed: Finding[] = [
      ...findings.slice(0, 3),
      storageFinding('parameter-storage-location', 'cuda:1', 'data.pkl'),
      storageFinding('device-attribute', 'cuda:1', 'data.pkl', { severity: 'error' }),
      storageFinding('device-string-attribute', 'cuda:1', 'data.pkl'),
      storageFinding('constant-storage-location', 'cpu', 'constants.pkl'),
    ];
    const report: FileReport = { path: D2GO, kind: 'torchscript', info: { storageLocations: [{ record: 'data.pkl', device: 'cuda:1', count: 40 }] }, findings: mixed };
    const summary = diagnosticsForReport(report, D2GO_URI).get(D2GO_URI)![0];

    assert.ok(
      (summary.message as string).startsWith('2 hard-coded devices: cpu (3 in code, 1 tensor constant storage), cuda:1 (40 parameter storages, 2 attributes). '),
      summary.message as string,
    );
    assert.match(summary.message as string, /cuda:1 pins one GPU in every process\. Retarget to "cuda" or "cuda:0" so that torch\.cuda\.set_device\(rank\) chooses the card per process\.$/);
    assert.equal(summary.severity, DiagnosticSeverity.Error);
    assert.deepEqual((summary.data as { devices: string[] }).devices, ['cpu', 'cuda:1']);
    assert.equal(summary.relatedInformation?.length, 4);
  });

  it('caps the locations listed in the summary', () => {
    const uses = Array.from({ length: 150 }, (_, line) => ({
      record: D2GO_RECORD,
      range: { start: { line, character: 4 }, end: { line, character: 16 } },
      message: `CONSTANTS.c${line} is this tensor`,
    }));
    const constant = storageFinding('constant-storage-location', 'cuda:0', 'constants.pkl', { related: uses });
    const summary = diagnosticsForReport({ path: D2GO, kind: 'torchscript', findings: [constant] }, D2GO_URI).get(D2GO_URI)![0];

    assert.equal(summary.relatedInformation?.length, 101);
    assert.equal(summary.relatedInformation![99].message, 'CONSTANTS.c98 is this tensor');
    assert.equal(summary.relatedInformation![100].message, '51 more locations are not listed');
  });

  it('reports an unreadable archive as one error', () => {
    const report: FileReport = { path: D2GO, kind: 'not-pytorch', error: `${D2GO}: not a zip archive (no end of central directory record)`, findings: [] };
    const diagnostics = diagnosticsForReport(report, D2GO_URI);

    assert.deepEqual([...diagnostics.keys()], [D2GO_URI]);
    const [error] = diagnostics.get(D2GO_URI)!;
    assert.equal(error.severity, DiagnosticSeverity.Error);
    assert.equal(error.code, UNREADABLE_CODE);
    assert.equal(error.message, report.error);
    assert.deepEqual(error.data, { archive: D2GO_URI, devices: [], retargetable: false });
  });

  it('publishes nothing for a clean archive', () => {
    assert.equal(diagnosticsForReport({ path: D2GO, kind: 'torchscript', findings: [] }, D2GO_URI).size, 0);
  });

  it('marks only rewritable kinds as retargetable', () => {
    const storages = [storageFinding('checkpoint-storage-location', 'cuda:0', 'data.pkl')];
    const checkpoint = diagnosticsForReport({ path: D2GO, kind: 'checkpoint', findings: storages }, D2GO_URI).get(D2GO_URI)![0];
    assert.equal(checkpoint.message, '1 hard-coded device: cuda:0 (1 storage)');
    assert.equal((checkpoint.data as { retargetable: boolean }).retargetable, true);

    const legacy = diagnosticsForReport({ path: D2GO, kind: 'legacy-model-json', findings: storages }, D2GO_URI).get(D2GO_URI)![0];
    assert.equal((legacy.data as { retargetable: boolean }).retargetable, false);
  });
});

describe('diagnosticMessage', () => {
  const range: Range = { start: { line: 3, character: 10 }, end: { line: 3, character: 31 } };

  it('adds set_device advice for cuda:N', () => {
    const finding: Finding = { code: 'code-device-literal', severity: 'warning', device: 'cuda:2', record: 'code/__torch__.py', range, message: 'torch.device("cuda:2") is hard-coded.', rewritable: true };
    const message = diagnosticMessage(finding);
    assert.ok(message.startsWith(finding.message));
    assert.match(message, /torch\.cuda\.set_device/);
    assert.match(message, /"cuda"/);
  });

  it('keeps engine advice without repeating it', () => {
    const message = findingMessage('code-device-literal', 'cuda:1', 'torch.ones');
    const finding: Finding = { code: 'code-device-literal', severity: 'warning', device: 'cuda:1', record: 'code/__torch__.py', range, message, rewritable: true };
    assert.equal(diagnosticMessage(finding), message);
    assert.equal(diagnosticMessage(finding).split('set_device').length, 2);
  });

  it('leaves cuda:0, cuda and cpu alone', () => {
    for (const device of ['cuda:0', 'cuda', 'cpu']) {
      const finding: Finding = { code: 'code-device-literal', severity: 'warning', device, record: 'code/__torch__.py', range, message: `torch.device("${device}") is hard-coded.`, rewritable: true };
      assert.equal(diagnosticMessage(finding), finding.message, device);
    }
  });
});

describe('summaryMessage', () => {
  it('uses singular and plural forms', () => {
    const one = [storageFinding('traced-input-storage-location', 'cuda:0', 'traced_inputs.pkl')];
    const two = [...one, ...one];
    assert.equal(summaryMessage({ findings: one }), '1 hard-coded device: cuda:0 (1 traced input storage)');
    assert.equal(summaryMessage({ findings: two }), '1 hard-coded device: cuda:0 (2 traced input storages)');
  });
});
