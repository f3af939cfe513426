// Runs the extension-host suites in a desktop VS Code that @vscode/test-electron downloads
// (so it needs network access; without it use `npm run test:vscode:codeserver`).
// Usage: npm run test:vscode   (builds the extension and out/test first)
// VSCODE_TEST_VERSION picks the VS Code version (default: the minimum in engines.vscode).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';

import { createTestWorkspace, findRepositoryRoot } from './workspace';

async function main(): Promise<void> {
  const repositoryRoot = findRepositoryRoot();
  const workspaceFolder = createTestWorkspace(repositoryRoot);
  const resultsFile = path.join(repositoryRoot, 'test-artifacts', 'vscode-test-results.json');
  fs.rmSync(resultsFile, { force: true });

  try {
    await runTests({
      version: process.env.VSCODE_TEST_VERSION ?? '1.100.0',
      extensionDevelopmentPath: repositoryRoot,
      extensionTestsPath: path.join(repositoryRoot, 'out', 'test', 'index.js'),
      // Other installed extensions would slow the run and could claim the same files.
      launchArgs: [workspaceFolder, '--disable-extensions', '--disable-workspace-trust', '--skip-welcome', '--skip-release-notes'],
      extensionTestsEnv: { TORCHSCRIPT_DEVICE_TEST_RESULTS: resultsFile },
    });
  } finally {
    fs.rmSync(workspaceFolder, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
