import * as vscode from 'vscode';
import { ViewTypes } from '../../../server/src/lsp/protocol';
import { activeArchive, archiveOf, pickArchive } from '../archives';

/**
 * Opens the graph editor ("TorchScript: Show Graph") for the archive given as a Uri
 * (explorer menu, archive editor), else for the active archive or code record, else for an
 * archive chosen in an open dialog. Returns the archive's URI string, or undefined when the
 * user cancels.
 */
export async function showGraph(argument?: unknown): Promise<string | undefined> {
  const given = argument instanceof vscode.Uri ? archiveOf(argument) : undefined;
  const archive = given ?? activeArchive() ?? (await pickArchive(vscode.l10n.t('Archive to show as a graph')));
  if (!archive) return undefined;

  await vscode.commands.executeCommand('vscode.openWith', archive, ViewTypes.graph);
  return archive.toString();
}
