/**
 * A minimal LSP client for the protocol tests: it starts the bundled server (dist/server.js)
 * as a child process over stdio and speaks JSON-RPC to it as an editor would. It replies
 * to the server's requests for settings and registrations.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import {
  type ClientCapabilities,
  CodeLensRefreshRequest,
  ConfigurationRequest,
  createProtocolConnection,
  type Diagnostic,
  DidChangeConfigurationNotification,
  ExitNotification,
  type InitializeResult,
  InitializeRequest,
  InitializedNotification,
  LogMessageNotification,
  type MessageType,
  type ProtocolConnection,
  PublishDiagnosticsNotification,
  RegistrationRequest,
  ShutdownRequest,
  StreamMessageReader,
  StreamMessageWriter,
  TextDocumentContentRefreshRequest,
  WorkDoneProgress,
  type WorkDoneProgressBegin,
  type WorkDoneProgressEnd,
  type WorkDoneProgressReport,
} from 'vscode-languageserver-protocol/node';
import type { ServerSettings } from '../../server/src/lsp/protocol';

export const repoRoot = path.resolve(__dirname, '..', '..');
export const serverBundle = path.join(repoRoot, 'dist', 'server.js');

/** What VS Code 1.100 announces for the features this server uses. */
export const VSCODE_CAPABILITIES: ClientCapabilities = {
  workspace: {
    configuration: true,
    didChangeConfiguration: { dynamicRegistration: true },
    didChangeWatchedFiles: { dynamicRegistration: true },
    executeCommand: { dynamicRegistration: true },
    textDocumentContent: { dynamicRegistration: true },
    codeLens: { refreshSupport: true },
  },
  textDocument: {
    synchronization: { dynamicRegistration: true },
    publishDiagnostics: { relatedInformation: true, codeDescriptionSupport: true, dataSupport: true },
    codeAction: {
      dynamicRegistration: true,
      dataSupport: true,
      codeActionLiteralSupport: { codeActionKind: { valueSet: ['', 'quickfix', 'refactor', 'source'] } },
    },
  },
  window: { workDoneProgress: true },
};

export class LspTestClient {
  readonly connection: ProtocolConnection;
  /** The latest diagnostics per document URI, as published. */
  readonly diagnostics = new Map<string, Diagnostic[]>();
  readonly logs: { type: MessageType; message: string }[] = [];
  readonly refreshedUris: string[] = [];
  codeLensRefreshes = 0;
  readonly registrations: string[] = [];
  settings: ServerSettings = { expectedDevice: '' };
  initializeResult?: InitializeResult;
  private readonly child: ChildProcess;
  private stderr = '';
  private readonly diagnosticListeners = new Set<() => void>();

  private constructor() {
    this.child = spawn(process.execPath, [serverBundle, '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString('utf8')));
    this.connection = createProtocolConnection(new StreamMessageReader(this.child.stdout!), new StreamMessageWriter(this.child.stdin!));

    this.connection.onNotification(PublishDiagnosticsNotification.type, ({ uri, diagnostics }) => {
      this.diagnostics.set(uri, diagnostics);
      this.diagnosticListeners.forEach((listener) => listener());
    });
    this.connection.onNotification(LogMessageNotification.type, (params) => {
      this.logs.push(params);
    });
    this.connection.onRequest(ConfigurationRequest.type, (params) => params.items.map(() => this.settings));
    this.connection.onRequest(RegistrationRequest.type, (params) => {
      this.registrations.push(...params.registrations.map((registration) => registration.method));
    });
    this.connection.onRequest(CodeLensRefreshRequest.type, () => {
      this.codeLensRefreshes++;
    });
    this.connection.onRequest(TextDocumentContentRefreshRequest.type, ({ uri }) => {
      this.refreshedUris.push(uri);
    });
    this.connection.listen();
  }

  /** Starts the server and completes the initialize handshake. */
  static async start(capabilities: ClientCapabilities = VSCODE_CAPABILITIES): Promise<LspTestClient> {
    const client = new LspTestClient();
    client.initializeResult = await client.connection.sendRequest(InitializeRequest.type, {
      processId: process.pid,
      rootUri: null,
      capabilities,
      workspaceFolders: null,
    });
    await client.connection.sendNotification(InitializedNotification.type, {});
    return client;
  }

  /** Output the server wrote to stderr, for failure messages. */
  get serverStderr(): string {
    return this.stderr;
  }

  /** Resolves once `predicate` holds for the published diagnostics; rejects after `timeoutMs`. */
  waitForDiagnostics<T>(description: string, predicate: (diagnostics: Map<string, Diagnostic[]>) => T | undefined, timeoutMs = 30_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const result = predicate(this.diagnostics);
        if (result === undefined) return;
        cleanup();
        resolve(result);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${description}. Published: ${JSON.stringify([...this.diagnostics.keys()])}. Server stderr: ${this.stderr}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.diagnosticListeners.delete(check);
      };
      this.diagnosticListeners.add(check);
      check();
    });
  }

  /** Changes the settings the client returns and notifies the server, as VS Code does after a settings edit. */
  async changeSettings(settings: ServerSettings): Promise<void> {
    this.settings = settings;
    await this.connection.sendNotification(DidChangeConfigurationNotification.type, { settings: null });
  }

  /** Collects the `$/progress` notifications sent for a work-done token. */
  collectProgress(token: string): (WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd)[] {
    const values: (WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd)[] = [];
    this.connection.onProgress(WorkDoneProgress.type, token, (value) => {
      values.push(value);
    });
    return values;
  }

  /** Shuts the server down politely; kills it if it does not exit within 5 seconds. */
  async stop(): Promise<number | null> {
    const exited = new Promise<number | null>((resolve) => this.child.once('exit', (code) => resolve(code)));
    if (this.child.exitCode !== null) return this.child.exitCode;
    try {
      await this.connection.sendRequest(ShutdownRequest.type);
      await this.connection.sendNotification(ExitNotification.type);
    } catch {
      // The server has already exited, and the exit code shows how it ended.
    }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    const code = await exited;
    clearTimeout(timer);
    this.connection.dispose();
    return code;
  }
}
