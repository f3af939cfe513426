import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import type { FileReport } from '../../../server/src/analysis/types';
import { Commands, DescribeRequest, type RetargetCommandArguments, ViewTypes } from '../../../server/src/lsp/protocol';
import { showCodeRecord } from '../archives';
import type { Logger } from '../logger';
import { type ArchiveStrings, type ArchiveWebviewMessage, renderArchiveHtml } from './archiveHtml';

function archiveStrings(): ArchiveStrings {
  return {
    kinds: {
      torchscript: vscode.l10n.t('TorchScript module'),
      mobile: vscode.l10n.t('TorchScript mobile module (lite interpreter)'),
      checkpoint: vscode.l10n.t('torch.save checkpoint (no code)'),
      'torch-package': vscode.l10n.t('torch.package archive'),
      'legacy-model-json': vscode.l10n.t('TorchScript archive in the legacy format (model.json)'),
      'raw-pickle': vscode.l10n.t('Pickle file (torch.save with the legacy serialization)'),
      'exported-program': vscode.l10n.t('torch.export program'),
      'not-pytorch': vscode.l10n.t('Not a PyTorch file'),
    },
    places: {
      code: vscode.l10n.t('In code'),
      constants: vscode.l10n.t('Tensor constant storages'),
      parameters: vscode.l10n.t('Parameter storages'),
      tracedInputs: vscode.l10n.t('Traced input storages'),
      bytecode: vscode.l10n.t('Mobile bytecode'),
      attributes: vscode.l10n.t('Attributes'),
      storages: vscode.l10n.t('Storages'),
    },
    severities: { error: vscode.l10n.t('Error'), warning: vscode.l10n.t('Warning'), information: vscode.l10n.t('Info'), hint: vscode.l10n.t('Hint') },
    fileSection: vscode.l10n.t('File'),
    kind: vscode.l10n.t('Kind'),
    formatVersion: vscode.l10n.t('Format version'),
    topFolder: vscode.l10n.t('Top folder'),
    recordCount: vscode.l10n.t('Records'),
    size: vscode.l10n.t('Size'),
    devicesSection: vscode.l10n.t('Hard-coded devices'),
    device: vscode.l10n.t('Device'),
    noFindings: vscode.l10n.t('No hard-coded devices found.'),
    findingsSection: vscode.l10n.t('Findings'),
    storageSection: vscode.l10n.t('Storage locations'),
    record: vscode.l10n.t('Record'),
    storageCount: vscode.l10n.t('Storages'),
    usedAt: vscode.l10n.t('Used at'),
    unreadable: vscode.l10n.t('The file could not be read:'),
    retarget: vscode.l10n.t('Retarget device...'),
    showGraph: vscode.l10n.t('Show graph'),
    formatBytes: (bytes) => vscode.l10n.t('{0} bytes', bytes.toLocaleString()),
    moreFindings: (count) => vscode.l10n.t('{0} more findings are not listed.', count),
  };
}

function createNonce(): string {
  return randomBytes(16).toString('base64');
}

/**
 * The read-only custom editor for archives: what the file is, its hard-coded devices and its
 * findings, with links into the code records and a button that starts a retarget. It shows
 * the report again whenever the file changes on disk.
 */
export class ArchiveEditorProvider implements vscode.CustomReadonlyEditorProvider {
  static register(client: LanguageClient, logger: Logger): vscode.Disposable {
    return vscode.window.registerCustomEditorProvider(ViewTypes.archive, new ArchiveEditorProvider(client, logger), {
      supportsMultipleEditorsPerDocument: true,
      webviewOptions: { retainContextWhenHidden: false },
    });
  }

  private constructor(
    private readonly client: LanguageClient,
    private readonly logger: Logger,
  ) {}

  openCustomDocument(uri: vscode.Uri): vscode.CustomDocument {
    return { uri, dispose: () => undefined };
  }

  async resolveCustomEditor(document: vscode.CustomDocument, panel: vscode.WebviewPanel): Promise<void> {
    const archive = document.uri;
    const fileName = path.basename(archive.fsPath);
    const strings = archiveStrings();
    panel.webview.options = { enableScripts: true, localResourceRoots: [] };

    let report: FileReport | undefined;
    const render = (failure?: string) => {
      panel.webview.html = renderArchiveHtml(report, { fileName, cspSource: panel.webview.cspSource, nonce: createNonce(), strings, failure });
    };

    let refreshVersion = 0;
    const refresh = async () => {
      const version = ++refreshVersion;
      try {
        const described = await this.client.sendRequest(DescribeRequest, { uri: archive.toString() });
        if (version !== refreshVersion) return;
        report = described;
        render();
      } catch (error) {
        if (version !== refreshVersion) return;
        this.logger.error(`Failed to describe ${archive.fsPath}`, error);
        report = undefined;
        render(vscode.l10n.t('The language server could not describe this file: {0}', error instanceof Error ? error.message : String(error)));
      }
    };

    const disposables: vscode.Disposable[] = [];
    panel.webview.onDidReceiveMessage((message: ArchiveWebviewMessage) => this.handleMessage(archive, report, message), undefined, disposables);

    if (archive.scheme === 'file') {
      const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(path.dirname(archive.fsPath)), path.basename(archive.fsPath)));
      watcher.onDidChange(() => void refresh(), undefined, disposables);
      watcher.onDidCreate(() => void refresh(), undefined, disposables);
      disposables.push(watcher);
    }
    panel.onDidDispose(() => disposables.forEach((disposable) => disposable.dispose()));

    render();
    await refresh();
  }

  private handleMessage(archive: vscode.Uri, report: FileReport | undefined, message: ArchiveWebviewMessage): void {
    switch (message.type) {
      case 'retarget': {
        const args: RetargetCommandArguments = { archive: archive.toString(), chooseOutput: true };
        void vscode.commands.executeCommand(Commands.retarget, args);
        return;
      }
      case 'showGraph':
        void vscode.commands.executeCommand(Commands.showGraph, archive);
        return;
      case 'reveal': {
        // The page is untrusted: take only indexes from it and look the location up here.
        const finding = report?.findings[message.finding];
        const target = message.related === undefined ? finding : finding?.related?.[message.related];
        if (!target?.range) return;
        showCodeRecord(archive, target.record, target.range).then(undefined, (error: unknown) => {
          this.logger.error(`Failed to open ${target.record} of ${archive.fsPath}`, error);
          void vscode.window.showErrorMessage(vscode.l10n.t('Could not open {0}: {1}', target.record, error instanceof Error ? error.message : String(error)));
        });
        return;
      }
    }
  }
}
