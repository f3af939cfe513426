import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';

const repoRoot = path.resolve(__dirname, '..', '..');

function readJson(relativePath: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(repoRoot, relativePath), 'utf8')) as Record<string, unknown>;
}

/** Returns the `{0}`-style placeholders of a message, sorted. */
function placeholders(message: string): string[] {
  return (message.match(/\{\d+\}/g) ?? []).sort();
}

/** Collects every `%key%` string of the manifest. */
function manifestKeys(value: unknown, keys = new Set<string>()): Set<string> {
  if (typeof value === 'string') {
    const match = /^%([^%]+)%$/.exec(value);
    if (match) keys.add(match[1]);
  } else if (Array.isArray(value)) {
    for (const item of value) manifestKeys(item, keys);
  } else if (value !== null && typeof value === 'object') {
    for (const item of Object.values(value)) manifestKeys(item, keys);
  }
  return keys;
}

describe('localization files', () => {
  it('bundle matches the sources', () => {
    // The same export as `npm run l10n`, into a temporary folder.
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'l10n-export-'));
    try {
      const cli = path.join(repoRoot, 'node_modules', '@vscode', 'l10n-dev', 'dist', 'cli.js');
      execFileSync(process.execPath, [cli, 'export', '--outDir', outDir, './client/src', './server/src/lsp'], { cwd: repoRoot, stdio: 'pipe' });
      const exported = JSON.parse(fs.readFileSync(path.join(outDir, 'bundle.l10n.json'), 'utf8')) as Record<string, unknown>;
      assert.deepEqual(Object.keys(readJson('l10n/bundle.l10n.json')).sort(), Object.keys(exported).sort(), 'run "npm run l10n" to update l10n/bundle.l10n.json');
    } finally {
      fs.rmSync(outDir, { recursive: true, force: true });
    }
  });

  it('Chinese bundle translates every message', () => {
    const english = readJson('l10n/bundle.l10n.json');
    const chinese = readJson('l10n/bundle.l10n.zh-cn.json');

    assert.deepEqual(Object.keys(chinese).sort(), Object.keys(english).sort());
    for (const [message, translation] of Object.entries(chinese)) {
      assert.equal(typeof translation, 'string', message);
      assert.deepEqual(placeholders(translation as string), placeholders(message), `placeholders of "${message}"`);
    }
  });

  it('manifest strings exist in both languages', () => {
    const used = [...manifestKeys(readJson('package.json'))].sort();
    const english = readJson('package.nls.json');
    const chinese = readJson('package.nls.zh-cn.json');

    assert.ok(used.length > 0);
    assert.deepEqual(used, Object.keys(english).sort(), 'package.json and package.nls.json list the same keys');
    assert.deepEqual(Object.keys(chinese).sort(), Object.keys(english).sort());
  });
});
