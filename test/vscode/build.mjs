// Compiles the VS Code test suites to out/test with esbuild, because the extension host loads
// JavaScript only:
//   out/test/index.js          the extensionTestsPath module, with mocha bundled in (mocha 12
//                              is an ES module, and the desktop extension host cannot require one)
//   out/test/suite/*.test.js   one bundle per suite, `vscode` left to the extension host
//   out/test/runTest.js        the @vscode/test-electron launcher
// Usage: node test/vscode/build.mjs
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const outDir = path.join(root, 'out', 'test');
const suiteDir = path.join(root, 'test', 'vscode', 'suite');

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'inline',
  logLevel: 'warning',
  // Mocha's parallel mode resolves worker files at run time; these suites run serially.
  logOverride: { 'require-resolve-not-external': 'silent' },
  external: ['vscode'],
};

fs.rmSync(outDir, { recursive: true, force: true });

const suites = fs
  .readdirSync(suiteDir)
  .filter((name) => name.endsWith('.test.ts'))
  .map((name) => path.join(suiteDir, name));

await Promise.all([
  esbuild.build({ ...common, entryPoints: [path.join(root, 'test', 'vscode', 'index.ts')], outfile: path.join(outDir, 'index.js') }),
  esbuild.build({ ...common, entryPoints: suites, outdir: path.join(outDir, 'suite') }),
  esbuild.build({
    ...common,
    entryPoints: [path.join(root, 'test', 'vscode', 'runTest.ts')],
    outfile: path.join(outDir, 'runTest.js'),
    packages: 'external',
  }),
]);
