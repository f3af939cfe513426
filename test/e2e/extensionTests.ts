// Runs the extension-host suites (test/vscode, built to out/test) inside code-server's Node
// extension host, the way @vscode/test-electron runs them in a desktop VS Code.
//
// The workbench URL carries a `payload` query parameter that names the extension under
// development and the tests module. The page never exits by itself, so the tests module
// writes a JSON summary to $TORCHSCRIPT_DEVICE_TEST_RESULTS and this driver waits for it.
//
// Usage: node --import tsx test/e2e/extensionTests.ts [--extension DIR] [--tests FILE] [--workspace DIR]
//   --extension  extension folder to load (default: the repository, which must be built)
//   --tests      extensionTestsPath module (default: out/test/index.js)
//   --workspace  folder to open (default: a fresh copy made by test/vscode/workspace.ts)
// TORCHSCRIPT_DEVICE_TEST_GREP restricts the run to matching test titles.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';

import type { TestRunSummary } from '../vscode/index';
import { createTestWorkspace } from '../vscode/workspace';
import { artifactsDir, repositoryRoot, startCodeServer } from './codeServer';
import { launchChromium, openWorkbench } from './workbench';

const runTimeoutMs = 8 * 60_000;

export interface ExtensionTestOptions {
  extensionDevelopmentPath: string;
  extensionTestsPath: string;
  workspaceFolder: string;
  /** Where the summary goes; the driver deletes an older one first. */
  resultsFile: string;
  /** Receives one line per finished test while the run goes on. */
  onProgress?: (line: string) => void;
}

/** Starts code-server with an empty extensions folder, runs the tests module and returns its summary. */
export async function runExtensionTestsInCodeServer(options: ExtensionTestOptions): Promise<TestRunSummary> {
  fs.rmSync(options.resultsFile, { force: true });
  fs.rmSync(`${options.resultsFile}.progress`, { force: true });
  const extensionsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsd-extensions-'));
  const server = await startCodeServer({
    workspaceFolder: options.workspaceFolder,
    extensionsDir,
    env: { TORCHSCRIPT_DEVICE_TEST_RESULTS: options.resultsFile },
  });
  const browser = await launchChromium();

  try {
    const remote = (folder: string) => `vscode-remote://127.0.0.1:${server.port}${folder}`;
    const payload = JSON.stringify([
      ['extensionDevelopmentPath', remote(options.extensionDevelopmentPath)],
      ['extensionTestsPath', remote(options.extensionTestsPath)],
    ]);
    const workbench = await openWorkbench(browser, server, { query: { payload } });
    const progressFile = `${options.resultsFile}.progress`;
    let progressShown = 0;
    const showProgress = () => {
      if (!fs.existsSync(progressFile)) return;
      const lines = fs.readFileSync(progressFile, 'utf8').split('\n').filter((line) => line !== '');
      for (const line of lines.slice(progressShown)) options.onProgress?.(line);
      progressShown = lines.length;
    };

    const deadline = Date.now() + runTimeoutMs;
    while (!fs.existsSync(options.resultsFile)) {
      showProgress();
      if (Date.now() > deadline) {
        await workbench.screenshot('extension-tests-timeout');
        throw new Error(`The extension tests wrote no results to ${options.resultsFile} within ${runTimeoutMs} ms. See test-artifacts/extension-tests-timeout.png and ${server.logFile}.`);
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    showProgress();
    fs.writeFileSync(path.join(artifactsDir, 'extension-tests-console.log'), workbench.consoleMessages.join('\n'));
    return JSON.parse(fs.readFileSync(options.resultsFile, 'utf8')) as TestRunSummary;
  } finally {
    await browser.close();
    await server.stop();
    fs.rmSync(extensionsDir, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      extension: { type: 'string', default: repositoryRoot },
      tests: { type: 'string', default: path.join(repositoryRoot, 'out', 'test', 'index.js') },
      workspace: { type: 'string' },
    },
  });

  const started = Date.now();
  const workspaceFolder = values.workspace ?? createTestWorkspace(repositoryRoot);
  const resultsFile = path.join(artifactsDir, 'codeserver-test-results.json');

  try {
    const summary = await runExtensionTestsInCodeServer({
      extensionDevelopmentPath: path.resolve(values.extension),
      extensionTestsPath: path.resolve(values.tests),
      workspaceFolder,
      resultsFile,
      onProgress: (line) => console.log(line),
    });

    for (const test of summary.tests.filter((result) => result.error !== undefined)) {
      console.log(`\nfailed: ${test.fullTitle}\n${test.error}`);
    }
    if (summary.error) console.log(`The test run failed to start: ${summary.error}`);
    console.log(`${summary.passes} passed, ${summary.failures} failed, ${summary.pending} pending in ${((Date.now() - started) / 1000).toFixed(1)} s (results: ${resultsFile})`);
    return summary.failures === 0 && summary.tests.length > 0 && !summary.error ? 0 : 1;
  } finally {
    if (values.workspace === undefined) fs.rmSync(workspaceFolder, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
