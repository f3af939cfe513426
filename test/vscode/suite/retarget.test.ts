import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as vscode from 'vscode';

import { WorkspaceFiles, readDeviceConstantsWithTorch } from '../workspace';
import {
  ARCHIVE_VIEW_TYPE,
  Commands,
  type RetargetCommandResult,
  activateExtension,
  closeAllEditors,
  quickFixesFor,
  waitForArchiveDiagnostics,
  workspaceFile,
} from '../helpers';

interface ExtensionApi {
  languageClient: { sendRequest<R>(method: string, params: unknown): Promise<R> };
}

function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** Asks the server which file a retarget without an output writes, and deletes an older one. */
async function clearDefaultOutput(api: ExtensionApi, archive: vscode.Uri, device: string): Promise<string> {
  const { uri } = await api.languageClient.sendRequest<{ uri: string }>('torchscript/defaultOutput', { uri: archive.toString(), device });
  const output = vscode.Uri.parse(uri).fsPath;
  fs.rmSync(output, { force: true });
  return output;
}

function assertAllDevices(archive: string, expected: string): void {
  const report = readDeviceConstantsWithTorch(archive);
  assert.ok(report.devices.length > 0, `PyTorch sees no Device constants in ${archive}`);
  assert.deepEqual(
    report.devices.filter((device) => device !== expected),
    [],
    `Device constants of ${archive} other than ${expected}`,
  );
}

describe('Retarget', () => {
  let api: ExtensionApi;

  before(async () => {
    api = (await activateExtension()).exports as ExtensionApi;
    await vscode.commands.executeCommand('vscode.openWith', workspaceFile(WorkspaceFiles.tracedOnCpu), ARCHIVE_VIEW_TYPE);
  });

  after(closeAllEditors);

  it('quick fix writes an archive PyTorch loads', async () => {
    const archive = workspaceFile(WorkspaceFiles.tracedOnCpu);
    const found = await waitForArchiveDiagnostics(archive);
    const [{ uri, diagnostics }] = [...found.onCodeRecords.values()];
    const fix = (await quickFixesFor(uri, diagnostics[0])).find((action) => action.title === 'Retarget to cuda');
    assert.ok(fix?.command, 'no "Retarget to cuda" quick fix');
    const expectedOutput = await clearDefaultOutput(api, archive, 'cuda');

    const result = await vscode.commands.executeCommand<RetargetCommandResult>(fix.command.command, ...(fix.command.arguments ?? []));

    assert.ok(result, 'the retarget command returned nothing (cancelled or failed)');
    assert.equal(result.output, expectedOutput);
    assert.ok(fs.existsSync(result.output), `${result.output} was not written`);
    // The code literal, and the traced input's storage location when the engine reports it.
    assert.ok(result.changes.length >= 1, 'no device changed');
    assertAllDevices(result.output, 'cuda');
  });

  it('command retargets d2go to a typed device', async () => {
    const archive = workspaceFile(WorkspaceFiles.d2go);
    const output = workspaceFile('d2go_optimized.cuda1.test.pt');
    const inputHash = sha256(archive.fsPath);

    const result = await vscode.commands.executeCommand<RetargetCommandResult>(Commands.retarget, {
      archive: archive.toString(),
      device: 'cuda:1',
      output: output.toString(),
      force: true,
    });

    assert.ok(result, 'the retarget command returned nothing (cancelled or failed)');
    assert.equal(result.output, output.fsPath);
    assert.equal(result.device, 'cuda:1');
    assert.ok(result.changes.length >= 21, `${result.changes.length} changes; the code alone holds 21 CPU literals`);
    assert.equal(sha256(archive.fsPath), inputHash, 'the input archive changed');
    assertAllDevices(result.output, 'cuda:1');
  });

  it('retargeted archive gets its own diagnostics', async () => {
    const output = workspaceFile('d2go_optimized.cuda1.test.pt');
    assert.ok(fs.existsSync(output.fsPath), 'the previous test wrote no archive');
    await vscode.commands.executeCommand('vscode.openWith', output, ARCHIVE_VIEW_TYPE);

    const found = await waitForArchiveDiagnostics(output);
    const messages = [...found.onCodeRecords.values()].flatMap((record) => record.diagnostics.map((diagnostic) => diagnostic.message));
    assert.ok(messages.length >= 21, `${messages.length} code diagnostics`);
    assert.ok(messages.every((message) => message.includes('cuda:1')), messages.filter((message) => !message.includes('cuda:1')).join(' | '));
  });

  it('command rejects an invalid device', async () => {
    const archive = workspaceFile(WorkspaceFiles.tracedOnCpu);

    await assert.rejects(
      Promise.resolve(vscode.commands.executeCommand(Commands.retarget, { archive: archive.toString(), device: 'gpu:x', force: true })),
      /gpu:x/,
    );
  });
});
