import * as vscode from 'vscode';
import { type LanguageClient, State } from 'vscode-languageclient/node';
import { Commands, DescribeRequest, ViewTypes } from '../../server/src/lsp/protocol';
import { ArchiveEditorProvider } from './archiveEditor/archiveEditorProvider';
import { registerCodeRecordLanguage } from './archives';
import { checkWorkspace } from './commands/checkWorkspace';
import { retarget } from './commands/retarget';
import { showGraph } from './commands/showGraph';
import { GraphEditorProvider } from './graphEditor/graphEditorProvider';
import { createLanguageClient } from './languageClient';
import { Logger } from './logger';

let client: LanguageClient | undefined;

/** API that `activate` returns to other extensions and to the extension-host tests. */
export interface TorchScriptDeviceApi {
  languageClient: LanguageClient;
}

export async function activate(context: vscode.ExtensionContext): Promise<TorchScriptDeviceApi> {
  const logger = new Logger('TorchScript Device');
  context.subscriptions.push(logger);

  const languageClient = createLanguageClient(context, logger);
  client = languageClient;

  context.subscriptions.push(
    registerCodeRecordLanguage(),
    ArchiveEditorProvider.register(languageClient, logger),
    GraphEditorProvider.register(context.extensionUri, languageClient, logger),
    vscode.commands.registerCommand(Commands.retarget, (argument?: unknown) => retarget(languageClient, logger, argument)),
    vscode.commands.registerCommand(Commands.checkWorkspace, () => checkWorkspace(languageClient, logger)),
    vscode.commands.registerCommand(Commands.showGraph, (argument?: unknown) => showGraph(argument)),
  );

  // A restarted server has lost its archives. Code record documents are opened again by the
  // client, but archives shown in the archive editor need to be described again.
  let started = false;
  context.subscriptions.push(
    languageClient.onDidChangeState(({ newState }) => {
      if (newState !== State.Running) return;
      if (started) redescribeOpenArchives(languageClient, logger);
      started = true;
    }),
  );

  try {
    await languageClient.start();
  } catch (error) {
    logger.error('Failed to start the language server', error);
    void vscode.window.showErrorMessage(vscode.l10n.t('The TorchScript Device language server failed to start. See the "TorchScript Device" output for details.'));
  }
  return { languageClient };
}

function redescribeOpenArchives(languageClient: LanguageClient, logger: Logger): void {
  for (const tab of vscode.window.tabGroups.all.flatMap((group) => group.tabs)) {
    if (!(tab.input instanceof vscode.TabInputCustom) || tab.input.viewType !== ViewTypes.archive) continue;
    const uri = tab.input.uri;
    languageClient.sendRequest(DescribeRequest, { uri: uri.toString() }).then(undefined, (error: unknown) => {
      logger.error(`Failed to describe ${uri.fsPath} after the server restarted`, error);
    });
  }
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}
