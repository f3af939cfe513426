/**
 * Protocol tests of the bundled language server: each suite starts dist/server.js as a child
 * process and talks JSON-RPC over stdio, as VS Code does. Real archives come from the shared
 * fixtures (copied to a temporary folder before anything writes next to them), and real
 * PyTorch from .venv checks the archives the server writes.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CancellationTokenSource,
  CodeActionRequest,
  CodeLensRequest,
  type Diagnostic,
  DidChangeWatchedFilesNotification,
  DidCloseTextDocumentNotification,
  DidOpenTextDocumentNotification,
  ErrorCodes,
  ExecuteCommandRequest,
  FileChangeType,
  LSPErrorCodes,
  MessageType,
  type Range,
  ResponseError,
  TextDocumentContentRequest,
} from 'vscode-languageserver-protocol/node';
import type { FileReport } from '../../server/src/analysis/types';
import type { RetargetResult } from '../../server/src/engine';
import { SUMMARY_CODE, UNREADABLE_CODE } from '../../server/src/lsp/diagnostics';
import {
  CODE_SCHEME,
  Commands,
  DefaultOutputRequest,
  DescribeRequest,
  DIAGNOSTIC_SOURCE,
  GraphRequest,
  type RetargetCommandArguments,
  SERVER_RETARGET_COMMAND,
  type ServerRetargetArguments,
} from '../../server/src/lsp/protocol';
import { codeRecordUri, fileUriFromPath } from '../../server/src/lsp/uris';
import { LspTestClient, repoRoot } from './lspTestClient';

const realFixtures = path.resolve(repoRoot, '..', 'shared', 'fixtures', 'real');
const python = path.join(repoRoot, '.venv', 'bin', 'python');
const D2GO_RECORD = 'code/__torch__/___torch_mangle_636.py';

interface TorchView {
  graphDevices: string[];
  codeDeviceLiterals: string[];
  loadsOnCpu: boolean;
  loadError: string | null;
}

/** Loads an archive with real PyTorch and returns its devices (test/protocol/torch_devices.py). */
function torchView(archive: string): TorchView {
  if (!fs.existsSync(python)) throw new Error(`${python} is missing; run scripts/setup-python.sh first`);
  const output = execFileSync(python, [path.join(__dirname, 'torch_devices.py'), archive], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
  return JSON.parse(output) as TorchView;
}

/** Decoded code records read with Python's zipfile, an independent zip reader. */
function zipfileCodeRecords(archive: string): Map<string, string> {
  const script = 'import json,sys,zipfile\nz=zipfile.ZipFile(sys.argv[1])\nprint(json.dumps({n.split("/",1)[1]: z.read(n).decode("utf-8") for n in z.namelist() if "/code/" in n and n.endswith(".py")}))';
  return new Map(Object.entries(JSON.parse(execFileSync('python3', ['-c', script, archive], { encoding: 'utf8', maxBuffer: 64 << 20 })) as Record<string, string>));
}

function textAt(text: string, range: Range): string {
  assert.equal(range.start.line, range.end.line, 'device ranges stay on one line');
  return text.split('\n')[range.start.line].slice(range.start.character, range.end.character);
}

function copyFixture(name: string, folder: string, as = name): string {
  const target = path.join(folder, as);
  fs.copyFileSync(path.join(realFixtures, name), target);
  fs.chmodSync(target, 0o644);
  return target;
}

function openArchive(client: LspTestClient, uri: string): Promise<void> {
  // VS Code sends the bytes of a binary file it opens as text; the server reads the file itself.
  return client.connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'plaintext', version: 1, text: 'PK\u0003\u0004' } });
}

async function retarget(client: LspTestClient, args: ServerRetargetArguments, workDoneToken?: string): Promise<RetargetResult> {
  return (await client.connection.sendRequest(ExecuteCommandRequest.type, { command: SERVER_RETARGET_COMMAND, arguments: [args], workDoneToken })) as RetargetResult;
}

async function rejection(promise: Promise<unknown>): Promise<ResponseError<unknown>> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ResponseError, `expected a ResponseError, got ${String(error)}`);
    return error;
  }
  assert.fail('the request succeeded');
}

describe('language server over stdio', () => {
  let client: LspTestClient;
  let folder: string;

  before(async () => {
    assert.ok(fs.existsSync(path.join(repoRoot, 'dist', 'server.js')), 'dist/server.js is missing; run npm run build');
    folder = fs.mkdtempSync(path.join(os.tmpdir(), 'torchscript-lsp-'));
    client = await LspTestClient.start();
  });

  after(async () => {
    const exitCode = await client.stop();
    fs.rmSync(folder, { recursive: true, force: true });
    assert.equal(exitCode, 0, `the server exits cleanly after shutdown; stderr: ${client.serverStderr}`);
  });

  it('announces its capabilities', async () => {
    const capabilities = client.initializeResult!.capabilities;
    assert.deepEqual(capabilities.workspace?.textDocumentContent, { schemes: [CODE_SCHEME] });
    assert.deepEqual(capabilities.executeCommandProvider?.commands, [SERVER_RETARGET_COMMAND]);
    assert.deepEqual(capabilities.codeActionProvider, { codeActionKinds: ['quickfix'] });
    assert.deepEqual(capabilities.codeLensProvider, { resolveProvider: false });
    assert.deepEqual(capabilities.textDocumentSync, { openClose: true, change: 0 });
    // The server registers for configuration changes after `initialized`, so the request may still be on its way.
    const deadline = Date.now() + 10_000;
    while (!client.registrations.includes('workspace/didChangeConfiguration') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.ok(client.registrations.includes('workspace/didChangeConfiguration'), `registrations: ${client.registrations.join(', ')}`);
  });

  describe('d2go_optimized.pt', () => {
    let archive: string;
    let archiveUri: string;
    let codeUri: string;
    let zipfileText: string;

    before(() => {
      archive = copyFixture('d2go_optimized.pt', folder);
      archiveUri = fileUriFromPath(archive);
      codeUri = codeRecordUri(archiveUri, D2GO_RECORD);
      zipfileText = zipfileCodeRecords(archive).get(D2GO_RECORD)!;
    });

    it('publishes 21 cpu diagnostics with exact ranges', async () => {
      await openArchive(client, archiveUri);
      const diagnostics = await client.waitForDiagnostics('code diagnostics of d2go', (published) => published.get(codeUri));

      const literals = torchView(archive).codeDeviceLiterals;
      assert.equal(literals.length, 21);
      assert.equal(diagnostics.length, literals.length);
      for (const diagnostic of diagnostics) {
        assert.equal(textAt(zipfileText, diagnostic.range), 'torch.device("cpu")');
        assert.equal(diagnostic.code, 'code-device-literal');
        assert.equal(diagnostic.source, DIAGNOSTIC_SOURCE);
        assert.match(diagnostic.message as string, /cpu/);
      }
      const lines = new Set(diagnostics.map((diagnostic) => `${diagnostic.range.start.line}:${diagnostic.range.start.character}`));
      assert.equal(lines.size, 21, 'each literal is reported once');
    });

    it('summarizes the archive on the .pt file', async () => {
      const [summary] = await client.waitForDiagnostics('the summary of d2go', (published) => published.get(archiveUri));
      assert.equal(summary.code, SUMMARY_CODE);
      assert.deepEqual(summary.range, { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } });
      assert.match(summary.message as string, /^1 hard-coded device: cpu \(21 in code, \d+ tensor constant storages\)$/);

      // The tensor constants' uses point into the code record, at `CONSTANTS.cN`.
      const uses = (summary.relatedInformation ?? []).filter((related) => related.location.uri === codeUri);
      assert.ok(uses.length > 0, 'the summary links the code lines that use tensor constants');
      for (const use of uses) assert.match(textAt(zipfileText, use.location.range), /^CONSTANTS\.c\d+$/);
      assert.match(summary.relatedInformation![0].message, /^constants\.pkl: Tensor constants are stored on cpu/);
    });

    it('serves the code record as a document', async () => {
      const result = await client.connection.sendRequest(TextDocumentContentRequest.type, { uri: codeUri });
      assert.equal(result.text, zipfileText);

      // The raw `archive=` form of the query names the same record.
      const rawForm = `${CODE_SCHEME}:/d2go_optimized.pt/${D2GO_RECORD}?archive=${encodeURIComponent(archiveUri)}`;
      assert.equal((await client.connection.sendRequest(TextDocumentContentRequest.type, { uri: rawForm })).text, zipfileText);
    });

    it('rejects a missing code record', async () => {
      const error = await rejection(client.connection.sendRequest(TextDocumentContentRequest.type, { uri: codeRecordUri(archiveUri, 'code/__torch__/missing.py') }));
      assert.equal(error.code, LSPErrorCodes.RequestFailed);
      assert.match(error.message, /code record code\/__torch__\/missing\.py not found/);
      assert.match(error.message, new RegExp(D2GO_RECORD.replace(/[.]/g, '\\.')));
      assert.ok(client.logs.some((log) => log.type === MessageType.Error && log.message.includes(archive) && log.message.includes('missing.py')));
    });

    it('offers quick fixes on a code diagnostic', async () => {
      const [diagnostic] = client.diagnostics.get(codeUri)!;
      const actions = await client.connection.sendRequest(CodeActionRequest.type, {
        textDocument: { uri: codeUri },
        range: diagnostic.range,
        context: { diagnostics: [diagnostic], only: ['quickfix'] },
      });

      assert.ok(actions);
      const titles = actions.map((action) => action.title);
      assert.deepEqual(titles, ['Retarget to cuda', 'Retarget to cuda:0', 'Choose device...']);
      for (const action of actions) {
        assert.ok('command' in action && action.command !== undefined && typeof action.command !== 'string');
        assert.equal(action.command.command, Commands.retarget);
        assert.equal((action.command.arguments![0] as RetargetCommandArguments).archive, archiveUri);
      }
    });

    it('puts retarget lenses on the code record', async () => {
      const lenses = await client.connection.sendRequest(CodeLensRequest.type, { textDocument: { uri: codeUri } });
      assert.deepEqual(
        lenses?.map((lens) => lens.command?.title),
        ['21 hard-coded devices (cpu)', 'Retarget to cuda', 'Retarget to cuda:0', 'Choose device...'],
      );
      assert.deepEqual(lenses?.[1].command?.arguments, [{ archive: archiveUri, device: 'cuda' }]);
    });

    it('finds quick fixes when data is dropped', async () => {
      const [summary] = client.diagnostics.get(archiveUri)!;
      const stripped: Diagnostic = { ...summary, data: undefined, relatedInformation: undefined };
      const actions = await client.connection.sendRequest(CodeActionRequest.type, {
        textDocument: { uri: archiveUri },
        range: summary.range,
        context: { diagnostics: [stripped] },
      });
      assert.deepEqual(
        actions?.map((action) => action.title),
        ['Retarget to cuda', 'Retarget to cuda:0', 'Choose device...'],
      );
    });

    it('names the default output after the device', async () => {
      const { uri } = await client.connection.sendRequest(DefaultOutputRequest, { uri: archiveUri, device: 'cuda:0' });
      assert.equal(path.dirname(new URL(uri).pathname), folder);
      assert.match(path.basename(new URL(uri).pathname), /^d2go_optimized\..*\.pt$/);

      const error = await rejection(client.connection.sendRequest(DefaultOutputRequest, { uri: archiveUri, device: 'gpu0' }));
      assert.equal(error.code, ErrorCodes.InvalidParams);
      assert.match(error.message, /invalid device "gpu0"/);
    });

    it('retargets to cuda, checked by PyTorch', async () => {
      const output = path.join(folder, 'd2go_optimized.cuda.pt');
      const progress = client.collectProgress('retarget-progress');
      const result = await retarget(client, { input: archiveUri, device: 'cuda', output: fileUriFromPath(output) }, 'retarget-progress');

      assert.equal(result.output, output);
      assert.equal(result.device, 'cuda');
      assert.equal(result.changes.filter((change) => change.record === D2GO_RECORD).length, 21);

      const torch = torchView(output);
      assert.deepEqual(new Set(torch.graphDevices), new Set(['cuda']));
      assert.equal(torch.codeDeviceLiterals.length, 21);
      assert.ok(torch.codeDeviceLiterals.every((device) => device === 'cuda'));
      assert.equal(torch.loadsOnCpu, false, 'the tensor constants now live on CUDA, so a CPU-only build cannot load them');
      assert.match(torch.loadError ?? '', /cuda/i);
      assert.equal(torchView(archive).loadsOnCpu, true, 'the input is unchanged');

      assert.equal(progress[0]?.kind, 'begin');
      assert.equal(progress.at(-1)?.kind, 'end');
      const percentages = progress.flatMap((value) => (value.kind === 'report' && value.percentage !== undefined ? [value.percentage] : []));
      assert.ok(percentages.length > 0, 'the server reports progress');
      assert.deepEqual(percentages, [...percentages].sort((a, b) => a - b));
    });

    it('refuses to overwrite without force', async () => {
      const output = path.join(folder, 'd2go_optimized.cuda.pt');
      const before = fs.statSync(output);
      const error = await rejection(retarget(client, { input: archiveUri, device: 'cuda:0', output: fileUriFromPath(output) }));
      assert.equal(error.code, LSPErrorCodes.RequestFailed);
      assert.match(error.message, /exists/);
      assert.equal(fs.statSync(output).mtimeMs, before.mtimeMs);
      assert.ok(client.logs.some((log) => log.type === MessageType.Error && log.message.includes(archive) && /exists/.test(log.message)));

      const forced = await retarget(client, { input: archiveUri, device: 'cuda:0', output: fileUriFromPath(output), force: true });
      assert.equal(forced.device, 'cuda:0');
      assert.deepEqual(new Set(torchView(output).graphDevices), new Set(['cuda:0']));
    });

    it('explains cuda:N with set_device', async () => {
      const pinned = path.join(folder, 'pinned.pt');
      await retarget(client, { input: archiveUri, device: 'cuda:1', output: fileUriFromPath(pinned) });
      assert.deepEqual(new Set(torchView(pinned).graphDevices), new Set(['cuda:1']));

      const pinnedUri = fileUriFromPath(pinned);
      const pinnedCodeUri = codeRecordUri(pinnedUri, D2GO_RECORD);
      await openArchive(client, pinnedUri);
      const diagnostics = await client.waitForDiagnostics('diagnostics of the cuda:1 archive', (published) => published.get(pinnedCodeUri));
      assert.equal(diagnostics.length, 21);
      for (const diagnostic of diagnostics) assert.match(diagnostic.message as string, /cuda:1.*torch\.cuda\.set_device/s);

      const [summary] = await client.waitForDiagnostics('the summary of the cuda:1 archive', (published) => published.get(pinnedUri));
      assert.match(summary.message as string, /^1 hard-coded device: cuda:1 .*torch\.cuda\.set_device/s);

      const actions = await client.connection.sendRequest(CodeActionRequest.type, {
        textDocument: { uri: pinnedCodeUri },
        range: diagnostics[0].range,
        context: { diagnostics: [diagnostics[0]] },
      });
      assert.deepEqual(
        actions?.map((action) => action.title),
        ['Retarget to cpu', 'Retarget to cuda', 'Retarget to cuda:0', 'Choose device...'],
      );
      assert.deepEqual(
        actions?.filter((action) => 'isPreferred' in action && action.isPreferred).map((action) => action.title),
        ['Retarget to cuda'],
      );
    });

    it('rejects an invalid device', async () => {
      const error = await rejection(retarget(client, { input: archiveUri, device: 'CUDA:01' }));
      assert.equal(error.code, ErrorCodes.InvalidParams);
      assert.match(error.message, /invalid device "CUDA:01": expected a PyTorch device/);
    });

    it('cancels a retarget without writing', async () => {
      const output = path.join(folder, 'cancelled.pt');
      const source = new CancellationTokenSource();
      const request = client.connection.sendRequest(
        ExecuteCommandRequest.type,
        { command: SERVER_RETARGET_COMMAND, arguments: [{ input: archiveUri, device: 'meta', output: fileUriFromPath(output) }] },
        source.token,
      );
      source.cancel();

      const error = await rejection(request);
      assert.equal(error.code, LSPErrorCodes.RequestCancelled);
      assert.equal(fs.existsSync(output), false);
      assert.deepEqual(fs.readdirSync(folder).filter((name) => name.startsWith('cancelled')), [], 'no temporary file is left');
    });

    it('refreshes when the archive changes on disk', async () => {
      client.refreshedUris.length = 0;
      const codeLensRefreshes = client.codeLensRefreshes;
      await client.connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri: codeUri, languageId: 'torchscript', version: 1, text: zipfileText } });

      fs.copyFileSync(path.join(folder, 'd2go_optimized.cuda.pt'), archive);
      await client.connection.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: archiveUri, type: FileChangeType.Changed }] });

      const diagnostics = await client.waitForDiagnostics('cuda:0 diagnostics after the change', (published) => {
        const list = published.get(codeUri);
        return list?.length === 21 && list.every((diagnostic) => (diagnostic.message as string).includes('cuda:0')) ? list : undefined;
      });
      const newText = (await client.connection.sendRequest(TextDocumentContentRequest.type, { uri: codeUri })).text;
      for (const diagnostic of diagnostics) assert.equal(textAt(newText, diagnostic.range), 'torch.device("cuda:0")');
      assert.deepEqual(client.refreshedUris, [codeUri], 'the open code record is refreshed');
      assert.ok(client.codeLensRefreshes > codeLensRefreshes, 'the code lenses are refreshed');

      await client.connection.sendNotification(DidCloseTextDocumentNotification.type, { textDocument: { uri: codeUri } });
    });

    it('hides the expected device', async () => {
      await client.changeSettings({ expectedDevice: 'cuda:0' });
      await client.waitForDiagnostics('no diagnostics with expectedDevice cuda:0', (published) =>
        published.get(codeUri)?.length === 0 && published.get(archiveUri)?.length === 0 ? true : undefined,
      );

      await client.changeSettings({ expectedDevice: 'cpu' });
      await client.waitForDiagnostics('diagnostics again with expectedDevice cpu', (published) => (published.get(codeUri)?.length === 21 ? true : undefined));
      await client.changeSettings({ expectedDevice: '' });
    });

    it('clears diagnostics when the archive is deleted', async () => {
      fs.rmSync(archive);
      await client.connection.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: archiveUri, type: FileChangeType.Deleted }] });
      await client.waitForDiagnostics('cleared diagnostics', (published) =>
        published.get(codeUri)?.length === 0 && published.get(archiveUri)?.length === 0 ? true : undefined,
      );
    });
  });

  describe('requests for the custom editors', () => {
    it('describes a clean archive', async () => {
      const archive = copyFixture('foo.pt', folder);
      const report: FileReport = await client.connection.sendRequest(DescribeRequest, { uri: fileUriFromPath(archive) });
      assert.equal(report.kind, 'torchscript');
      assert.equal(report.error, undefined);
      assert.deepEqual(report.findings, []);
      assert.equal(report.info?.topFolder, 'foo');
      assert.deepEqual(report.info?.codeRecords, ['code/__torch__.py']);
    });

    it('reports a file that is not an archive', async () => {
      const broken = path.join(folder, 'broken.pt');
      fs.writeFileSync(broken, 'this is not a zip archive\n');
      const uri = fileUriFromPath(broken);

      const report: FileReport = await client.connection.sendRequest(DescribeRequest, { uri });
      assert.ok(report.error, 'the report carries the error');
      assert.equal(report.findings.length, 0);

      const [diagnostic] = await client.waitForDiagnostics('the read error', (published) => published.get(uri));
      assert.equal(diagnostic.code, UNREADABLE_CODE);
      assert.equal(diagnostic.message, report.error);
      assert.ok(client.logs.some((log) => log.message.includes(broken)), 'the server logs the error with the file');
    });

    it('returns the graph of d2go', async () => {
      const archive = copyFixture('d2go_optimized.pt', folder, 'graph.pt');
      const graph = await client.connection.sendRequest(GraphRequest, { uri: fileUriFromPath(archive) });
      assert.ok(graph.nodes.length > 100, `${graph.nodes.length} nodes`);
      const devices = graph.nodes.filter((node) => node.kind === 'device');
      assert.ok(devices.length > 0);
      assert.ok(devices.every((node) => node.device === 'cpu'));
      for (const node of devices) assert.equal(node.source?.record, D2GO_RECORD);
    });

    it('rejects a URI that is not a file', async () => {
      const error = await rejection(client.connection.sendRequest(DescribeRequest, { uri: 'untitled:Untitled-1' }));
      assert.equal(error.code, ErrorCodes.InvalidParams);
    });
  });

  it('analyses an archive when a code record opens', async () => {
    const archive = copyFixture('d2go_optimized.pt', folder, 'opened-by-record.pt');
    const codeUri = codeRecordUri(fileUriFromPath(archive), D2GO_RECORD);
    await client.connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri: codeUri, languageId: 'torchscript', version: 1, text: '' } });
    const diagnostics = await client.waitForDiagnostics('diagnostics for a record opened first', (published) => published.get(codeUri));
    assert.equal(diagnostics.length, 21);
  });
});
