import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { defaultOutputPath, retargetFile } from '../../server/src/engine';
import { EngineError } from '../../server/src/errors';
import { classicModel, copyModel } from './helpers/classicModel';
import { makeTempDir, realFixture, repoRoot, runPython, torchPython } from './helpers/zipFixtures';

/** Device constants of the loaded model's inlined graph, as real PyTorch reads them. */
function graphDevices(file: string): string[] {
  const script = String.raw`
import json, sys, torch
m = torch.jit.load(sys.argv[1], map_location='cpu')
devices = [n.output().toIValue() for n in m.inlined_graph.nodes()
           if n.kind() == 'prim::Constant' and n.output().type().kind() == 'DeviceObjType']
print(json.dumps([str(d) for d in devices]))
`;
  return JSON.parse(runPython(torchPython(), script, [file])) as string[];
}

function sha256(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

function leftoverPartials(dir: string): string[] {
  return fs.readdirSync(dir).filter((name) => name.endsWith('.partial'));
}

describe('retargetFile', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let model: string;

  before(() => {
    temp = makeTempDir('retarget');
    model = copyModel(classicModel(), temp.dir);
  });
  after(() => temp.remove());

  test('writes the default sibling output', async () => {
    const result = await retargetFile(model, 'cuda');
    assert.equal(result.output, path.join(temp.dir, 'classic.cuda.pt'));
    assert.ok(fs.existsSync(result.output));
    assert.deepEqual(graphDevices(result.output), ['cuda']);
    assert.ok(result.changes.some((change) => change.record === 'code/__torch__.py' && change.oldDevice === 'cpu'));
    fs.rmSync(result.output);
  });

  test('default output names the device', () => {
    assert.equal(defaultOutputPath('/models/net.pt', 'cuda:1'), '/models/net.cuda-1.pt');
    assert.equal(defaultOutputPath('/models/net', 'cpu'), '/models/net.cpu.pt');
  });

  test('rejects an invalid device', async () => {
    await assert.rejects(retargetFile(model, 'gpu0'), (error: Error) => {
      assert.ok(error instanceof EngineError);
      assert.match(error.message, /invalid device "gpu0"/);
      assert.match(error.message, /cpu, cuda, cuda:0, meta, mps or xpu:1/);
      return true;
    });
  });

  test('keeps an existing output without force', async () => {
    const output = path.join(temp.dir, 'exists.pt');
    fs.writeFileSync(output, 'keep me');
    await assert.rejects(retargetFile(model, 'cuda', { output }), /already exists; pass --force/);
    assert.equal(fs.readFileSync(output, 'utf8'), 'keep me');
    assert.deepEqual(leftoverPartials(temp.dir), []);

    await retargetFile(model, 'cuda', { output, force: true });
    assert.deepEqual(graphDevices(output), ['cuda']);
  });

  test('rejects a missing output folder', async () => {
    const output = path.join(temp.dir, 'missing', 'out.pt');
    await assert.rejects(retargetFile(model, 'cuda', { output }), /output folder .* is missing or not writable/);
  });

  test('rejects the input as output', async () => {
    await assert.rejects(retargetFile(model, 'cuda', { output: model }), /the output is the input file; pass --in-place/);
  });

  test('replaces the input in place', async () => {
    const copy = copyModel(model, temp.dir, 'in-place.pt');
    const result = await retargetFile(copy, 'meta', { inPlace: true });
    assert.equal(result.output, copy);
    assert.deepEqual(graphDevices(copy), ['meta']);
    assert.deepEqual(leftoverPartials(temp.dir), []);
  });

  test('stops when the input changes during the write', async () => {
    const copy = copyModel(model, temp.dir, 'changing.pt');
    const output = path.join(temp.dir, 'changing.cuda.pt');
    let appended = false;
    const onProgress = (): void => {
      if (appended) return;
      appended = true;
      fs.appendFileSync(copy, Buffer.alloc(16));
    };
    await assert.rejects(retargetFile(copy, 'cuda', { output, onProgress }), /the input changed while it was being retargeted/);
    assert.ok(!fs.existsSync(output));
    assert.deepEqual(leftoverPartials(temp.dir), []);
  });

  test('cancels through an abort signal', async () => {
    const controller = new AbortController();
    controller.abort();
    const output = path.join(temp.dir, 'cancelled.pt');
    await assert.rejects(retargetFile(model, 'cuda', { output, signal: controller.signal }), /retarget cancelled/);
    assert.ok(!fs.existsSync(output));
    assert.deepEqual(leftoverPartials(temp.dir), []);
  });

  test('shifts debug offsets with the code', async () => {
    const output = path.join(temp.dir, 'debug.pt');
    await retargetFile(model, 'cuda:1', { output });
    // Each debug entry must point at the same generated code before and after, except inside the edit.
    const script = String.raw`
import json, pickle, sys, zipfile
def entries(path):
    z = zipfile.ZipFile(path)
    top = z.namelist()[0].split('/')[0]
    code = z.read(top + '/code/__torch__.py')
    table = pickle.loads(z.read(top + '/code/__torch__.py.debug_pkl'))
    return code, [entry[0] for entry in table[2]]
old_code, old = entries(sys.argv[1])
new_code, new = entries(sys.argv[2])
print(json.dumps({'old': old, 'new': new, 'oldText': [old_code[o:o+12].decode() for o in old], 'newText': [new_code[o:o+12].decode() for o in new]}))
`;
    const { old, new: shifted, oldText, newText } = JSON.parse(runPython(torchPython(), script, [model, output])) as Record<string, (number | string)[]>;
    assert.equal(old.length, shifted.length);
    assert.ok(shifted.some((offset, index) => offset !== old[index]), 'some offsets lie past the edit and must move');
    const moved = oldText.filter((text, index) => text === newText[index]).length;
    assert.ok(moved >= old.length - 2, `only ${moved} of ${old.length} debug entries still point at the same code`);
  });
});

describe('retarget failure paths', () => {
  let temp: ReturnType<typeof makeTempDir>;
  before(() => {
    temp = makeTempDir('retarget-fail');
  });
  after(() => temp.remove());

  test('full disk leaves no output', async (t) => {
    const mountPoint = path.join(temp.dir, 'small');
    fs.mkdirSync(mountPoint);
    const input = copyModel(realFixture('d2go_optimized.pt'), temp.dir);
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mountPoint]);
    if (mounted.status !== 0) {
      t.skip(`mounting a small tmpfs needs root: ${mounted.stderr}`);
      return;
    }
    try {
      const output = path.join(mountPoint, 'd2go.cuda.pt');
      await assert.rejects(retargetFile(input, 'cuda', { output }), (error: Error) => {
        assert.ok(error instanceof EngineError);
        assert.match(error.message, /space|ENOSPC/i);
        return true;
      });
      assert.deepEqual(fs.readdirSync(mountPoint), []);
      assert.equal(sha256(input), sha256(realFixture('d2go_optimized.pt')));
    } finally {
      spawnSync('umount', [mountPoint]);
    }
  });

  test('read-only folder is rejected', async (t) => {
    const mountPoint = path.join(temp.dir, 'readonly');
    fs.mkdirSync(mountPoint);
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,ro', 'tmpfs', mountPoint]);
    if (mounted.status !== 0) {
      t.skip(`mounting a read-only tmpfs needs root: ${mounted.stderr}`);
      return;
    }
    try {
      const input = copyModel(classicModel(), temp.dir, 'ro-input.pt');
      await assert.rejects(retargetFile(input, 'cuda', { output: path.join(mountPoint, 'out.pt') }), /not writable|read-only|EROFS/);
    } finally {
      spawnSync('umount', [mountPoint]);
    }
  });

  test('file size limit gives a clear error', () => {
    // Node ignores SIGXFSZ, so the limit surfaces as EFBIG from the write.
    const input = copyModel(realFixture('d2go_optimized.pt'), temp.dir, 'limited.pt');
    const output = path.join(temp.dir, 'limited.cuda.pt');
    const cli = path.join(repoRoot, 'dist', 'cli.js');
    assert.ok(fs.existsSync(cli), 'dist/cli.js is missing: run npm run build');
    const run = spawnSync('bash', ['-c', `ulimit -f 512; exec "${process.execPath}" "${cli}" retarget "${input}" --device cuda -o "${output}"`], { encoding: 'utf8' });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /too large for this file system; choose another folder/);
    assert.ok(!fs.existsSync(output), 'no file may appear under the output name');
    assert.deepEqual(leftoverPartials(temp.dir), []);
    assert.equal(sha256(input), sha256(realFixture('d2go_optimized.pt')));
  });

  let big: string;
  const writeBigModel = (): string => {
    if (big) return big;
    big = path.join(temp.dir, 'big.pt');
    const script = String.raw`
import sys, torch
class Big(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(64, 1024, 1024))
    def forward(self, x):
        return x + torch.ones(x.shape, device=x.device)
torch.jit.save(torch.jit.trace(Big(), torch.zeros(2)), sys.argv[1])
`;
    runPython(torchPython(), script, [big]);
    return big;
  };

  /** Starts a retarget of the 256 MiB model and returns once its temporary file exists. */
  const startRetarget = async (output: string) => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'dist', 'cli.js'), 'retarget', writeBigModel(), '--device', 'cuda', '-o', output]);
    const deadline = Date.now() + 30_000;
    while (leftoverPartials(temp.dir).length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.ok(leftoverPartials(temp.dir).length > 0, 'the CLI never started writing');
    return child;
  };

  test('interrupt removes the partial file', async () => {
    const output = path.join(temp.dir, 'big.cuda.pt');
    const child = await startRetarget(output);
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('exit', (status) => resolve(status)));
    assert.equal(code, 130);
    assert.deepEqual(leftoverPartials(temp.dir), []);
    assert.ok(!fs.existsSync(output));
  });

  test('killed process leaves the names intact', async () => {
    const input = writeBigModel();
    const before = sha256(input);
    const output = path.join(temp.dir, 'killed.cuda.pt');
    const child = await startRetarget(output);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.on('exit', resolve));
    assert.ok(!fs.existsSync(output), 'no file may appear under the output name');
    assert.equal(sha256(input), before);
    for (const partial of leftoverPartials(temp.dir)) fs.rmSync(path.join(temp.dir, partial));
  });
});
