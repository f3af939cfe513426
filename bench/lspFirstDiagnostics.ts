/**
 * Language server and packaging measurements for `npm run bench`:
 * - lsp_first_diagnostics_ms: the time from `textDocument/didOpen` of d2go_optimized.pt to
 *   the first `textDocument/publishDiagnostics` for it, on a fresh dist/server.js that has
 *   finished `initialize` (so the tree-sitter grammar loads inside the measured time).
 *   Median of several runs, each with a new server process.
 * - vsix_bytes: the size of the .vsix that the `package` script's vsce command writes.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  createProtocolConnection,
  DidOpenTextDocumentNotification,
  ExitNotification,
  InitializedNotification,
  InitializeRequest,
  PublishDiagnosticsNotification,
  ShutdownRequest,
  StreamMessageReader,
  StreamMessageWriter,
} from 'vscode-languageserver-protocol/node';
import { fileUriFromPath, parseCodeRecordUri } from '../server/src/lsp/uris';
import { log, median } from './measure';

const repoRoot = path.resolve(__dirname, '..');
const serverBundle = path.join(repoRoot, 'dist', 'server.js');
const d2go = path.resolve(repoRoot, '..', 'shared', 'fixtures', 'real', 'd2go_optimized.pt');

const RUNS = 5;
const TIMEOUT_MS = 60_000;

/** Starts a server, opens the archive and returns the milliseconds until its first diagnostics. */
async function timeOneRun(archive: string): Promise<number> {
  const child = spawn(process.execPath, [serverBundle, '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const connection = createProtocolConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  connection.listen();

  try {
    await connection.sendRequest(InitializeRequest.type, { processId: process.pid, rootUri: null, capabilities: {}, workspaceFolders: null });
    await connection.sendNotification(InitializedNotification.type, {});

    const archiveUri = fileUriFromPath(archive);
    const firstDiagnostics = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no diagnostics for ${archive} within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
      connection.onNotification(PublishDiagnosticsNotification.type, ({ uri }) => {
        if (uri !== archiveUri && parseCodeRecordUri(uri)?.archiveUri !== archiveUri) return;
        clearTimeout(timer);
        resolve(performance.now());
      });
    });

    const start = performance.now();
    await connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri: archiveUri, languageId: 'plaintext', version: 1, text: '' } });
    return (await firstDiagnostics) - start;
  } finally {
    await connection.sendRequest(ShutdownRequest.type).catch(() => undefined);
    await connection.sendNotification(ExitNotification.type).catch(() => undefined);
    connection.dispose();
    child.kill();
  }
}

export async function measureLspFirstDiagnostics(): Promise<{ lsp_first_diagnostics_ms: number }> {
  if (!fs.existsSync(serverBundle)) throw new Error(`${serverBundle} is missing; run "npm run build" first`);
  if (!fs.existsSync(d2go)) throw new Error(`${d2go} is missing`);

  const times: number[] = [];
  for (let run = 0; run < RUNS; run++) times.push(await timeOneRun(d2go));
  log(`lsp first diagnostics of d2go_optimized.pt: ${times.map((ms) => ms.toFixed(0)).join(', ')} ms`);
  return { lsp_first_diagnostics_ms: median(times) };
}

/** Packages the extension into a temporary folder (a production build first) and returns the .vsix size. */
export async function measureVsixBytes(): Promise<{ vsix_bytes: number }> {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'torchscript-device-vsix-'));
  const vsix = path.join(folder, 'torchscript-device.vsix');
  try {
    const vsce = path.join(repoRoot, 'node_modules', '.bin', 'vsce');
    const result = spawnSync(vsce, ['package', '--no-dependencies', '--allow-missing-repository', '--no-rewrite-relative-links', '--out', vsix], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 300_000,
    });
    if (result.status !== 0 || !fs.existsSync(vsix)) {
      throw new Error(`vsce package failed (status ${result.status}):\n${result.stdout}\n${result.stderr}`);
    }

    const bytes = fs.statSync(vsix).size;
    log(`vsix: ${bytes} bytes`);
    return { vsix_bytes: bytes };
  } finally {
    fs.rmSync(folder, { recursive: true, force: true });
  }
}
