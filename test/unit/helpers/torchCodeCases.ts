import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './torchCodeRecords';

/** One module built and saved by real PyTorch, with ground truth read back from the archive. */
export interface TorchCodeCase {
  name: string;
  /** The saved `.pt` file. */
  archive: string;
  /** Code records by name without the top folder, as raw bytes from the zip. */
  records: { name: string; bytes: Buffer }[];
  /**
   * Site keys from the loaded method graphs: '<device>' for a device constant use,
   * '<type>@<attribute>' for a device whose index is an attribute, '@<attribute path>' for
   * a device read from an attribute, 'move:<cuda|cpu>' for `.cuda()` / `.cpu()`.
   */
  expectedSites: string[];
  /** Distinct device constants in forward's inlined graph. */
  inlinedDevices: string[];
  /** Number of tensors in `constants.pkl`. */
  tensorConstants: number;
  /** Whether the module is built to contain pinned devices. */
  pinned: boolean;
}

export interface TorchCodeCases {
  torchVersion: string;
  cases: TorchCodeCase[];
}

const HELPER = path.join(__dirname, 'torch_code_cases.py');
const PYTHON = path.join(repoRoot, '.venv', 'bin', 'python');

let generated: Promise<TorchCodeCases> | undefined;

/**
 * Builds the cases once per test process with the PyTorch in `.venv` (scripts/setup-python.sh
 * creates it) and removes the temporary archives when the process exits.
 */
export function loadTorchCodeCases(): Promise<TorchCodeCases> {
  generated ??= generate();
  return generated;
}

async function generate(): Promise<TorchCodeCases> {
  if (!fs.existsSync(PYTHON)) {
    throw new Error(`${PYTHON} not found: run scripts/setup-python.sh to install the PyTorch used as the test oracle`);
  }
  const outputDir = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-code-cases-'));
  process.on('exit', () => fs.rmSync(outputDir, { recursive: true, force: true }));

  const { stdout } = await promisify(execFile)(PYTHON, [HELPER, outputDir], {
    maxBuffer: 1 << 28,
    timeout: 10 * 60 * 1000,
  });
  const parsed = JSON.parse(stdout) as {
    torch: string;
    cases: (Omit<TorchCodeCase, 'records'> & { records: { name: string; base64: string }[] })[];
  };
  return {
    torchVersion: parsed.torch,
    cases: parsed.cases.map((entry) => ({
      ...entry,
      records: entry.records.map((record) => ({ name: record.name, bytes: Buffer.from(record.base64, 'base64') })),
    })),
  };
}
