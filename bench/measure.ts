/** Timing, peak memory and page cache helpers shared by the benchmarks. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** GNU time: with `-f %M` it writes the child's maximum resident set size in KiB. */
const GNU_TIME = '/usr/bin/time';

const DROP_CACHES = '/proc/sys/vm/drop_caches';

export interface TimedRun {
  wallMs: number;
  peakRssMb: number;
  status: number | null;
  stdout: string;
  stderr: string;
}

export function median(values: number[]): number {
  if (values.length === 0) throw new Error('median of an empty list');

  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

/** Throws unless GNU time is installed, because every peak RSS figure comes from it. */
export function requireGnuTime(): void {
  const probe = spawnSync(GNU_TIME, ['-f', '%M', 'true'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(`${GNU_TIME} is missing or failed; install GNU time (apt-get install -y time) and rerun`);
  }
}

/**
 * Runs a command under GNU time and returns its wall time and peak RSS.
 * The wall time is measured here, around the child, so it includes process start-up.
 */
export function runTimed(command: string, args: string[], cwd: string): TimedRun {
  const rssFile = path.join(os.tmpdir(), `bench-rss-${process.pid}.txt`);
  try {
    const started = process.hrtime.bigint();
    const child = spawnSync(GNU_TIME, ['-o', rssFile, '-f', '%M', command, ...args], {
      cwd,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
    if (child.error) throw new Error(`failed to start ${command}: ${child.error.message}`);

    // GNU time writes "Command exited with non-zero status N" before the format line.
    const rssLines = fs.readFileSync(rssFile, 'utf8').trim().split('\n');
    const peakKib = Number(rssLines[rssLines.length - 1]);
    if (!Number.isFinite(peakKib)) throw new Error(`unexpected GNU time output in ${rssFile}: ${rssLines.join(' | ')}`);

    return { wallMs, peakRssMb: peakKib / 1024, status: child.status, stdout: child.stdout, stderr: child.stderr };
  } finally {
    fs.rmSync(rssFile, { force: true });
  }
}

/** Throws with the command's output when it exited with a status other than `expected`. */
export function expectStatus(run: TimedRun, expected: number, description: string): void {
  if (run.status === expected) return;
  throw new Error(`${description} exited with status ${run.status}, expected ${expected}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
}

/**
 * Flushes dirty pages and, where the process may write drop_caches (root on Linux),
 * empties the page cache. Returns whether the cache was dropped.
 */
export function settlePageCache(): boolean {
  const sync = spawnSync('sync');
  if (sync.error || sync.status !== 0) throw new Error(`sync failed: ${sync.error?.message ?? `status ${sync.status}`}`);

  try {
    fs.writeFileSync(DROP_CACHES, '3\n');
    return true;
  } catch {
    return false;
  }
}

/** Reads a file once so that later runs find it in the page cache. */
export function warmPageCache(file: string): void {
  const buffer = Buffer.allocUnsafe(8 * 1024 * 1024);
  const fd = fs.openSync(file, 'r');
  try {
    while (fs.readSync(fd, buffer, 0, buffer.length, null) > 0) {
      // Only the side effect of reading matters.
    }
  } finally {
    fs.closeSync(fd);
  }
}
