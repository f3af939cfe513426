import * as vscode from 'vscode';
import {
  CloseAction,
  type CloseHandlerResult,
  ErrorAction,
  type ErrorHandler,
  type ErrorHandlerResult,
  LanguageClient,
  type LanguageClientOptions,
  type Message,
  type ServerOptions,
  TransportKind,
} from 'vscode-languageclient/node';
import { ARCHIVE_GLOB, CODE_SCHEME, type InitializationOptions } from '../../server/src/lsp/protocol';
import type { Logger } from './logger';

/** The server is restarted at most this many times within {@link RESTART_WINDOW_MS}. */
const MAX_RESTARTS = 4;
const RESTART_WINDOW_MS = 3 * 60 * 1000;

/**
 * Restarts a crashed server, but stops after {@link MAX_RESTARTS} crashes within three
 * minutes, so that a server that crashes on start does not loop forever.
 */
export class ServerErrorHandler implements ErrorHandler {
  private readonly restarts: number[] = [];

  constructor(private readonly logger: Logger) {}

  error(error: Error, message: Message | undefined, count: number | undefined): ErrorHandlerResult {
    this.logger.error(`Connection to the language server failed (${count ?? 1} in a row)`, error);
    if (count !== undefined && count <= 3) return { action: ErrorAction.Continue };
    return { action: ErrorAction.Shutdown };
  }

  closed(): CloseHandlerResult {
    const now = Date.now();
    this.restarts.push(now);
    while (this.restarts.length > 0 && now - this.restarts[0] > RESTART_WINDOW_MS) this.restarts.shift();

    if (this.restarts.length <= MAX_RESTARTS) {
      this.logger.warn(`The language server stopped; restarting it (${this.restarts.length} of ${MAX_RESTARTS} restarts in 3 minutes)`);
      return { action: CloseAction.Restart };
    }

    const message = vscode.l10n.t(
      'The TorchScript Device language server stopped {0} times in the last 3 minutes and will not be restarted. See the "TorchScript Device" output for details.',
      this.restarts.length,
    );
    this.logger.error(message);
    return { action: CloseAction.DoNotRestart, message };
  }
}

/** Creates the language client that runs dist/server.js over node IPC. The caller starts it. */
export function createLanguageClient(context: vscode.ExtensionContext, logger: Logger): LanguageClient {
  const serverModule = vscode.Uri.joinPath(context.extensionUri, 'dist', 'server.js').fsPath;
  const serverOptions: ServerOptions = {
    run: { module: serverModule, transport: TransportKind.ipc },
    debug: { module: serverModule, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6011'] } },
  };

  const initializationOptions: InitializationOptions = { l10nBundlePath: vscode.l10n.uri?.fsPath };
  const watcher = vscode.workspace.createFileSystemWatcher(ARCHIVE_GLOB);
  context.subscriptions.push(watcher);

  const clientOptions: LanguageClientOptions = {
    // Code record documents, and archives a user opens as text, for their quick fixes.
    documentSelector: [{ scheme: CODE_SCHEME }, { scheme: 'file', pattern: ARCHIVE_GLOB }],
    synchronize: { fileEvents: watcher },
    outputChannel: logger.channel,
    traceOutputChannel: logger.channel,
    initializationOptions,
    errorHandler: new ServerErrorHandler(logger),
    diagnosticCollectionName: 'torchscript-device',
  };

  return new LanguageClient('torchscriptDevice', vscode.l10n.t('TorchScript Device'), serverOptions, clientOptions);
}
