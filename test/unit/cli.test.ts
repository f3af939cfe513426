import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { classicModel, copyModel } from './helpers/classicModel';
import { makeTempDir, realFixture, repoRoot, runPython } from './helpers/zipFixtures';

const cli = path.join(repoRoot, 'dist', 'cli.js');

function runCli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  assert.ok(fs.existsSync(cli), 'dist/cli.js is missing: run npm run build');
  const run = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

interface CheckDocument {
  files: { path: string; kind: string; error?: string; findings: { code: string; severity: string; device: string; record: string; range?: unknown; message: string }[] }[];
}

/**
 * Writes a rewritten copy of an archive with Python's zipfile. `editScript` is Python code
 * that runs with `zin`, `zout`, `top` and `add(name, data)` in scope.
 */
function rewriteArchive(source: string, target: string, editScript: string): void {
  const script = String.raw`
import sys, zipfile
source, target = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, 'w') as zout:
    top = zin.namelist()[0].split('/')[0]
    def add(name, data):
        zout.writestr(zipfile.ZipInfo(name), data)
` + editScript;
  runPython('python3', script, [source, target]);
}

describe('cli check', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let model: string;

  before(() => {
    temp = makeTempDir('cli');
    model = copyModel(classicModel(), temp.dir);
  });
  after(() => temp.remove());

  test('exit 1 and JSON for findings', () => {
    const run = runCli('check', model, '--json');
    assert.equal(run.status, 1, run.stderr);
    const document = JSON.parse(run.stdout) as CheckDocument;
    assert.equal(document.files.length, 1);
    const [file] = document.files;
    assert.equal(file.path, model);
    assert.equal(file.kind, 'torchscript');
    assert.equal(file.error, undefined);
    const literal = file.findings.find((finding) => finding.code === 'code-device-literal');
    assert.ok(literal, 'the traced torch.ones device is reported');
    assert.equal(literal.device, 'cpu');
    assert.equal(literal.record, 'code/__torch__.py');
    assert.equal(literal.severity, 'warning');
    assert.deepEqual(Object.keys(literal).sort(), ['code', 'device', 'message', 'range', 'record', 'severity']);
    assert.match(literal.message, /module\.to\(\)/);
  });

  test('expect hides matching devices', () => {
    const run = runCli('check', model, '--json', '--expect', 'cpu');
    assert.equal(run.status, 0, run.stdout);
    assert.deepEqual((JSON.parse(run.stdout) as CheckDocument).files[0].findings, []);
    assert.equal(runCli('check', model, '--expect', 'cuda').status, 1);
  });

  test('exit 0 for a clean model', () => {
    const retargeted = path.join(temp.dir, 'clean.pt');
    assert.equal(runCli('retarget', model, '--device', 'cuda', '-o', retargeted).status, 0);
    const run = runCli('check', retargeted, '--expect', 'cuda');
    assert.equal(run.status, 0, run.stdout);
    assert.match(run.stdout, /0 hard-coded devices in 1 file/);
  });

  test('text output names line and column', () => {
    const run = runCli('check', realFixture('d2go_optimized.pt'));
    assert.equal(run.status, 1);
    const lines = run.stdout.split('\n').filter((line) => line.includes('[code-device-literal]'));
    assert.equal(lines.length, 21);
    assert.match(lines[0], /d2go_optimized\.pt: code\/__torch__\/___torch_mangle_636\.py:\d+:\d+: warning: torch\.device\("cpu"\)/);
  });

  test('usage errors exit 2', () => {
    for (const args of [[], ['check'], ['retarget', model], ['check', model, '--bogus'], ['frobnicate']]) {
      const run = runCli(...args);
      if (args.length === 0) {
        assert.equal(run.status, 0, 'no arguments prints help');
        continue;
      }
      assert.equal(run.status, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, /torchscript-device --help/);
    }
  });

  test('invalid device lists accepted forms', () => {
    for (const device of ['cuda:01', 'CUDA', 'gpu', 'cuda:128', 'cpu:1']) {
      const run = runCli('retarget', model, '--device', device);
      assert.equal(run.status, 2, device);
      assert.match(run.stderr, new RegExp(`invalid device "${device}": expected a PyTorch device such as cpu, cuda, cuda:0, meta, mps or xpu:1`));
    }
    const expect = runCli('check', model, '--expect', 'gpu');
    assert.equal(expect.status, 2);
    assert.match(expect.stderr, /invalid device "gpu"/);
  });

  test('retarget json reports failures', () => {
    const run = runCli('retarget', path.join(temp.dir, 'missing.pt'), '--device', 'cuda', '--json');
    assert.equal(run.status, 2);
    const document = JSON.parse(run.stdout) as { error: string; file: string };
    assert.match(document.error, /file not found/);
    assert.equal(document.file, path.join(temp.dir, 'missing.pt'));
  });

  test('damaged record fails the CRC check', () => {
    const damaged = path.join(temp.dir, 'damaged.pt');
    const bytes = fs.readFileSync(model);
    // Flip one byte inside the stored data.pkl record, whose bytes follow its local header.
    const offset = bytes.indexOf(Buffer.from('data.pkl')) + 'data.pkl'.length + 80;
    bytes[offset] ^= 0xff;
    fs.writeFileSync(damaged, bytes);
    const run = runCli('check', damaged, '--json');
    assert.equal(run.status, 2, run.stdout);
    const [report] = (JSON.parse(run.stdout) as CheckDocument).files;
    assert.match(report.error ?? '', /record is damaged: its CRC-32/);
  });
});

describe('cli bad input', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let model: string;
  const cases: { name: string; make: () => string; message: RegExp; record?: string }[] = [];

  before(() => {
    temp = makeTempDir('cli-bad');
    model = copyModel(classicModel(), temp.dir);
  });
  after(() => temp.remove());

  const badFile = (name: string): string => path.join(temp.dir, name);

  cases.push(
    {
      name: 'truncated zip',
      make: () => {
        const file = badFile('truncated.pt');
        const bytes = fs.readFileSync(model);
        fs.writeFileSync(file, bytes.subarray(0, bytes.length - 100));
        return file;
      },
      message: /truncated/,
    },
    {
      name: 'empty file',
      make: () => {
        const file = badFile('empty.pt');
        fs.writeFileSync(file, '');
        return file;
      },
      message: /empty file/,
    },
    {
      name: 'directory',
      make: () => {
        const dir = badFile('folder.pt');
        fs.mkdirSync(dir, { recursive: true });
        return dir;
      },
      message: /directory/,
    },
    {
      name: 'entries outside one top folder',
      make: () => {
        const file = badFile('two-folders.pt');
        rewriteArchive(model, file, `
    for info in zin.infolist():
        add(info.filename, zin.read(info))
    add('other/extra.txt', b'x')
`);
        return file;
      },
      message: /other\/extra\.txt.*top folder|top folder.*other\/extra\.txt/,
    },
    {
      name: 'entry name with dot dot',
      make: () => {
        const file = badFile('dotdot.pt');
        rewriteArchive(model, file, `
    for info in zin.infolist():
        add(info.filename, zin.read(info))
    add(top + '/../escape.txt', b'x')
`);
        return file;
      },
      message: /escape/,
    },
    {
      name: 'corrupt pickle',
      make: () => {
        const file = badFile('corrupt-pickle.pt');
        rewriteArchive(model, file, `
    for info in zin.infolist():
        data = zin.read(info)
        if info.filename.endswith('/data.pkl'):
            data = data[:len(data) // 2]
        add(info.filename, data)
`);
        return file;
      },
      message: /data\.pkl/,
      record: 'data.pkl',
    },
    {
      name: 'pickle naming arbitrary globals',
      make: () => {
        const file = badFile('globals.pt');
        rewriteArchive(model, file, `
    for info in zin.infolist():
        data = zin.read(info)
        if info.filename.endswith('/constants.pkl'):
            data = b'\\x80\\x02cos\\nsystem\\nX\\x02\\x00\\x00\\x00idq\\x00\\x85R.'
        add(info.filename, data)
`);
        return file;
      },
      message: /os\.system/,
      record: 'constants.pkl',
    },
    {
      name: 'non-UTF-8 code record',
      make: () => {
        const file = badFile('latin1.pt');
        rewriteArchive(model, file, `
    for info in zin.infolist():
        data = zin.read(info)
        if info.filename.endswith('/code/__torch__.py'):
            data = data + b'# \\xff\\xfe\\n'
        add(info.filename, data)
`);
        return file;
      },
      message: /UTF-8/,
      record: 'code/__torch__.py',
    },
    {
      name: 'not a PyTorch file',
      make: () => {
        const file = badFile('notes.pt');
        fs.writeFileSync(file, 'just some text\n');
        return file;
      },
      message: /not a PyTorch file|neither a zip/,
    },
  );

  for (const { name, make, message, record } of [...cases]) {
    test(`${name} exits 2`, () => {
      const file = make();
      const run = runCli('check', file, '--json');
      assert.equal(run.status, 2, `${name}: ${run.stdout}${run.stderr}`);
      const [report] = (JSON.parse(run.stdout) as CheckDocument).files;
      assert.ok(report.error, `${name}: an error is reported`);
      assert.ok(report.error.includes(file), `${name}: the error names the file: ${report.error}`);
      assert.match(report.error, message);
      if (record) assert.ok(report.error.includes(record), `${name}: the error names the record: ${report.error}`);
      assert.deepEqual(report.findings, []);

      const retarget = runCli('retarget', file, '--device', 'cuda', '-o', path.join(temp.dir, 'never.pt'));
      assert.equal(retarget.status, 2);
      assert.ok(!fs.existsSync(path.join(temp.dir, 'never.pt')));
    });
  }

  test('deflate bomb exits 2', () => {
    const file = badFile('bomb.pt');
    rewriteArchive(model, file, `
    for info in zin.infolist():
        data = zin.read(info)
        if info.filename.endswith('/code/__torch__.py'):
            zi = zipfile.ZipInfo(info.filename)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zout.writestr(zi, b'#' * (300 * 1024 * 1024))
            continue
        add(info.filename, data)
`);
    const run = runCli('check', file, '--json');
    assert.equal(run.status, 2);
    const [report] = (JSON.parse(run.stdout) as CheckDocument).files;
    assert.match(report.error ?? '', /code\/__torch__\.py/);
  });

  test('one bad file keeps the others', () => {
    const empty = badFile('empty-too.pt');
    fs.writeFileSync(empty, '');
    const run = runCli('check', model, empty, '--json');
    assert.equal(run.status, 2);
    const document = JSON.parse(run.stdout) as CheckDocument;
    assert.equal(document.files.length, 2);
    assert.ok(document.files[0].findings.length > 0);
    assert.ok(document.files[1].error);
  });
});
