// End-to-end tests of the packaged extension in a real VS Code (code-server 4.100.3) driven
// through headless Chromium. They install the .vsix the way a user does, open a workspace
// with copies of d2go_optimized.pt and a model traced on CPU, and check what the user sees:
// the archive editor, the Problems panel, a quick fix, the palette command and the output.
//
// Usage: npm run test:e2e:ui   (scripts/setup-e2e.sh and scripts/setup-python.sh first)
// TORCHSCRIPT_DEVICE_VSIX names a prebuilt .vsix; without it the tests run `npm run package`.
// Screenshots go to test-artifacts/.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type TestContext, after, before, describe, it } from 'node:test';

import { WorkspaceFiles, createTestWorkspace, readCodeRecordWithPython, readDeviceConstantsWithTorch } from '../vscode/workspace';
import { type CodeServer, assertToolsInstalled, installExtension, readOutputChannelLogs, repositoryRoot, startCodeServer } from './codeServer';
import { type Workbench, launchChromium, openWorkbench } from './workbench';

const outputChannel = 'TorchScript Device';
const cpuLiteral = 'torch.device("cpu")';

/** Returns the .vsix to install: $TORCHSCRIPT_DEVICE_VSIX, else one freshly built by `npm run package`. */
function packageExtension(): string {
  const prebuilt = process.env.TORCHSCRIPT_DEVICE_VSIX;
  if (prebuilt) return path.resolve(prebuilt);

  const manifest = JSON.parse(fs.readFileSync(path.join(repositoryRoot, 'package.json'), 'utf8')) as { name: string; version: string };
  const vsix = path.join(repositoryRoot, `${manifest.name}-${manifest.version}.vsix`);
  fs.rmSync(vsix, { force: true });
  const build = spawnSync('npm', ['run', '--silent', 'package'], { cwd: repositoryRoot, encoding: 'utf8', timeout: 300_000 });
  if (build.status !== 0 || !fs.existsSync(vsix)) {
    throw new Error(`npm run package did not write ${vsix} (exit ${build.status}):\n${build.stdout}\n${build.stderr}`);
  }
  return vsix;
}

/** Archives in the folder, by file name. */
function listArchives(folder: string): Set<string> {
  return new Set(fs.readdirSync(folder).filter((name) => /\.(pt|pth|ptl|torchscript)$/i.test(name)));
}

/** Waits until an archive that is not in `before` appears in the folder and its size stops changing. */
async function waitForNewArchive(folder: string, before: Set<string>, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let lastSize = -1;
  while (Date.now() < deadline) {
    const added = [...listArchives(folder)].filter((name) => !before.has(name));
    if (added.length > 1) throw new Error(`Expected one new archive, found ${added.join(', ')}`);
    if (added.length === 1) {
      const file = path.join(folder, added[0]);
      const size = fs.statSync(file).size;
      if (size > 0 && size === lastSize) return file;
      lastSize = size;
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  throw new Error(`No new archive appeared in ${folder} within ${timeoutMs} ms (had ${[...before].join(', ')})`);
}

/** Calls `probe` until it returns a value other than undefined, or throws `failure` after `timeoutMs`. */
async function waitFor<T>(probe: () => Promise<T | undefined>, failure: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms: ${failure}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function assertAllDevices(archive: string, expected: string): void {
  const report = readDeviceConstantsWithTorch(archive);
  assert.ok(report.devices.length > 0, `PyTorch sees no Device constants in ${archive}`);
  assert.deepEqual(
    report.devices.filter((device) => device !== expected),
    [],
    `Device constants of ${path.basename(archive)} other than ${expected}`,
  );
}

describe('Extension in code-server', { timeout: 10 * 60_000 }, () => {
  /** Runs a test body and saves a screenshot named after the test when it fails. */
  const withFailureScreenshot = (body: () => Promise<void>) => async (context: TestContext) => {
    try {
      await body();
    } catch (error) {
      await workbench?.screenshot(`failed-${context.name.replace(/[^a-z0-9]+/gi, '-')}`).catch(() => undefined);
      throw error;
    }
  };

  let extensionsDir: string;
  let workspaceFolder: string;
  let server: CodeServer | undefined;
  let workbench: Workbench;
  let closeBrowser: (() => Promise<void>) | undefined;

  before(async () => {
    assertToolsInstalled();
    const vsix = packageExtension();
    extensionsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsd-extensions-'));
    installExtension(extensionsDir, vsix);
    workspaceFolder = createTestWorkspace(repositoryRoot);

    server = await startCodeServer({ workspaceFolder, extensionsDir });
    const browser = await launchChromium();
    closeBrowser = () => browser.close();
    workbench = await openWorkbench(browser, server);
    await workbench.waitForCommand('TorchScript: Check Devices in Workspace');
  });

  after(async () => {
    await closeBrowser?.();
    await server?.stop();
    if (extensionsDir) fs.rmSync(extensionsDir, { recursive: true, force: true });
    if (workspaceFolder) fs.rmSync(workspaceFolder, { recursive: true, force: true });
  });

  it('Explorer click opens the archive editor', withFailureScreenshot(async () => {
    await workbench.openFromExplorer(WorkspaceFiles.tracedOnCpu);

    const tab = workbench.page.locator(`.tabs-container .tab[aria-label*="${WorkspaceFiles.tracedOnCpu}"]`);
    await tab.waitFor({ state: 'visible', timeout: 20_000 });
    const frame = await workbench.findWebviewFrame(`body:has-text("${WorkspaceFiles.tracedOnCpu}")`, 30_000);
    const body = frame.locator('body');
    await body.locator(':text("code/__torch__.py")').first().waitFor({ timeout: 30_000 });
    const text = await body.innerText();
    await workbench.screenshot('archive-editor');

    assert.match(text, /TorchScript/, 'the editor does not name the archive kind');
    assert.match(text, /\bcpu\b/, 'the editor does not list the cpu device');
    assert.match(text, /code\/__torch__\.py:\d+:\d+/, 'the editor does not list the code finding with its location');
  }));

  it('Problems panel lists the warnings', withFailureScreenshot(async () => {
    const record = readCodeRecordWithPython(path.join(workspaceFolder, WorkspaceFiles.tracedOnCpu), 'code/__torch__.py');
    const literalLine = record.split('\n').findIndex((line) => line.includes(cpuLiteral)) + 1;
    assert.ok(literalLine > 0, `no ${cpuLiteral} in the traced model's code`);

    await workbench.runCommand('TorchScript: Check Devices in Workspace');
    const rows = await workbench.waitForProblems((labels) => labels.some((label) => label.includes('___torch_mangle_636.py')));
    await workbench.screenshot('problems');
    const d2goRecord = rows.find((label) => label.includes('___torch_mangle_636.py'));
    const count = Number(/^(\d+) problems? in file/.exec(d2goRecord ?? '')?.[1]);
    assert.ok(count >= 21, `the d2go code record lists ${count} problems, expected one per CPU literal (21) or more: ${d2goRecord}`);

    // The panel renders only the rows in view, and d2go's rows come first: keep the traced model's.
    await workbench.filterProblems(`**/${WorkspaceFiles.tracedOnCpu}/**`);
    const warningAtLiteral = new RegExp(`^Warning: .*cpu.* at line ${literalLine} and character \\d+`);
    const tracedRows = await workbench.waitForProblems((labels) => labels.some((label) => warningAtLiteral.test(label)));
    await workbench.screenshot('problems-traced-model');
    assert.ok(tracedRows.some((label) => warningAtLiteral.test(label)), `no warning at line ${literalLine}:\n${tracedRows.join('\n')}`);
  }));

  it('quick fix writes the retargeted archive', withFailureScreenshot(async () => {
    const archivesBefore = listArchives(workspaceFolder);
    const record = readCodeRecordWithPython(path.join(workspaceFolder, WorkspaceFiles.tracedOnCpu), 'code/__torch__.py');
    const literalLine = record.split('\n').findIndex((line) => line.includes(cpuLiteral)) + 1;

    const warning = workbench.page.locator(`.markers-panel .monaco-list-row[aria-label*="at line ${literalLine} and character"]`).first();
    const fixes = await workbench.showFixesOfProblem(warning);
    await workbench.screenshot('quick-fix-menu');

    assert.deepEqual(fixes, ['Retarget to cuda', 'Retarget to cuda:0', 'Choose device...']);
    await workbench.chooseMenuItem('Retarget to cuda');

    const written = await waitForNewArchive(workspaceFolder, archivesBefore);
    assertAllDevices(written, 'cuda');
  }));

  it('palette command retargets to a typed device', withFailureScreenshot(async () => {
    const archivesBefore = listArchives(workspaceFolder);
    await workbench.openFromExplorer(WorkspaceFiles.d2go);
    await workbench.findWebviewFrame(`body:has-text("${WorkspaceFiles.d2go}")`, 30_000);

    await workbench.runCommand('TorchScript: Retarget Device...');
    const devicePrompt = await workbench.quickInputPrompt();
    assert.match(devicePrompt, /d2go_optimized\.pt/, `the device picker does not name the archive: ${devicePrompt}`);
    await workbench.typeAndPick('cuda:1');

    // code-server shows its own file dialog: a quick input that first lists the folder and
    // then fills in the default output path.
    await workbench.page.locator('.quick-input-widget .quick-input-action', { hasText: 'OK' }).waitFor({ state: 'visible', timeout: 20_000 });
    const outputPath = await waitFor(async () => {
      const value = await workbench.quickInputBox().inputValue();
      return value.endsWith('.pt') ? value : undefined;
    }, 'the save dialog never proposed a .pt file');
    await workbench.screenshot('retarget-save-dialog');
    assert.ok(outputPath.startsWith(workspaceFolder), `the save dialog proposes ${outputPath}, outside the workspace`);
    await workbench.page.keyboard.press('Enter');

    const written = await waitForNewArchive(workspaceFolder, archivesBefore, 120_000);
    assertAllDevices(written, 'cuda:1');
  }));

  it('output channel shows no error', withFailureScreenshot(async () => {
    const visible = await workbench.readOutputChannel(outputChannel);
    await workbench.screenshot('output');
    const logged = readOutputChannelLogs(server!, outputChannel);

    assert.ok(logged.length > 0 || visible.length > 0, `the "${outputChannel}" output channel is empty`);
    assert.doesNotMatch(visible, /\[error\]/i);
    assert.doesNotMatch(logged, /\[error\]/i);
    const notifications = await workbench.readNotifications();
    assert.ok(!notifications.some((text) => /^Error/i.test(text)), `error notifications: ${notifications.join(' | ')}`);
    assert.equal(await workbench.readDialog(), undefined);
  }));
});
