import * as vscode from 'vscode';
import { type LanguageClient, LSPErrorCodes, ResponseError } from 'vscode-languageclient/node';
import { ARCHIVE_GLOB, DescribeRequest } from '../../../server/src/lsp/protocol';
import type { Logger } from '../logger';

/** Result of "TorchScript: Check Devices in Workspace", which the command returns. */
export interface WorkspaceCheckResult {
  /** Archives analysed, not counting those skipped after a cancellation. */
  checked: number;
  /** Archives with at least one finding. */
  withFindings: number;
  findings: number;
  /** Archives that could not be read. */
  unreadable: number;
  cancelled: boolean;
}

/**
 * Analyses every archive in the workspace, one after the other, under a cancellable
 * progress notification. The server publishes each archive's diagnostics, so the results
 * appear in the Problems panel as they come.
 */
export async function checkWorkspace(client: LanguageClient, logger: Logger): Promise<WorkspaceCheckResult> {
  const result: WorkspaceCheckResult = { checked: 0, withFindings: 0, findings: 0, unreadable: 0, cancelled: false };

  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Checking devices in TorchScript archives'), cancellable: true },
    async (progress, token) => {
      const files = await vscode.workspace.findFiles(ARCHIVE_GLOB, '**/node_modules/**', undefined, token);
      logger.info(`Checking ${files.length} archives in the workspace`);

      for (const file of files) {
        if (token.isCancellationRequested) break;
        progress.report({ message: vscode.workspace.asRelativePath(file), increment: 100 / Math.max(files.length, 1) });

        try {
          const report = await client.sendRequest(DescribeRequest, { uri: file.toString() }, token);
          result.checked++;
          if (report.error !== undefined) result.unreadable++;
          if (report.findings.length > 0) result.withFindings++;
          result.findings += report.findings.length;
        } catch (error) {
          if (error instanceof ResponseError && error.code === LSPErrorCodes.RequestCancelled) break;
          result.unreadable++;
          logger.error(`Failed to check ${file.fsPath}`, error);
        }
      }
      result.cancelled = token.isCancellationRequested;
    },
  );

  const message = vscode.l10n.t(
    'Checked {0} archives: {1} findings in {2} archives, {3} unreadable. The Problems panel lists them.',
    result.checked,
    result.findings,
    result.withFindings,
    result.unreadable,
  );
  logger.info(message);
  void vscode.window.showInformationMessage(result.cancelled ? vscode.l10n.t('Check cancelled. {0}', message) : message);
  return result;
}
