/**
 * The TorchScript device language server. It translates between LSP and the engine:
 * archives become diagnostics, code records become read-only documents, and the retarget
 * command writes a new archive. It contains no archive or pickle logic of its own.
 */
import * as path from 'node:path';
import * as l10n from '@vscode/l10n';
import {
  type CancellationToken,
  type CodeActionParams,
  type CodeLens,
  type CodeLensParams,
  CodeLensRefreshRequest,
  type Connection,
  type Diagnostic,
  DidChangeConfigurationNotification,
  type DidChangeWatchedFilesParams,
  ErrorCodes,
  type ExecuteCommandParams,
  FileChangeType,
  type InitializeParams,
  type InitializeResult,
  LSPErrorCodes,
  ResponseError,
  type TextDocumentContentParams,
  type TextDocumentContentResult,
  TextDocumentSyncKind,
  type WorkDoneProgressReporter,
  CodeActionKind,
} from 'vscode-languageserver';
import type { FileReport } from '../analysis/types';
import { deviceSyntaxHelp, isDeviceString } from '../device';
import { analyzeFile, buildGraph, defaultOutputPath, readCodeRecords, retargetFile, warmUpEngine, type RetargetResult } from '../engine';
import { extractGraph } from '../graph/extractGraph';
import type { ModelGraph } from '../graph/graphTypes';
import { deviceDiagnosticData, retargetCodeActions, retargetCodeLenses } from './codeActions';
import { diagnosticsForReport } from './diagnostics';
import {
  CODE_SCHEME,
  DefaultOutputRequest,
  DescribeRequest,
  type DeviceDiagnosticData,
  GraphRequest,
  type InitializationOptions,
  SERVER_RETARGET_COMMAND,
  type ServerRetargetArguments,
  type ServerSettings,
} from './protocol';
import { codeRecordUri, fileUriFromPath, hasArchiveExtension, parseCodeRecordUri, pathFromFileUri } from './uris';

const DEFAULT_SETTINGS: ServerSettings = { expectedDevice: '' };

/** An archive the client has shown interest in: opened, described, or one of its code records opened. */
interface TrackedArchive {
  path: string;
  /** The archive's `file` URI as this server prints it. */
  uri: string;
  /** The diagnostics last published, by document URI. */
  published: Map<string, Diagnostic[]>;
  /** Increases with every analysis, so that a slower, older one does not publish over a newer one. */
  analysisVersion: number;
  latestAnalysis?: Promise<FileReport>;
}

type CodeRecord = { record: string; text: string };

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class TorchScriptLanguageServer {
  private readonly connection: Connection;
  private readonly archives = new Map<string, TrackedArchive>();
  /** Decoded code records per archive path, until the archive changes on disk. */
  private readonly codeRecords = new Map<string, Promise<CodeRecord[]>>();
  /** Open code record documents: the URI as the client sent it, and the archive path. */
  private readonly openCodeDocuments = new Map<string, string>();
  private hasConfigurationCapability = false;
  private hasDynamicConfigurationRegistration = false;
  private hasTextDocumentContentCapability = false;
  private hasCodeLensRefreshCapability = false;
  private warnedExpectedDevice = '';

  constructor(connection: Connection) {
    this.connection = connection;

    connection.onInitialize((params) => this.initialize(params));
    connection.onInitialized(() => this.initialized());
    connection.onDidOpenTextDocument(({ textDocument }) => this.didOpen(textDocument.uri));
    connection.onDidCloseTextDocument(({ textDocument }) => {
      this.openCodeDocuments.delete(textDocument.uri);
    });
    connection.onDidChangeWatchedFiles((params) => this.didChangeWatchedFiles(params));
    connection.onDidChangeConfiguration(() => this.reanalyzeAll());
    connection.workspace.textDocumentContent.on((params, token) => this.provideCodeRecord(params, token));
    connection.onCodeAction((params) => this.codeActions(params));
    connection.onCodeLens((params) => this.codeLenses(params));
    connection.onExecuteCommand((params, token, progress) => this.executeCommand(params, token, progress));
    connection.onRequest(DescribeRequest, ({ uri }) => this.describe(uri));
    connection.onRequest(GraphRequest, ({ uri, rootClass }) => this.graph(uri, rootClass));
    connection.onRequest(DefaultOutputRequest, ({ uri, device }) => this.defaultOutput(uri, device));
  }

  /** Starts reading messages from the connection. */
  listen(): void {
    this.connection.listen();
  }

  private initialize(params: InitializeParams): InitializeResult {
    const capabilities = params.capabilities;
    this.hasConfigurationCapability = capabilities.workspace?.configuration === true;
    this.hasDynamicConfigurationRegistration = capabilities.workspace?.didChangeConfiguration?.dynamicRegistration === true;
    this.hasTextDocumentContentCapability = capabilities.workspace?.textDocumentContent !== undefined;
    this.hasCodeLensRefreshCapability = capabilities.workspace?.codeLens?.refreshSupport === true;

    const options = params.initializationOptions as InitializationOptions | undefined;
    if (typeof options?.l10nBundlePath === 'string') {
      try {
        l10n.config({ fsPath: options.l10nBundlePath });
      } catch (error) {
        this.connection.console.error(`Failed to load the l10n bundle ${options.l10nBundlePath}; messages stay in English: ${errorMessage(error)}`);
      }
    }

    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.None },
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
        codeLensProvider: { resolveProvider: false },
        executeCommandProvider: { commands: [SERVER_RETARGET_COMMAND] },
        workspace: { textDocumentContent: { schemes: [CODE_SCHEME] } },
      },
      serverInfo: { name: 'torchscript-device' },
    };
  }

  private initialized(): void {
    if (this.hasDynamicConfigurationRegistration) {
      void this.connection.client.register(DidChangeConfigurationNotification.type, { section: 'torchscriptDevice' });
    }
    this.connection.console.info('TorchScript device server started');

    // Compile the Python grammar's wasm and the analysis code now, before the first archive
    // opens, so that the first diagnostics do not wait for them.
    warmUpEngine().catch((error: unknown) => {
      this.connection.console.error(`Failed to load the tree-sitter Python grammar: ${errorMessage(error)}`);
    });
  }

  private async settingsFor(archiveUri: string): Promise<ServerSettings> {
    if (!this.hasConfigurationCapability) return DEFAULT_SETTINGS;

    let value: unknown;
    try {
      value = await this.connection.workspace.getConfiguration({ scopeUri: archiveUri, section: 'torchscriptDevice' });
    } catch (error) {
      this.connection.console.error(`Failed to read the torchscriptDevice settings for ${archiveUri}: ${errorMessage(error)}`);
      return DEFAULT_SETTINGS;
    }

    const expectedDevice = (value as Partial<ServerSettings> | null)?.expectedDevice;
    if (typeof expectedDevice !== 'string' || expectedDevice === '') return DEFAULT_SETTINGS;
    if (!isDeviceString(expectedDevice)) {
      if (this.warnedExpectedDevice !== expectedDevice) {
        this.warnedExpectedDevice = expectedDevice;
        this.connection.console.warn(`Ignoring torchscriptDevice.expectedDevice: ${deviceSyntaxHelp(expectedDevice)}`);
      }
      return DEFAULT_SETTINGS;
    }
    return { expectedDevice };
  }

  private track(fsPath: string): TrackedArchive {
    const key = path.resolve(fsPath);
    let archive = this.archives.get(key);
    if (!archive) {
      archive = { path: key, uri: fileUriFromPath(key), published: new Map(), analysisVersion: 0 };
      this.archives.set(key, archive);
    }
    return archive;
  }

  /** Analyses the archive and publishes its diagnostics, unless a newer analysis started meanwhile. */
  private analyze(archive: TrackedArchive): Promise<FileReport> {
    const version = ++archive.analysisVersion;
    const analysis = (async () => {
      const settings = await this.settingsFor(archive.uri);
      const started = Date.now();
      let report: FileReport;
      try {
        report = await analyzeFile(archive.path, settings.expectedDevice === '' ? undefined : { expectedDevice: settings.expectedDevice });
      } catch (error) {
        // analyzeFile reports bad files in `error`; a throw is a bug, shown as a read error all the same.
        this.connection.console.error(`Analysis of ${archive.path} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        report = { path: archive.path, kind: 'not-pytorch', error: errorMessage(error), findings: [] };
      }

      // The engine's error message starts with the file name.
      if (report.error !== undefined) this.connection.console.warn(report.error);
      this.connection.console.debug(`Analysed ${archive.path} in ${Date.now() - started} ms: ${report.findings.length} findings`);
      if (version === archive.analysisVersion) this.publish(archive, diagnosticsForReport(report, archive.uri));
      return report;
    })();
    archive.latestAnalysis = analysis;
    return analysis;
  }

  private publish(archive: TrackedArchive, diagnostics: Map<string, Diagnostic[]>): void {
    const send = (uri: string, list: Diagnostic[]) => {
      this.connection.sendDiagnostics({ uri, diagnostics: list }).catch((error: unknown) => {
        this.connection.console.error(`Failed to publish diagnostics for ${uri}: ${errorMessage(error)}`);
      });
    };

    for (const uri of archive.published.keys()) {
      if (!diagnostics.has(uri)) send(uri, []);
    }
    for (const [uri, list] of diagnostics) send(uri, list);
    archive.published = diagnostics;

    // The code lenses of the archive's code records come from these diagnostics.
    if (this.hasCodeLensRefreshCapability) {
      this.connection.sendRequest(CodeLensRefreshRequest.type).catch((error: unknown) => {
        this.connection.console.error(`Failed to refresh the code lenses of ${archive.path}: ${errorMessage(error)}`);
      });
    }
  }

  private reanalyzeAll(): void {
    for (const archive of this.archives.values()) void this.analyze(archive);
  }

  private didOpen(uri: string): void {
    const code = parseCodeRecordUri(uri);
    if (code) {
      const archivePath = pathFromFileUri(code.archiveUri)!;
      this.openCodeDocuments.set(uri, path.resolve(archivePath));
      const archive = this.track(archivePath);
      if (!archive.latestAnalysis) void this.analyze(archive);
      return;
    }

    const fsPath = pathFromFileUri(uri);
    if (fsPath === undefined || !hasArchiveExtension(fsPath)) return;
    void this.analyze(this.track(fsPath));
  }

  private didChangeWatchedFiles(params: DidChangeWatchedFilesParams): void {
    for (const change of params.changes) {
      const fsPath = pathFromFileUri(change.uri);
      if (fsPath === undefined) continue;
      const archive = this.archives.get(path.resolve(fsPath));
      if (!archive) continue;

      this.codeRecords.delete(archive.path);
      if (change.type === FileChangeType.Deleted) {
        archive.analysisVersion++;
        this.publish(archive, new Map());
      } else {
        void this.analyze(archive);
      }
      this.refreshCodeDocuments(archive.path);
    }
  }

  /** Asks the client to fetch the text of the archive's open code records again. */
  private refreshCodeDocuments(archivePath: string): void {
    if (!this.hasTextDocumentContentCapability) return;
    for (const [uri, openArchivePath] of this.openCodeDocuments) {
      if (openArchivePath !== archivePath) continue;
      this.connection.workspace.textDocumentContent.refresh(uri).catch((error: unknown) => {
        this.connection.console.error(`Failed to refresh ${uri}: ${errorMessage(error)}`);
      });
    }
  }

  private readRecords(archivePath: string): Promise<CodeRecord[]> {
    let records = this.codeRecords.get(archivePath);
    if (!records) {
      records = readCodeRecords(archivePath);
      this.codeRecords.set(archivePath, records);
      // A failed read is not cached, so that the next request tries again.
      records.catch(() => this.codeRecords.delete(archivePath));
    }
    return records;
  }

  private async provideCodeRecord(params: TextDocumentContentParams, token: CancellationToken): Promise<TextDocumentContentResult> {
    const address = parseCodeRecordUri(params.uri);
    if (!address) throw new ResponseError(ErrorCodes.InvalidParams, `Not a ${CODE_SCHEME} URI: ${params.uri}`);
    const archivePath = path.resolve(pathFromFileUri(address.archiveUri)!);

    let records: CodeRecord[];
    try {
      records = await this.readRecords(archivePath);
    } catch (error) {
      this.connection.console.error(`Failed to read the code records of ${archivePath}: ${errorMessage(error)}`);
      throw new ResponseError(LSPErrorCodes.RequestFailed, errorMessage(error));
    }
    if (token.isCancellationRequested) throw new ResponseError(LSPErrorCodes.RequestCancelled, 'Request cancelled');

    const found = records.find((candidate) => candidate.record === address.record);
    if (!found) {
      const message = `${archivePath}: code record ${address.record} not found; the archive has ${records.map((candidate) => candidate.record).join(', ') || 'no code records'}`;
      this.connection.console.error(message);
      throw new ResponseError(LSPErrorCodes.RequestFailed, message);
    }
    return { text: found.text };
  }

  private archivePathOf(uri: string): string {
    const fsPath = pathFromFileUri(uri);
    if (fsPath === undefined) throw new ResponseError(ErrorCodes.InvalidParams, `Expected a file URI, got ${uri}`);
    return path.resolve(fsPath);
  }

  private async describe(uri: string): Promise<FileReport> {
    const archive = this.track(this.archivePathOf(uri));
    return this.analyze(archive);
  }

  private async graph(uri: string, rootClass: string | undefined): Promise<ModelGraph> {
    const archivePath = this.archivePathOf(uri);
    try {
      if (rootClass === undefined) return await buildGraph(archivePath);
      return await extractGraph(await this.readRecords(archivePath), rootClass);
    } catch (error) {
      this.connection.console.error(`Failed to build the graph of ${archivePath}: ${errorMessage(error)}`);
      throw new ResponseError(LSPErrorCodes.RequestFailed, errorMessage(error));
    }
  }

  private defaultOutput(uri: string, device: string): { uri: string } {
    const archivePath = this.archivePathOf(uri);
    if (!isDeviceString(device)) throw new ResponseError(ErrorCodes.InvalidParams, deviceSyntaxHelp(device));
    return { uri: fileUriFromPath(defaultOutputPath(archivePath, device)) };
  }

  /** Finds the data of a diagnostic this server published, for clients that drop `data`. */
  private lookupDiagnosticData(documentUri: string, diagnostic: Diagnostic): DeviceDiagnosticData | undefined {
    for (const archive of this.archives.values()) {
      const published = archive.published.get(documentUri);
      const match = published?.find(
        (candidate) =>
          candidate.code === diagnostic.code &&
          candidate.range.start.line === diagnostic.range.start.line &&
          candidate.range.start.character === diagnostic.range.start.character &&
          candidate.range.end.line === diagnostic.range.end.line &&
          candidate.range.end.character === diagnostic.range.end.character,
      );
      if (match) return deviceDiagnosticData(match);
    }
    return undefined;
  }

  private codeActions(params: CodeActionParams) {
    return retargetCodeActions(params.context.diagnostics, (diagnostic) => this.lookupDiagnosticData(params.textDocument.uri, diagnostic));
  }

  /** Returns the retarget lenses of a code record, once the analysis of its archive has finished. */
  private async codeLenses(params: CodeLensParams): Promise<CodeLens[]> {
    const address = parseCodeRecordUri(params.textDocument.uri);
    if (!address) return [];
    const archive = this.archives.get(path.resolve(pathFromFileUri(address.archiveUri)!));
    if (!archive?.latestAnalysis) return [];

    await archive.latestAnalysis;
    return retargetCodeLenses(archive.published.get(codeRecordUri(archive.uri, address.record)) ?? []);
  }

  private parseRetargetArguments(params: ExecuteCommandParams): ServerRetargetArguments {
    const args = params.arguments?.[0] as Partial<ServerRetargetArguments> | undefined;
    if (typeof args?.input !== 'string' || typeof args.device !== 'string') {
      throw new ResponseError(ErrorCodes.InvalidParams, `${SERVER_RETARGET_COMMAND} expects one argument { input, device, output?, force? } with file URIs`);
    }
    if (args.output !== undefined && typeof args.output !== 'string') {
      throw new ResponseError(ErrorCodes.InvalidParams, `${SERVER_RETARGET_COMMAND}: output must be a file URI`);
    }
    if (!isDeviceString(args.device)) throw new ResponseError(ErrorCodes.InvalidParams, deviceSyntaxHelp(args.device));
    return { input: args.input, device: args.device, output: args.output, force: args.force === true };
  }

  private async executeCommand(params: ExecuteCommandParams, token: CancellationToken, progress: WorkDoneProgressReporter): Promise<RetargetResult> {
    if (params.command !== SERVER_RETARGET_COMMAND) throw new ResponseError(ErrorCodes.InvalidParams, `Unknown command ${params.command}`);
    const args = this.parseRetargetArguments(params);
    const inputPath = this.archivePathOf(args.input);
    const outputPath = args.output === undefined ? undefined : this.archivePathOf(args.output);

    // A token that is already cancelled calls its listener only on a later timer tick, so check it now.
    const controller = new AbortController();
    if (token.isCancellationRequested) controller.abort();
    const cancellation = token.onCancellationRequested(() => controller.abort());
    let reportedPercentage = 0;
    progress.begin(l10n.t('Retargeting {0} to {1}', path.basename(inputPath), args.device), 0, undefined, true);

    try {
      const result = await retargetFile(inputPath, args.device, {
        output: outputPath,
        force: args.force,
        signal: controller.signal,
        onProgress: (fraction) => {
          const percentage = Math.floor(Math.min(1, Math.max(0, fraction)) * 100);
          if (percentage <= reportedPercentage) return;
          reportedPercentage = percentage;
          progress.report(percentage);
        },
      });
      this.connection.console.info(`Retargeted ${result.input} to ${result.device}: ${result.changes.length} changes written to ${result.output}`);

      // The client's file watcher covers the workspace only; an output elsewhere that the user has open is analysed here.
      const output = this.archives.get(path.resolve(result.output));
      if (output) {
        this.codeRecords.delete(output.path);
        void this.analyze(output);
        this.refreshCodeDocuments(output.path);
      }
      return result;
    } catch (error) {
      if (controller.signal.aborted) {
        this.connection.console.info(`Retarget of ${inputPath} to ${args.device} cancelled`);
        throw new ResponseError(LSPErrorCodes.RequestCancelled, `Retarget of ${inputPath} cancelled`);
      }
      this.connection.console.error(`Retarget of ${inputPath} to ${args.device} failed: ${errorMessage(error)}`);
      throw new ResponseError(LSPErrorCodes.RequestFailed, errorMessage(error));
    } finally {
      cancellation.dispose();
      progress.done();
    }
  }
}
