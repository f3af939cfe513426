// Starts and stops code-server (a real VS Code 1.100.3 whose workbench runs in a browser) for
// the end-to-end suites. Install it first with scripts/setup-e2e.sh.
//
// Every server listens on 127.0.0.1 only and gets a fresh user-data-dir and config file in a
// temporary folder. It runs in its own process group, so stop() and the exit handler below
// end code-server together with its extension host and language server. stop() deletes the
// temporary folder (logs included) unless E2E_KEEP_STATE is set.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export const repositoryRoot = path.resolve(__dirname, '..', '..');
export const toolsDir = process.env.E2E_TOOLS ?? path.join(repositoryRoot, '.cache', 'e2e-tools');
export const codeServerEntry = path.join(toolsDir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
export const artifactsDir = path.join(repositoryRoot, 'test-artifacts');

const startTimeoutMs = 90_000;
const stopTimeoutMs = 5_000;

export const defaultUserSettings: Record<string, unknown> = {
  'workbench.startupEditor': 'none',
  'telemetry.telemetryLevel': 'off',
  'security.workspace.trust.enabled': false,
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'git.enabled': false,
};

export interface CodeServerOptions {
  /** Folder opened as the workspace. */
  workspaceFolder: string;
  /** Extensions folder, as passed to --extensions-dir. */
  extensionsDir: string;
  /** Settings merged over defaultUserSettings into the fresh user settings.json. */
  userSettings?: Record<string, unknown>;
  /** Extra environment for code-server and so for the extension host. */
  env?: Record<string, string>;
}

export interface CodeServer {
  port: number;
  /** Workbench address with the workspace folder, without a payload. */
  url: string;
  workspaceFolder: string;
  extensionsDir: string;
  userDataDir: string;
  /** code-server's own stdout and stderr. */
  logFile: string;
  /** Ends the process group and deletes the temporary folder. Safe to call more than once. */
  stop(): Promise<void>;
}

const runningProcesses = new Set<ChildProcess>();

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

// A test that throws, a timeout or Ctrl+C must not leave code-server listening.
process.on('exit', () => {
  for (const child of runningProcesses) killGroup(child, 'SIGKILL');
});
for (const [signal, exitCode] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.once(signal, () => {
    for (const child of runningProcesses) killGroup(child, 'SIGKILL');
    process.exit(exitCode);
  });
}

/** Throws with the next step when setup-e2e.sh has not run. */
export function assertToolsInstalled(): void {
  if (!fs.existsSync(codeServerEntry)) {
    throw new Error(`code-server not found at ${codeServerEntry}. Run scripts/setup-e2e.sh first.`);
  }
  if (!fs.existsSync('/usr/bin/chromium')) {
    throw new Error('Chromium not found at /usr/bin/chromium. Run scripts/setup-e2e.sh first.');
  }
}

/** Environment that keeps code-server's config, logs and gallery lookups away from $HOME and the network. */
function codeServerEnv(stateDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    XDG_CONFIG_HOME: path.join(stateDir, 'config'),
    XDG_DATA_HOME: path.join(stateDir, 'data'),
    // An empty service URL stops the extension gallery lookups, which cannot reach the network here.
    EXTENSIONS_GALLERY: '{"serviceUrl":""}',
    ...extra,
  };
}

/** Installs a .vsix into extensionsDir with code-server's CLI. */
export function installExtension(extensionsDir: string, vsix: string): void {
  assertToolsInstalled();
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsd-install-'));
  try {
    const result = spawnSync(
      process.execPath,
      [codeServerEntry, '--config', path.join(stateDir, 'config.yaml'), '--user-data-dir', path.join(stateDir, 'user-data'),
        '--extensions-dir', extensionsDir, '--force', '--install-extension', vsix],
      { env: codeServerEnv(stateDir), encoding: 'utf8', timeout: 120_000 },
    );
    const output = `${result.stdout}\n${result.stderr}`;
    if (result.status !== 0 || /failed|error/i.test(result.stderr)) {
      throw new Error(`Installing ${vsix} into ${extensionsDir} failed (exit ${result.status}):\n${output}`);
    }
  } finally {
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}

/** Returns a TCP port that was free on 127.0.0.1 a moment ago. */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address() as net.AddressInfo;
      server.close(() => resolve(address.port));
    });
  });
}

function tail(file: string, characters = 4_000): string {
  try {
    return fs.readFileSync(file, 'utf8').slice(-characters);
  } catch {
    return '';
  }
}

async function waitUntilHealthy(child: ChildProcess, port: number, logFile: string): Promise<void> {
  const deadline = Date.now() + startTimeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`code-server exited (${child.exitCode ?? child.signalCode}) before it answered on port ${port}:\n${tail(logFile)}`);
    }
    try {
      const response = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2_000) });
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`code-server did not answer on 127.0.0.1:${port} within ${startTimeoutMs} ms:\n${tail(logFile)}`);
}

/** Starts code-server on a free loopback port and waits until its health endpoint responds. */
export async function startCodeServer(options: CodeServerOptions): Promise<CodeServer> {
  assertToolsInstalled();
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsd-code-server-'));
  const userDataDir = path.join(stateDir, 'user-data');
  const logFile = path.join(stateDir, 'code-server.log');
  fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  fs.mkdirSync(options.extensionsDir, { recursive: true });
  fs.writeFileSync(
    path.join(userDataDir, 'User', 'settings.json'),
    JSON.stringify({ ...defaultUserSettings, ...options.userSettings }, null, 2),
  );

  // Another process may take the port between findFreePort and the bind, so retry a few times.
  for (let attempt = 1; ; attempt++) {
    const port = await findFreePort();
    const log = fs.openSync(logFile, 'w');
    const child = spawn(
      process.execPath,
      [
        codeServerEntry,
        '--config', path.join(stateDir, 'config.yaml'),
        '--auth', 'none',
        '--bind-addr', `127.0.0.1:${port}`,
        '--disable-telemetry',
        '--disable-update-check',
        '--disable-workspace-trust',
        '--disable-getting-started-override',
        '--user-data-dir', userDataDir,
        '--extensions-dir', options.extensionsDir,
        options.workspaceFolder,
      ],
      { detached: true, stdio: ['ignore', log, log], env: codeServerEnv(stateDir, options.env) },
    );
    fs.closeSync(log);
    runningProcesses.add(child);
    child.once('exit', () => runningProcesses.delete(child));

    try {
      await waitUntilHealthy(child, port, logFile);
    } catch (error) {
      killGroup(child, 'SIGKILL');
      if (attempt < 3 && /EADDRINUSE/.test(tail(logFile))) continue;
      throw error;
    }

    const stop = async (): Promise<void> => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      killGroup(child, 'SIGTERM');
      const timer = setTimeout(() => killGroup(child, 'SIGKILL'), stopTimeoutMs);
      await exited;
      clearTimeout(timer);
      // The extension host and language server share the group and may outlive the main process briefly.
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // The group is gone.
      }
      if (!process.env.E2E_KEEP_STATE) fs.rmSync(stateDir, { recursive: true, force: true });
    };

    const folderQuery = encodeURIComponent(options.workspaceFolder).replace(/%2F/g, '/');
    return {
      port,
      url: `http://127.0.0.1:${port}/?folder=${folderQuery}`,
      workspaceFolder: options.workspaceFolder,
      extensionsDir: options.extensionsDir,
      userDataDir,
      logFile,
      stop,
    };
  }
}

/** Returns the log files that the extension host wrote for output channels whose name contains `channel`. */
export function findOutputChannelLogs(server: CodeServer, channel: string): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.log') && entry.name.includes(channel)) found.push(full);
    }
  };
  const logsDir = path.join(server.userDataDir, 'logs');
  if (fs.existsSync(logsDir)) walk(logsDir);
  return found;
}

/** Returns the text of every output channel log whose name contains `channel`, joined. */
export function readOutputChannelLogs(server: CodeServer, channel: string): string {
  return findOutputChannelLogs(server, channel)
    .map((file) => fs.readFileSync(file, 'utf8'))
    .join('\n');
}
