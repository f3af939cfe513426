import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';

import { WorkspaceFiles } from '../workspace';
import { ARCHIVE_VIEW_TYPE, Commands, activateExtension, closeAllEditors, quickFixesFor, titlesOf, waitForArchiveDiagnostics, workspaceFile } from '../helpers';

interface RetargetArguments {
  archive?: string;
  device?: string;
}

/** The quick fixes offered for an archive whose devices are all `cpu`: every target but cpu itself. */
const expectedTitles = ['Retarget to cuda', 'Retarget to cuda:0', 'Choose device...'];

describe('Quick fixes', () => {
  before(async () => {
    await activateExtension();
    await vscode.commands.executeCommand('vscode.openWith', workspaceFile(WorkspaceFiles.tracedOnCpu), ARCHIVE_VIEW_TYPE);
  });

  after(closeAllEditors);

  it('code finding offers the retarget targets', async () => {
    const archive = workspaceFile(WorkspaceFiles.tracedOnCpu);
    const found = await waitForArchiveDiagnostics(archive);
    const [{ uri, diagnostics }] = [...found.onCodeRecords.values()];

    const actions = await quickFixesFor(uri, diagnostics[0]);
    assert.deepEqual(titlesOf(actions), expectedTitles);
  });

  it('no fix retargets to the device found', async () => {
    const archive = workspaceFile(WorkspaceFiles.tracedOnCpu);
    const found = await waitForArchiveDiagnostics(archive);
    const [{ uri, diagnostics }] = [...found.onCodeRecords.values()];

    const actions = await quickFixesFor(uri, diagnostics[0]);
    assert.ok(!titlesOf(actions).includes('Retarget to cpu'), `offered: ${titlesOf(actions).join(', ')}`);
  });

  it('each fix runs the retarget command', async () => {
    const archive = workspaceFile(WorkspaceFiles.tracedOnCpu);
    const found = await waitForArchiveDiagnostics(archive);
    const [{ uri, diagnostics }] = [...found.onCodeRecords.values()];

    for (const action of await quickFixesFor(uri, diagnostics[0])) {
      assert.equal(action.kind?.value, vscode.CodeActionKind.QuickFix.value, action.title);
      assert.equal(action.command?.command, Commands.retarget, action.title);

      const [argument] = (action.command?.arguments ?? []) as RetargetArguments[];
      assert.ok(argument, `${action.title} passes no arguments`);
      assert.equal(vscode.Uri.parse(argument.archive!).fsPath, archive.fsPath, action.title);
      const device = /^Retarget to (.+)$/.exec(action.title)?.[1];
      assert.equal(argument.device, device, action.title);
    }
  });

  it('d2go findings offer the same targets', async () => {
    const archive = workspaceFile(WorkspaceFiles.d2go);
    await vscode.commands.executeCommand(Commands.checkWorkspace);
    const found = await waitForArchiveDiagnostics(archive);
    const [{ uri, diagnostics }] = [...found.onCodeRecords.values()];

    const actions = await quickFixesFor(uri, diagnostics[diagnostics.length - 1]);
    assert.deepEqual(titlesOf(actions), expectedTitles);
  });
});
