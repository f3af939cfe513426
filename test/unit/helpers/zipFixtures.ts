/**
 * Real inputs for the zip layer tests: the read-only archives in the shared fixtures folder,
 * archives written by the project's PyTorch (.venv/bin/python, torch 2.13), zips written by
 * Python's zipfile, and Python's view of any zip for comparison.
 */
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const repoRoot = path.resolve(__dirname, '..', '..', '..');
export const realFixturesDir = path.resolve(repoRoot, '..', 'shared', 'fixtures', 'real');
export const realFixtureNames = fs.readdirSync(realFixturesDir).filter((name) => name.endsWith('.pt')).sort();

export function realFixture(name: string): string {
  return path.join(realFixturesDir, name);
}

/** Returns the path of .venv/bin/python, which imports torch. scripts/setup-python.sh creates it. */
export function torchPython(): string {
  const python = path.join(repoRoot, '.venv', 'bin', 'python');
  if (!fs.existsSync(python)) throw new Error(`${python} is missing; run scripts/setup-python.sh first`);
  return python;
}

/** Runs a Python script and returns its stdout; a failure carries the script's stderr. */
export function runPython(python: string, script: string, args: string[] = [], options: { cwd?: string; input?: string; timeoutMs?: number } = {}): string {
  try {
    return execFileSync(python, ['-c', script, ...args], {
      cwd: options.cwd,
      input: options.input,
      encoding: 'utf8',
      timeout: options.timeoutMs ?? 300_000,
      maxBuffer: 64 * 1024 * 1024,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`${python} failed: ${(error as Error).message}\n${stderr}`);
  }
}

/** Creates a temporary folder and returns it with a function that removes it. */
export function makeTempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tsd-${prefix}-`));
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Python's view of one zip entry, read with the standard zipfile module. */
export interface PythonZipEntry {
  name: string;
  method: number;
  flags: number;
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
  localHeaderOffset: number;
  /** Offset of the first data byte, from the local header's name and extra lengths. */
  dataOffset: number;
  /** SHA-256 of the decompressed data; absent when hashing was skipped. */
  sha256?: string;
}

export interface PythonZipReport {
  /** The first record whose CRC or data is wrong according to ZipFile.testzip(), or null. */
  badRecord: string | null;
  entries: PythonZipEntry[];
}

const INSPECT_ZIP_SCRIPT = `
import hashlib, json, sys, zipfile
path, hash_data = sys.argv[1], sys.argv[2] == '1'
archive = zipfile.ZipFile(path)
bad = archive.testzip() if hash_data else None
entries = []
with open(path, 'rb') as raw:
    for info in archive.infolist():
        raw.seek(info.header_offset)
        header = raw.read(30)
        name_length = int.from_bytes(header[26:28], 'little')
        extra_length = int.from_bytes(header[28:30], 'little')
        entry = {
            'name': info.filename, 'method': info.compress_type, 'flags': info.flag_bits,
            'crc32': info.CRC, 'compressedSize': info.compress_size,
            'uncompressedSize': info.file_size, 'localHeaderOffset': info.header_offset,
            'dataOffset': info.header_offset + 30 + name_length + extra_length,
        }
        if hash_data:
            digest = hashlib.sha256()
            with archive.open(info) as data:
                for chunk in iter(lambda: data.read(1 << 20), b''):
                    digest.update(chunk)
            entry['sha256'] = digest.hexdigest()
        entries.append(entry)
print(json.dumps({'badRecord': bad, 'entries': entries}))
`;

/** Reads a zip with the system python3's zipfile; hashData also checks every CRC with testzip(). */
export function inspectZipWithPython(filePath: string, options: { hashData?: boolean } = {}): PythonZipReport {
  const output = runPython('python3', INSPECT_ZIP_SCRIPT, [filePath, options.hashData === false ? '0' : '1']);
  return JSON.parse(output) as PythonZipReport;
}

export interface ZipSpecEntry {
  name: string;
  /** Record bytes, hex-encoded. */
  hex: string;
  /** zipfile compression constant: 0 stored, 8 deflated, 12 bzip2. */
  method?: number;
}

const WRITE_ZIP_SCRIPT = `
import json, sys, warnings, zipfile
spec = json.load(sys.stdin)
warnings.simplefilter('ignore')
with zipfile.ZipFile(sys.argv[1], 'w') as archive:
    for entry in spec['entries']:
        archive.writestr(zipfile.ZipInfo(entry['name']), bytes.fromhex(entry['hex']), compress_type=entry.get('method', 0))
    archive.comment = spec.get('comment', '').encode()
`;

/** Writes a zip with the system python3's zipfile, which allows names PyTorch would never write. */
export function writeZipWithPython(filePath: string, entries: ZipSpecEntry[], comment = ''): void {
  runPython('python3', WRITE_ZIP_SCRIPT, [filePath], { input: JSON.stringify({ entries, comment }) });
}

export function textHex(text: string): string {
  return Buffer.from(text, 'utf8').toString('hex');
}

/** Archives of every kind that torch 2.13 writes, generated once per script version and cached. */
export interface TorchArchives {
  traced: string;
  scripted: string;
  mobile: string;
  checkpoint: string;
  torchPackage: string;
  exportedProgram: string;
  legacyPickle: string;
}

const TORCH_ARCHIVES_SCRIPT = `
import sys, warnings
import torch
from torch.package import PackageExporter

warnings.simplefilter('ignore')
torch.manual_seed(0)

class Traced(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(4, 3)

    def forward(self, x):
        return self.linear(x) + torch.ones(3, device=x.device)

class Scripted(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(4, 3)

    def forward(self, x):
        return self.linear(x).relu()

example = torch.randn(2, 4)
torch.jit.save(torch.jit.trace(Traced(), example), 'traced.pt')
scripted = torch.jit.script(Scripted())
torch.jit.save(scripted, 'scripted.pt')
scripted._save_for_lite_interpreter('mobile.ptl')
torch.save({'weight': torch.randn(3, 4), 'step': 7}, 'checkpoint.pt')
torch.save({'weight': torch.randn(3, 4)}, 'legacy_pickle.pt', _use_new_zipfile_serialization=False)
with PackageExporter('package.pt') as exporter:
    exporter.save_pickle('settings', 'settings.pkl', {'threshold': 0.5})
torch.export.save(torch.export.export(Scripted(), (example,)), 'exported.pt2')
print(torch.__version__)
`;

export function torchArchives(): TorchArchives {
  const key = crypto.createHash('sha256').update(TORCH_ARCHIVES_SCRIPT).digest('hex').slice(0, 16);
  const cacheRoot = path.join(os.tmpdir(), 'tsd-test-cache');
  const cacheDir = path.join(cacheRoot, `torch-archives-${key}`);
  const files: TorchArchives = {
    traced: path.join(cacheDir, 'traced.pt'),
    scripted: path.join(cacheDir, 'scripted.pt'),
    mobile: path.join(cacheDir, 'mobile.ptl'),
    checkpoint: path.join(cacheDir, 'checkpoint.pt'),
    torchPackage: path.join(cacheDir, 'package.pt'),
    exportedProgram: path.join(cacheDir, 'exported.pt2'),
    legacyPickle: path.join(cacheDir, 'legacy_pickle.pt'),
  };
  if (fs.existsSync(cacheDir)) return files;

  // Test files run in parallel processes: each generates into its own folder and the first
  // rename wins, so no process reads a half-written cache.
  fs.mkdirSync(cacheRoot, { recursive: true });
  const staging = fs.mkdtempSync(path.join(cacheRoot, 'staging-'));
  fs.writeFileSync(path.join(staging, 'generate.py'), TORCH_ARCHIVES_SCRIPT);
  try {
    execFileSync(torchPython(), ['generate.py'], { cwd: staging, stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
    fs.renameSync(staging, cacheDir);
  } catch (error) {
    fs.rmSync(staging, { recursive: true, force: true });
    if (!fs.existsSync(cacheDir)) throw new Error(`generating torch archives failed: ${(error as Error).message}\n${(error as { stderr?: Buffer }).stderr?.toString() ?? ''}`);
  }
  return files;
}
