import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as vscode from 'vscode';

import { WorkspaceFiles } from '../workspace';
import {
  ARCHIVE_VIEW_TYPE,
  CODE_SCHEME,
  Commands,
  type WorkspaceCheckCommandResult,
  activateExtension,
  closeAllEditors,
  linesContaining,
  waitForArchiveDiagnostics,
  workspaceFile,
} from '../helpers';

const cpuLiteral = 'torch.device("cpu")';

/** Checks that every line of a code record holding a CPU device literal carries a warning. */
async function assertLiteralLinesReported(uri: vscode.Uri, diagnostics: vscode.Diagnostic[]): Promise<number> {
  const document = await vscode.workspace.openTextDocument(uri);
  const literalLines = linesContaining(document.getText(), cpuLiteral);
  const reportedLines = new Set(diagnostics.map((diagnostic) => diagnostic.range.start.line));

  for (const line of literalLines) {
    assert.ok(reportedLines.has(line), `${uri.path}:${line + 1} holds ${cpuLiteral} but has no diagnostic`);
  }
  return literalLines.length;
}

describe('Diagnostics', () => {
  before(async () => {
    await activateExtension();
  });

  after(closeAllEditors);

  it('opening the traced model reports its device', async () => {
    const archive = workspaceFile(WorkspaceFiles.tracedOnCpu);
    await vscode.commands.executeCommand('vscode.openWith', archive, ARCHIVE_VIEW_TYPE);
    const found = await waitForArchiveDiagnostics(archive);

    const records = [...found.onCodeRecords.values()];
    assert.equal(records.length, 1, `expected diagnostics on one code record, got ${records.map((record) => record.uri.toString()).join(', ')}`);
    const { uri, diagnostics } = records[0];
    assert.equal(uri.scheme, CODE_SCHEME);
    // The path is /<archive file name>/<record>, so records of two archives read apart in the UI.
    assert.equal(uri.path, `/${path.basename(archive.fsPath)}/code/__torch__.py`);

    const document = await vscode.workspace.openTextDocument(uri);
    const literalLines = linesContaining(document.getText(), cpuLiteral);
    assert.equal(literalLines.length, 1, `the traced model's code should hold one ${cpuLiteral}:\n${document.getText()}`);
    assert.deepEqual(
      diagnostics.map((diagnostic) => diagnostic.range.start.line),
      literalLines,
    );
  });

  it('code finding is a warning on the literal', async () => {
    const archive = workspaceFile(WorkspaceFiles.tracedOnCpu);
    const found = await waitForArchiveDiagnostics(archive);
    const [{ uri, diagnostics }] = [...found.onCodeRecords.values()];
    const [diagnostic] = diagnostics;
    const document = await vscode.workspace.openTextDocument(uri);

    assert.equal(diagnostic.severity, vscode.DiagnosticSeverity.Warning);
    assert.match(diagnostic.message, /cpu/);
    assert.match(document.getText(diagnostic.range), /cpu/, `the range ${JSON.stringify(diagnostic.range)} does not cover the device`);
  });

  it('archive carries a device summary', async () => {
    const archive = workspaceFile(WorkspaceFiles.tracedOnCpu);
    const found = await waitForArchiveDiagnostics(archive);

    assert.equal(found.onArchive.length, 1, `expected one summary on ${archive.fsPath}, got ${found.onArchive.map((diagnostic) => diagnostic.message).join(' | ')}`);
    assert.match(found.onArchive[0].message, /cpu/);
  });

  it('workspace check reports both archives', async () => {
    const archivesInWorkspace = await vscode.workspace.findFiles('**/*.{pt,pth,ptl,torchscript}');
    const result = await vscode.commands.executeCommand<WorkspaceCheckCommandResult>(Commands.checkWorkspace);

    assert.ok(result, 'the check command returned nothing');
    assert.equal(result.checked, archivesInWorkspace.length);
    assert.equal(result.withFindings, archivesInWorkspace.length);
    assert.equal(result.unreadable, 0);
    assert.equal(result.cancelled, false);
  });

  it('d2go literals are all reported', async () => {
    const archive = workspaceFile(WorkspaceFiles.d2go);
    await vscode.commands.executeCommand(Commands.checkWorkspace);
    const found = await waitForArchiveDiagnostics(archive);

    let literals = 0;
    for (const { uri, diagnostics } of found.onCodeRecords.values()) {
      literals += await assertLiteralLinesReported(uri, diagnostics);
    }
    // d2go_optimized.pt from pytorch/ios-demo-app contains 21 CPU literals in its code records.
    assert.equal(literals, 21, `counted ${literals} ${cpuLiteral} lines in ${[...found.onCodeRecords.keys()].join(', ')}`);
    assert.equal(found.onArchive.length, 1);
  });

  it('reanalysis replaces earlier diagnostics', async () => {
    const archive = workspaceFile(WorkspaceFiles.tracedOnCpu);
    await vscode.commands.executeCommand(Commands.checkWorkspace);
    await vscode.commands.executeCommand(Commands.checkWorkspace);
    const found = await waitForArchiveDiagnostics(archive);

    const codeDiagnostics = [...found.onCodeRecords.values()].flatMap((record) => record.diagnostics);
    assert.equal(codeDiagnostics.length, 1, codeDiagnostics.map((diagnostic) => diagnostic.message).join(' | '));
    assert.equal(found.onArchive.length, 1);
  });
});
