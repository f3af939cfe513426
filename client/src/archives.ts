import * as vscode from 'vscode';
import type { Range } from '../../server/src/analysis/types';
import { CODE_LANGUAGE_ID } from '../../server/src/lsp/protocol';
import { codeRecordUri, hasArchiveExtension, parseCodeRecordUri } from '../../server/src/lsp/uris';

/** Returns the archive a document belongs to: the file itself, or the archive of a code record. */
export function archiveOf(uri: vscode.Uri): vscode.Uri | undefined {
  if (uri.scheme === 'file') return hasArchiveExtension(uri.fsPath) ? uri : undefined;
  const address = parseCodeRecordUri(uri.toString());
  return address ? vscode.Uri.parse(address.archiveUri) : undefined;
}

/** Returns the archive shown in the active editor tab: a custom editor, a code record or an archive opened as text. */
export function activeArchive(): vscode.Uri | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  if (input instanceof vscode.TabInputCustom || input instanceof vscode.TabInputText) return archiveOf(input.uri);
  return undefined;
}

/** Asks for an archive with an open dialog. */
export async function pickArchive(title: string): Promise<vscode.Uri | undefined> {
  const picked = await vscode.window.showOpenDialog({
    title,
    canSelectMany: false,
    filters: { [vscode.l10n.t('PyTorch archives')]: ['pt', 'pth', 'ptl', 'torchscript'], [vscode.l10n.t('All files')]: ['*'] },
  });
  return picked?.[0];
}

/** Opens a code record of an archive, read-only, with the range selected. */
export async function showCodeRecord(archive: vscode.Uri, record: string, range?: Range, viewColumn?: vscode.ViewColumn): Promise<vscode.TextEditor> {
  const uri = vscode.Uri.parse(codeRecordUri(archive.toString(), record));
  let document = await vscode.workspace.openTextDocument(uri);
  if (document.languageId !== CODE_LANGUAGE_ID) document = await vscode.languages.setTextDocumentLanguage(document, CODE_LANGUAGE_ID);

  const selection = range && new vscode.Range(range.start.line, range.start.character, range.end.line, range.end.character);
  return vscode.window.showTextDocument(document, { selection, preview: true, viewColumn });
}

/** Shows code record documents as TorchScript rather than Python, which their `.py` names would pick. */
export function registerCodeRecordLanguage(): vscode.Disposable {
  const assignLanguage = (document: vscode.TextDocument) => {
    if (parseCodeRecordUri(document.uri.toString()) && document.languageId !== CODE_LANGUAGE_ID) {
      void vscode.languages.setTextDocumentLanguage(document, CODE_LANGUAGE_ID);
    }
  };
  vscode.workspace.textDocuments.forEach(assignLanguage);
  return vscode.workspace.onDidOpenTextDocument(assignLanguage);
}
