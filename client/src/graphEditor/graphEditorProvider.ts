import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { GraphRequest, ViewTypes } from '../../../server/src/lsp/protocol';
import { escapeHtml } from '../archiveEditor/archiveHtml';
import { showCodeRecord } from '../archives';
import { graphWebviewStrings } from '../graph/graphStrings';
import { attachGraphWebview, renderGraphHtml } from '../graph/graphWebview';
import type { Logger } from '../logger';

/** Renders a page without scripts that shows a message: while the graph is built, or after a failure. */
function messageHtml(message: string, isError: boolean): string {
  const color = isError ? 'var(--vscode-errorForeground)' : 'var(--vscode-descriptionForeground)';
  return `<!DOCTYPE html><html><head><meta charset="UTF-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'"></head>
<body style="font-family: var(--vscode-font-family); color: ${color}; padding: 20px; white-space: pre-wrap;"${isError ? ' role="alert"' : ''}>${escapeHtml(message)}</body></html>`;
}

/**
 * The graph custom editor (`torchscriptDevice.graph`, opened with "TorchScript: Show Graph"
 * or "Open With..."): the server builds the module graph and the graph webview draws it.
 */
export class GraphEditorProvider implements vscode.CustomReadonlyEditorProvider {
  static register(extensionUri: vscode.Uri, client: LanguageClient, logger: Logger): vscode.Disposable {
    return vscode.window.registerCustomEditorProvider(ViewTypes.graph, new GraphEditorProvider(extensionUri, client, logger), {
      supportsMultipleEditorsPerDocument: true,
      webviewOptions: { retainContextWhenHidden: true },
    });
  }

  private constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly client: LanguageClient,
    private readonly logger: Logger,
  ) {}

  openCustomDocument(uri: vscode.Uri): vscode.CustomDocument {
    return { uri, dispose: () => undefined };
  }

  async resolveCustomEditor(document: vscode.CustomDocument, panel: vscode.WebviewPanel): Promise<void> {
    const archive = document.uri;
    const webview = panel.webview;
    webview.options = {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist'), vscode.Uri.joinPath(this.extensionUri, 'media')],
    };
    webview.html = messageHtml(vscode.l10n.t('Building the graph of {0}...', path.basename(archive.fsPath)), false);

    try {
      const graph = await this.client.sendRequest(GraphRequest, { uri: archive.toString() });
      const strings = graphWebviewStrings(vscode);

      // Attach before the page loads, so that its first `ready` message finds the listener.
      const attachment = attachGraphWebview(webview, this.extensionUri, graph, {
        reveal: (record, range) => {
          showCodeRecord(archive, record, range, vscode.ViewColumn.Beside).then(undefined, (error: unknown) => {
            this.logger.error(`Failed to open ${record} of ${archive.fsPath}`, error);
            void vscode.window.showErrorMessage(vscode.l10n.t('Could not open {0}: {1}', record, error instanceof Error ? error.message : String(error)));
          });
        },
        exportSvg: (svg) => this.exportSvg(archive, svg),
      });
      panel.onDidDispose(() => attachment.dispose());
      webview.html = renderGraphHtml(webview, this.extensionUri, strings);
    } catch (error) {
      this.logger.error(`Failed to show the graph of ${archive.fsPath}`, error);
      webview.html = messageHtml(vscode.l10n.t('The graph of {0} could not be built: {1}', path.basename(archive.fsPath), error instanceof Error ? error.message : String(error)), true);
    }
  }

  private async exportSvg(archive: vscode.Uri, svg: string): Promise<void> {
    const stem = path.basename(archive.fsPath, path.extname(archive.fsPath));
    const target = await vscode.window.showSaveDialog({
      title: vscode.l10n.t('Export the graph as SVG'),
      defaultUri: vscode.Uri.joinPath(archive, '..', `${stem}.graph.svg`),
      filters: { SVG: ['svg'] },
    });
    if (!target) return;

    await vscode.workspace.fs.writeFile(target, Buffer.from(svg, 'utf8'));
    this.logger.info(`Exported the graph of ${archive.fsPath} to ${target.fsPath}`);
  }
}
