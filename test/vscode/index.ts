// Entry point that VS Code loads as `extensionTestsPath`: runs the mocha suites in
// out/test/suite inside the extension host, where the `vscode` API is available.
//
// Two runners load it: @vscode/test-electron on a desktop (test/vscode/runTest.ts), which
// exits VS Code when run() settles, and code-server (test/e2e/extensionTests.ts), whose
// browser page never exits. For the second, run() writes a JSON summary to the file named by
// $TORCHSCRIPT_DEVICE_TEST_RESULTS, and the driver waits for that file. One line per finished
// test also goes to that path plus `.progress`, because code-server does not forward the
// extension host's console to the driver.
// $TORCHSCRIPT_DEVICE_TEST_GREP restricts the run to tests whose full title matches it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';

export interface TestResult {
  fullTitle: string;
  state: 'passed' | 'failed' | 'pending';
  durationMs?: number;
  error?: string;
}

export interface TestRunSummary {
  passes: number;
  failures: number;
  pending: number;
  durationMs: number;
  tests: TestResult[];
  /** Set when the run could not start, for example when a suite file failed to load. */
  error?: string;
}

function writeSummary(summary: TestRunSummary): void {
  const file = process.env.TORCHSCRIPT_DEVICE_TEST_RESULTS;
  if (!file) return;

  // Written under a temporary name and renamed, so the driver never reads half a file.
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(`${file}.partial`, JSON.stringify(summary, null, 2));
  fs.renameSync(`${file}.partial`, file);
}

function appendProgress(line: string): void {
  const file = process.env.TORCHSCRIPT_DEVICE_TEST_RESULTS;
  if (!file) return;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.appendFileSync(`${file}.progress`, `${line}\n`);
}

function describeError(error: unknown): string {
  if (error instanceof Error) return error.stack ?? `${error.name}: ${error.message}`;
  return String(error);
}

export async function run(): Promise<void> {
  const started = Date.now();
  const tests: TestResult[] = [];

  let failures: number;
  try {
    const mocha = new Mocha({ ui: 'bdd', color: false, reporter: 'spec', timeout: 120_000, slow: 10_000 });
    const grep = process.env.TORCHSCRIPT_DEVICE_TEST_GREP;
    if (grep) mocha.grep(grep);

    const suiteDir = path.join(__dirname, 'suite');
    for (const file of fs.readdirSync(suiteDir).filter((name) => name.endsWith('.test.js')).sort()) {
      mocha.addFile(path.join(suiteDir, file));
    }

    failures = await new Promise<number>((resolve) => {
      const runner = mocha.run(resolve);
      const record = (result: TestResult) => {
        tests.push(result);
        appendProgress(`${result.state} ${result.fullTitle}${result.durationMs !== undefined ? ` (${result.durationMs} ms)` : ''}`);
      };
      runner.on('pass', (test) => record({ fullTitle: test.fullTitle(), state: 'passed', durationMs: test.duration }));
      runner.on('fail', (test, error) => record({ fullTitle: test.fullTitle(), state: 'failed', durationMs: test.duration, error: describeError(error) }));
      runner.on('pending', (test) => record({ fullTitle: test.fullTitle(), state: 'pending' }));
    });
  } catch (error) {
    writeSummary({ passes: 0, failures: 1, pending: 0, durationMs: Date.now() - started, tests, error: describeError(error) });
    throw error;
  }

  writeSummary({
    passes: tests.filter((test) => test.state === 'passed').length,
    failures,
    pending: tests.filter((test) => test.state === 'pending').length,
    durationMs: Date.now() - started,
    tests,
  });
  if (failures > 0) throw new Error(`${failures} VS Code extension test(s) failed.`);
}
