/**
 * Helpers of the conformance test: build the corpus once per content hash of its Python
 * scripts, run the CLI as a user would, and batch the PyTorch oracle's reports.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const repoRoot = path.resolve(__dirname, '..', '..');
export const realFixturesDir = path.resolve(repoRoot, '..', 'shared', 'fixtures', 'real');
export const python = path.join(repoRoot, '.venv', 'bin', 'python');

const conformanceDir = __dirname;
const generator = path.join(conformanceDir, 'generate_archives.py');
const oracle = path.join(conformanceDir, 'oracle.py');
const cacheRoot = path.join(repoRoot, '.cache', 'conformance');

// ---------------------------------------------------------------------------
// Oracle reports (see oracle.py for how each field is computed)

export interface CodeSite {
  record: string;
  /** 0-based, like LSP positions. */
  line: number;
  character: number;
  end_line: number;
  end_character: number;
}

export interface CodeLiteral extends CodeSite {
  form: 'literal' | 'two-argument';
  device: string;
}

export interface CodeMove extends CodeSite {
  op: 'cuda' | 'cpu';
}

export interface DeviceAttribute {
  record: string;
  owner: string;
  path: string;
  type: 'Device' | 'str';
  value: string;
  /** True for Device values and for strings that forward passes to torch.device. */
  used_as_device: boolean;
}

export interface GroundTruth {
  records: string[];
  top_folder: string | null;
  graph_devices?: string[];
  method_graph_devices?: { class: string; method: string; record: string; devices: string[] }[];
  device_uses?: { op: string; device: string }[];
  graph_device_calls?: { arguments: number; device: string | null; source: 'literal' | 'attribute' | 'runtime'; attribute?: string }[];
  moves_by_name?: string[];
  code_device_literals: CodeLiteral[];
  code_moves_by_name: CodeMove[];
  storage_locations: Record<string, string[]>;
  pickle_devices: Record<string, string[]>;
  device_attributes: DeviceAttribute[];
}

export interface InspectReport extends Partial<GroundTruth> {
  file: string;
  kind?: string;
  loads: boolean;
  error?: string;
  pickle_errors?: Record<string, string>;
  code_errors?: Record<string, string>;
  graph_error?: string;
}

export interface RunReport {
  file?: string;
  loads?: boolean;
  ok: boolean;
  error?: string;
  outputs?: { device?: string; shape?: number[]; dtype?: string; value?: string }[];
  original_error?: string;
  equal_to_original?: boolean;
  allclose_to_original?: boolean;
  equal_to_expected?: boolean;
  allclose_to_expected?: boolean;
}

export interface ZipcheckReport {
  ok: boolean;
  error?: string;
  crc_ok?: boolean;
  bad_crc_record?: string | null;
  records?: string[];
  top_folder?: string | null;
  single_top_folder?: boolean;
  misaligned?: string[];
  identical?: string[];
  changed?: string[];
  only_in_original?: string[];
  only_in_file?: string[];
  original_records?: string[];
}

// ---------------------------------------------------------------------------
// The corpus manifest written by generate_archives.py

export interface ManifestArchive {
  name: string;
  file: string;
  kind: 'torchscript' | 'mobile' | 'checkpoint';
  demonstrates: string;
  notes: string[];
  retarget_devices: string[];
  runs_on_cpu_after_retarget: boolean;
  runs_on_meta_after_retarget: boolean;
  has_tensor_constants: boolean;
  lite_interpreter: boolean;
  inputs: string | null;
  expected_outputs: string | null;
  original: {
    runs_on_cpu?: boolean;
    cpu_error?: string | null;
    runs_on_meta?: boolean;
    meta_error?: string | null;
    runs_in_lite_interpreter?: boolean;
  };
  ground_truth: GroundTruth;
}

export interface Manifest {
  version: number;
  torch_version: string;
  archives: ManifestArchive[];
}

export interface Corpus {
  dir: string;
  manifest: Manifest;
}

// ---------------------------------------------------------------------------
// Processes

export interface ProcessResult {
  command: string;
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function runProcess(executable: string, args: string[], options: { timeoutMs?: number } = {}): Promise<ProcessResult> {
  const command = [executable, ...args].map((part) => (/\s/.test(part) ? JSON.stringify(part) : part)).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn(executable, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 5 * 60 * 1000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({
        command,
        status,
        signal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
  });
}

/** Runs tasks with at most `limit` in flight; results keep the order of `tasks`. */
export async function runPool<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results = new Array<T>(tasks.length);
  let next = 0;
  async function worker(): Promise<void> {
    while (next < tasks.length) {
      const index = next++;
      results[index] = await tasks[index]();
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, () => worker()));
  return results;
}

export function parallelism(): number {
  return Math.max(2, Math.min(8, os.cpus().length));
}

// ---------------------------------------------------------------------------
// Corpus

function corpusKey(): string {
  const hash = createHash('sha256');
  for (const file of [generator, oracle]) {
    hash.update(path.basename(file));
    hash.update(fs.readFileSync(file));
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * Returns the corpus for the current generator and oracle, generating it into
 * .cache/conformance/<hash> when missing. A finished corpus is renamed into place,
 * so an interrupted run never leaves a half-written one behind.
 */
export async function prepareCorpus(): Promise<Corpus> {
  if (!fs.existsSync(python)) {
    throw new Error(`${python} not found: run scripts/setup-python.sh to install the PyTorch used as the test oracle`);
  }
  const dir = path.join(cacheRoot, corpusKey());
  const manifestPath = path.join(dir, 'manifest.json');

  if (!fs.existsSync(manifestPath)) {
    fs.mkdirSync(cacheRoot, { recursive: true });
    const staging = fs.mkdtempSync(path.join(cacheRoot, 'staging-'));
    const result = await runProcess(python, [generator, staging], { timeoutMs: 10 * 60 * 1000 });
    if (result.status !== 0) {
      fs.rmSync(staging, { recursive: true, force: true });
      throw new Error(`generating the corpus failed (${result.command}, exit ${result.status}):\n${result.stderr}`);
    }
    try {
      fs.renameSync(staging, dir);
    } catch (error) {
      // Another test process finished the same corpus first: use that one.
      fs.rmSync(staging, { recursive: true, force: true });
      if (!fs.existsSync(manifestPath)) throw error;
    }
  }

  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as Manifest;
  return { dir, manifest };
}

export function realFixtureFiles(): string[] {
  if (!fs.existsSync(realFixturesDir)) {
    throw new Error(`${realFixturesDir} not found: the real PyTorch archives live in ../shared/fixtures/real next to the repository`);
  }
  return fs
    .readdirSync(realFixturesDir)
    .filter((name) => /\.(pt|pth|ptl)$/.test(name))
    .sort()
    .map((name) => path.join(realFixturesDir, name));
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Creates the folder for this run's CLI outputs, .cache/conformance/last-run-<pid>, and
 * removes the folders of earlier runs whose process has ended, so the outputs of the
 * last run stay for inspection while concurrent runs keep theirs.
 */
export function prepareRunDir(): string {
  const dir = path.join(cacheRoot, `last-run-${process.pid}`);
  for (const entry of fs.existsSync(cacheRoot) ? fs.readdirSync(cacheRoot) : []) {
    const match = /^last-run-(\d+)$/.exec(entry);
    if (match && !isProcessAlive(Number(match[1]))) fs.rmSync(path.join(cacheRoot, entry), { recursive: true, force: true });
  }
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

// ---------------------------------------------------------------------------
// Oracle batches

/**
 * Runs oracle jobs (argument lists of oracle.py subcommands) in a few Python processes,
 * so torch is imported once per process rather than once per job.
 */
export async function runOracleJobs(jobs: string[][], workDir: string): Promise<unknown[]> {
  if (jobs.length === 0) return [];
  const batches = Math.min(parallelism(), Math.ceil(jobs.length / 8));
  const size = Math.ceil(jobs.length / batches);
  const slices = Array.from({ length: batches }, (_, index) => jobs.slice(index * size, (index + 1) * size));

  const results = await Promise.all(
    slices.map(async (slice, index) => {
      const jobsFile = path.join(workDir, `oracle-jobs-${index}.json`);
      fs.writeFileSync(jobsFile, JSON.stringify(slice));
      const result = await runProcess(python, [oracle, 'batch', jobsFile], { timeoutMs: 15 * 60 * 1000 });
      if (result.status !== 0) {
        throw new Error(`the oracle failed (${result.command}, exit ${result.status}):\n${result.stderr.slice(-4000)}`);
      }
      return JSON.parse(result.stdout) as unknown[];
    }),
  );
  return results.flat();
}
