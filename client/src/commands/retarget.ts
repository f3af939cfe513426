import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { ExecuteCommandRequest, LSPErrorCodes, type LanguageClient, ResponseError, WorkDoneProgress } from 'vscode-languageclient/node';
import { isDeviceString } from '../../../server/src/device';
import type { RetargetResult } from '../../../server/src/engine';
import { DefaultOutputRequest, type RetargetCommandArguments, SERVER_RETARGET_COMMAND, type ServerRetargetArguments } from '../../../server/src/lsp/protocol';
import { activeArchive, pickArchive } from '../archives';
import { deviceFormsHelp, pickDevice } from '../devicePicker';
import type { Logger } from '../logger';

async function exists(uri: vscode.Uri): Promise<boolean> {
  try {
    await vscode.workspace.fs.stat(uri);
    return true;
  } catch (error) {
    if (error instanceof vscode.FileSystemError && error.code === 'FileNotFound') return false;
    throw error;
  }
}

/** Turns the command's argument into options: a Uri comes from the explorer's context menu. */
function normalizeArguments(argument: unknown): RetargetCommandArguments {
  if (argument instanceof vscode.Uri) return { archive: argument.toString(), chooseOutput: true };
  if (argument !== null && typeof argument === 'object') return argument as RetargetCommandArguments;
  return { chooseOutput: true };
}

/** Sends the server command under a cancellable progress notification that follows the server's work-done progress. */
function runServerRetarget(client: LanguageClient, args: ServerRetargetArguments, title: string): Thenable<RetargetResult> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
    const workDoneToken = randomUUID();
    let reported = 0;
    const listener = client.onProgress(WorkDoneProgress.type, workDoneToken, (value) => {
      if (value.kind === 'end' || value.percentage === undefined || value.percentage <= reported) return;
      progress.report({ increment: value.percentage - reported });
      reported = value.percentage;
    });

    try {
      return (await client.sendRequest(ExecuteCommandRequest.type, { command: SERVER_RETARGET_COMMAND, arguments: [args], workDoneToken }, token)) as RetargetResult;
    } finally {
      listener.dispose();
    }
  });
}

/**
 * Runs "TorchScript: Retarget Device...". The command prompts for whatever the arguments
 * leave out: the archive (the active one, else an open dialog), the device, and with
 * `chooseOutput` the output file. Without `force` it confirms before overwriting a file.
 * Returns the server's RetargetResult (its `output` is the path written), or undefined when
 * the user cancels or the retarget fails (the error is shown and logged). An invalid
 * `device` argument throws an error that lists the accepted forms.
 */
export async function retarget(client: LanguageClient, logger: Logger, argument?: unknown): Promise<RetargetResult | undefined> {
  const options = normalizeArguments(argument);

  const archive = options.archive !== undefined ? vscode.Uri.parse(options.archive) : (activeArchive() ?? (await pickArchive(vscode.l10n.t('Archive to retarget'))));
  if (!archive) return undefined;
  const archiveName = path.basename(archive.fsPath);

  if (options.device !== undefined && !isDeviceString(options.device)) throw new Error(deviceFormsHelp(options.device));
  const device = options.device ?? (await pickDevice(vscode.l10n.t('Retarget {0} to', archiveName)));
  if (device === undefined) return undefined;

  let output: vscode.Uri;
  let force = options.force === true;
  if (options.output !== undefined) {
    output = vscode.Uri.parse(options.output);
  } else {
    const defaultOutput = vscode.Uri.parse((await client.sendRequest(DefaultOutputRequest, { uri: archive.toString(), device })).uri);
    if (options.chooseOutput) {
      const chosen = await vscode.window.showSaveDialog({
        title: vscode.l10n.t('Save the retargeted archive'),
        defaultUri: defaultOutput,
        filters: { [vscode.l10n.t('PyTorch archives')]: [path.extname(archive.fsPath).slice(1) || 'pt'] },
      });
      if (!chosen) return undefined;
      output = chosen;
      // The save dialog has already asked before replacing an existing file.
      force = true;
    } else {
      output = defaultOutput;
    }
  }

  if (!force && (await exists(output))) {
    const overwrite = vscode.l10n.t('Overwrite');
    const answer = await vscode.window.showWarningMessage(vscode.l10n.t('{0} already exists. Overwrite it?', path.basename(output.fsPath)), { modal: true }, overwrite);
    if (answer !== overwrite) return undefined;
    force = true;
  }

  const args: ServerRetargetArguments = { input: archive.toString(), device, output: output.toString(), force };
  logger.info(`Retargeting ${archive.fsPath} to ${device}, writing ${output.fsPath}`);

  let result: RetargetResult;
  try {
    result = await runServerRetarget(client, args, vscode.l10n.t('Retargeting {0} to {1}', archiveName, device));
  } catch (error) {
    if (error instanceof ResponseError && error.code === LSPErrorCodes.RequestCancelled) {
      logger.info(`Retarget of ${archive.fsPath} cancelled`);
      return undefined;
    }
    logger.error(`Retarget of ${archive.fsPath} to ${device} failed`, error);
    void vscode.window.showErrorMessage(vscode.l10n.t('Retarget failed: {0}', error instanceof Error ? error.message : String(error)));
    return undefined;
  }

  for (const skipped of result.skipped) {
    logger.warn(`${result.input}: ${skipped.record}: ${skipped.device} was not rewritten: ${skipped.reason}`);
  }

  const outputUri = vscode.Uri.file(result.output);
  const outputName = path.basename(result.output);
  let written = vscode.l10n.t('Wrote {0} with {1} changes to {2}.', outputName, result.changes.length, result.device);
  if (result.skipped.length > 0) {
    written += ` ${vscode.l10n.t('{0} devices could not be rewritten; the "TorchScript Device" output lists them.', result.skipped.length)}`;
  }

  const open = vscode.l10n.t('Open');
  const show = result.skipped.length > 0 ? vscode.window.showWarningMessage(written, open) : vscode.window.showInformationMessage(written, open);
  void show.then((answer) => {
    if (answer === open) void vscode.commands.executeCommand('vscode.open', outputUri);
  });
  return result;
}
