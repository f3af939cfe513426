// Runs the bundled CLI, rebuilding it first when any source file is newer than the bundle,
// so that `npm run -s cli -- ...` works on a fresh clone after `npm ci`.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const bundle = path.join(root, 'dist', 'cli.js');

function newestSourceTime(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSourceTime(full));
    else newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

function bundleIsStale() {
  const bundleTime = fs.existsSync(bundle) ? fs.statSync(bundle).mtimeMs : 0;
  return bundleTime < newestSourceTime(path.join(root, 'server', 'src'));
}

/**
 * Rebuilds under a lock folder, so that CLI runs started in parallel (as the tests do) never
 * read a bundle or wasm file that another run is still writing.
 */
function rebuildIfStale() {
  if (!bundleIsStale()) return;
  const lock = path.join(root, 'dist', '.build-lock');
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      if (Date.now() > deadline) {
        process.stderr.write(`torchscript-device: timed out waiting for another build to finish; remove ${lock} if no build is running\n`);
        process.exit(2);
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }
  let built = true;
  try {
    if (bundleIsStale()) {
      const build = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { stdio: ['ignore', 2, 2] });
      built = build.status === 0;
    }
  } finally {
    fs.rmdirSync(lock);
  }
  if (!built) process.exit(2);
}

rebuildIfStale();

// npm runs scripts in the package folder; INIT_CWD is where the user typed the command, so
// relative paths in the arguments resolve there.
const run = spawnSync(process.execPath, [bundle, ...process.argv.slice(2)], { stdio: 'inherit', cwd: process.env.INIT_CWD ?? process.cwd() });
process.exit(run.status ?? 2);
