/** PyTorch baselines: torch.jit.load, and torch.jit.load plus torch.jit.save, timed by time_torch.py. */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

export interface TorchLoadResult {
  /** One entry per load, in order. */
  loadMs: number[];
  peakRssMb: number;
}

export interface TorchResaveResult {
  resaveMs: number;
  peakRssMb: number;
}

function runTimeTorch(python: string, repoRoot: string, args: string[]): Record<string, unknown> {
  const script = path.join(repoRoot, 'bench', 'time_torch.py');
  const result = spawnSync(python, [script, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (result.error || result.status !== 0) {
    throw new Error(`time_torch.py ${args.join(' ')} failed (status ${result.status}); see its output above`);
  }

  const lines = result.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as Record<string, unknown>;
}

/** Loads the archive `repeat` times in one Python process, timing each torch.jit.load. */
export function timeTorchLoad(python: string, repoRoot: string, archive: string, repeat: number): TorchLoadResult {
  const output = runTimeTorch(python, repoRoot, ['load', archive, '--repeat', String(repeat)]);
  return { loadMs: output.load_ms as number[], peakRssMb: output.peak_rss_mb as number };
}

/** Times torch.jit.load of `archive` followed by torch.jit.save to `out`. */
export function timeTorchResave(python: string, repoRoot: string, archive: string, out: string): TorchResaveResult {
  const output = runTimeTorch(python, repoRoot, ['resave', archive, out]);
  return { resaveMs: output.resave_ms as number, peakRssMb: output.peak_rss_mb as number };
}
