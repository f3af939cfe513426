/**
 * The classic traced model, written by the project's PyTorch: forward calls
 * `torch.ones(x.shape, device=x.device)` and `torch.zeros_like(x)`, so tracing on the CPU
 * bakes `torch.device("cpu")` into the code. Built once per test process.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runPython, torchPython } from './zipFixtures';

const SCRIPT = String.raw`
import sys, torch
torch.manual_seed(0)

class Classic(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(3, 3)

    def forward(self, x):
        return self.linear(x) + torch.ones(x.shape, device=x.device) + torch.zeros_like(x)

model = torch.jit.trace(Classic(), torch.randn(2, 3))
torch.jit.save(model, sys.argv[1])
`;

let cached: string | undefined;

/** Returns the path of a read-only copy of the classic model; copy it before writing next to it. */
export function classicModel(): string {
  if (cached) return cached;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsd-classic-'));
  const file = path.join(dir, 'classic.pt');
  runPython(torchPython(), SCRIPT, [file]);
  cached = file;
  return file;
}

/** Copies a model into `dir` under `name` and returns the new path. */
export function copyModel(source: string, dir: string, name = path.basename(source)): string {
  const target = path.join(dir, name);
  fs.copyFileSync(source, target);
  return target;
}
