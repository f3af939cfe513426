// Builds the workspace folder the VS Code suites open, and checks archives with PyTorch.
// Runs in the test driver and in the extension host alike (Node APIs only, no `vscode`).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** Archive names inside the test workspace. */
export const WorkspaceFiles = {
  /** Detection model from pytorch/ios-demo-app: 21 `torch.device("cpu")` literals in 2 code files. */
  d2go: 'd2go_optimized.pt',
  /** Module traced on CPU by python/trace_on_cpu.py: one `device=torch.device("cpu")` in its code. */
  tracedOnCpu: 'ones_traced_on_cpu.pt',
} as const;

/** Finds the repository root from a file inside it (source under test/vscode or a bundle under out/test). */
export function findRepositoryRoot(start: string = __dirname): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'test', 'vscode'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`No repository root (package.json with test/vscode) above ${start}.`);
  }
}

/**
 * Returns the folder of the real archives: $TORCHSCRIPT_DEVICE_FIXTURES, else the
 * `shared/fixtures/real` folder next to the repository.
 */
export function realFixturesDir(repositoryRoot: string = findRepositoryRoot()): string {
  const dir = process.env.TORCHSCRIPT_DEVICE_FIXTURES ?? path.join(path.dirname(repositoryRoot), 'shared', 'fixtures', 'real');
  if (!fs.existsSync(path.join(dir, WorkspaceFiles.d2go))) {
    throw new Error(`${WorkspaceFiles.d2go} not found in ${dir}. Set TORCHSCRIPT_DEVICE_FIXTURES to the folder of the real archives.`);
  }
  return dir;
}

/** Returns the Python of the repository's .venv (scripts/setup-python.sh creates it). */
export function venvPython(repositoryRoot: string = findRepositoryRoot()): string {
  const python = path.join(repositoryRoot, '.venv', 'bin', 'python');
  if (!fs.existsSync(python)) throw new Error(`${python} not found. Run scripts/setup-python.sh first.`);
  return python;
}

/**
 * Creates a temporary folder holding a copy of d2go_optimized.pt and a freshly traced CPU
 * model, and returns its path. The copies keep the read-only fixtures out of reach of the
 * retarget, which writes next to its input.
 */
export function createTestWorkspace(repositoryRoot: string = findRepositoryRoot()): string {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'tsd-workspace-'));
  fs.copyFileSync(path.join(realFixturesDir(repositoryRoot), WorkspaceFiles.d2go), path.join(folder, WorkspaceFiles.d2go));
  fs.chmodSync(path.join(folder, WorkspaceFiles.d2go), 0o644);

  execFileSync(
    venvPython(repositoryRoot),
    [path.join(repositoryRoot, 'test', 'vscode', 'python', 'trace_on_cpu.py'), path.join(folder, WorkspaceFiles.tracedOnCpu)],
    { stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 },
  );
  return folder;
}

export interface DeviceConstantsReport {
  torch: string;
  /** Device constants of forward's inlined graph, one per constant node. */
  devices: string[];
}

/**
 * Loads `archive` with real PyTorch (torch.jit.load, map_location="cpu") and returns the
 * Device constants of its inlined forward graph. Throws with PyTorch's message when the
 * archive does not load.
 */
export function readDeviceConstantsWithTorch(archive: string, repositoryRoot: string = findRepositoryRoot()): DeviceConstantsReport {
  const script = path.join(repositoryRoot, 'test', 'vscode', 'python', 'device_constants.py');
  try {
    const stdout = execFileSync(venvPython(repositoryRoot), [script, archive], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 120_000,
    });
    return JSON.parse(stdout) as DeviceConstantsReport;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`PyTorch could not load ${archive}: ${stderr.trim().split('\n').slice(-4).join('\n') || String(error)}`);
  }
}

/**
 * Returns the text of a code record, named without the archive's top folder (for example
 * `code/__torch__.py`), read with Python's zipfile so the check does not depend on the
 * engine's own zip reader.
 */
export function readCodeRecordWithPython(archive: string, record: string, repositoryRoot: string = findRepositoryRoot()): string {
  const script = [
    'import sys, zipfile',
    'archive = zipfile.ZipFile(sys.argv[1])',
    'names = [name for name in archive.namelist() if name.split("/", 1)[-1] == sys.argv[2]]',
    'if not names: sys.exit(f"record {sys.argv[2]} not found in {sys.argv[1]}")',
    'sys.stdout.write(archive.read(names[0]).decode("utf-8"))',
  ].join('\n');
  return execFileSync(venvPython(repositoryRoot), ['-c', script, archive, record], { encoding: 'utf8', timeout: 60_000 });
}
