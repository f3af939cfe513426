// Bundles the extension client, the language server, the CLI and the webview scripts with
// esbuild, and copies the tree-sitter wasm files next to the bundles that load them.
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const dist = path.join(root, 'dist');
const production = process.argv.includes('--production');
const packageVersion = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version;

const nodeBundles = [
  { entry: 'server/src/cli/main.ts', out: 'cli.js', executable: true },
  { entry: 'client/src/extension.ts', out: 'client.js' },
  { entry: 'server/src/lsp/server.ts', out: 'server.js' },
];

const browserBundles = [
  { entry: 'media/src/graph/webview.ts', out: 'graphWebview.js' },
  { entry: 'media/src/graph/layoutWorker.ts', out: 'graphLayoutWorker.js' },
];

fs.mkdirSync(dist, { recursive: true });

await Promise.all([
  ...nodeBundles.map(({ entry, out, executable }) =>
    esbuild.build({
      entryPoints: [path.join(root, entry)],
      outfile: path.join(dist, out),
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      external: ['vscode'],
      // web-tree-sitter locates itself through import.meta.url, which a CommonJS bundle lacks.
      define: { 'import.meta.url': 'importMetaUrl', __VERSION__: JSON.stringify(packageVersion) },
      banner: { js: `${executable ? '#!/usr/bin/env node\n' : ''}const importMetaUrl = require('url').pathToFileURL(__filename).href;` },
      sourcemap: !production,
      minify: production,
      logLevel: 'warning',
    }),
  ),
  ...browserBundles.map(({ entry, out }) =>
    esbuild.build({
      entryPoints: [path.join(root, entry)],
      outfile: path.join(dist, out),
      bundle: true,
      platform: 'browser',
      target: 'chrome120',
      format: 'iife',
      sourcemap: !production,
      minify: production,
      logLevel: 'warning',
    }),
  ),
]);

for (const wasm of [
  'node_modules/web-tree-sitter/web-tree-sitter.wasm',
  'node_modules/tree-sitter-python/tree-sitter-python.wasm',
]) {
  fs.copyFileSync(path.join(root, wasm), path.join(dist, path.basename(wasm)));
}
