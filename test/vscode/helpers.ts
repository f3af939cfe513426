// Helpers for the suites that run inside the extension host: the extension under test, its
// archives in the workspace, and polling for the diagnostics the language server publishes.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as vscode from 'vscode';

/** Identifier `<publisher>.<name>` from package.json. */
export const EXTENSION_ID = 'torchscript-device.torchscript-device';

/** Scheme of the read-only code record documents (CODE_SCHEME in server/src/lsp/protocol.ts). */
export const CODE_SCHEME = 'torchscript-code';

/** Source of every diagnostic the extension publishes. */
export const DIAGNOSTIC_SOURCE = 'torchscript-device';

export const Commands = {
  retarget: 'torchscriptDevice.retarget',
  checkWorkspace: 'torchscriptDevice.checkWorkspace',
  showGraph: 'torchscriptDevice.showGraph',
} as const;

/** View type of the archive custom editor. */
export const ARCHIVE_VIEW_TYPE = 'torchscriptDevice.archive';

/** Fields of the retarget command's result that the suites read (RetargetResult in the engine). */
export interface RetargetCommandResult {
  output: string;
  device: string;
  changes: unknown[];
}

/** Fields of the workspace check command's result that the suites read. */
export interface WorkspaceCheckCommandResult {
  checked: number;
  withFindings: number;
  findings: number;
  unreadable: number;
  cancelled: boolean;
}

const pollIntervalMs = 200;

/** Calls `probe` until it returns a value other than undefined, or throws `describe()` after `timeoutMs`. */
export async function waitFor<T>(probe: () => T | undefined | Promise<T | undefined>, describe: () => string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms: ${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, pollIntervalMs));
  }
}

export function workspaceFolder(): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'The tests need a workspace folder; the runner opens one made by test/vscode/workspace.ts.');
  return folder.uri;
}

export function workspaceFile(name: string): vscode.Uri {
  return vscode.Uri.joinPath(workspaceFolder(), name);
}

/** Activates the extension under test (a no-op when it is active) and returns it. */
export async function activateExtension(): Promise<vscode.Extension<unknown>> {
  const extension = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(extension, `Extension ${EXTENSION_ID} is not loaded.`);
  await extension.activate();
  return extension;
}

/** Returns the archive a code record URI belongs to, or undefined for any other URI. */
export function archiveOfCodeRecord(uri: vscode.Uri): vscode.Uri | undefined {
  if (uri.scheme !== CODE_SCHEME || !uri.query.startsWith('archive=')) return undefined;
  return vscode.Uri.parse(uri.query.slice('archive='.length));
}

export interface ArchiveDiagnostics {
  /** Diagnostics on the archive file itself (the device summary). */
  onArchive: vscode.Diagnostic[];
  /** Diagnostics on each code record document of the archive, by record URI. */
  onCodeRecords: Map<string, { uri: vscode.Uri; diagnostics: vscode.Diagnostic[] }>;
}

/** Collects the extension's current diagnostics for one archive and its code records. */
export function diagnosticsOfArchive(archive: vscode.Uri): ArchiveDiagnostics {
  const result: ArchiveDiagnostics = { onArchive: [], onCodeRecords: new Map() };
  const ours = (diagnostics: readonly vscode.Diagnostic[]) => diagnostics.filter((diagnostic) => diagnostic.source === DIAGNOSTIC_SOURCE);

  for (const [uri, diagnostics] of vscode.languages.getDiagnostics()) {
    const mine = ours(diagnostics);
    if (mine.length === 0) continue;
    if (uri.scheme === 'file' && path.resolve(uri.fsPath) === path.resolve(archive.fsPath)) {
      result.onArchive.push(...mine);
      continue;
    }
    const owner = archiveOfCodeRecord(uri);
    if (owner && path.resolve(owner.fsPath) === path.resolve(archive.fsPath)) {
      result.onCodeRecords.set(uri.toString(), { uri, diagnostics: mine });
    }
  }
  return result;
}

/** Waits until the archive has diagnostics both on itself and on at least one code record. */
export function waitForArchiveDiagnostics(archive: vscode.Uri, timeoutMs = 60_000): Promise<ArchiveDiagnostics> {
  return waitFor(
    () => {
      const found = diagnosticsOfArchive(archive);
      return found.onArchive.length > 0 && found.onCodeRecords.size > 0 ? found : undefined;
    },
    () => {
      const found = diagnosticsOfArchive(archive);
      const all = vscode.languages.getDiagnostics().map(([uri, list]) => `${uri.toString()} (${list.length})`);
      return `no diagnostics for ${path.basename(archive.fsPath)} on both the archive (${found.onArchive.length}) and its code records (${found.onCodeRecords.size}). All diagnostics: ${all.join(', ') || 'none'}`;
    },
    timeoutMs,
  );
}

/** Returns the 0-based numbers of the lines of `text` that contain `needle`. */
export function linesContaining(text: string, needle: string): number[] {
  return text
    .split(/\r?\n/)
    .flatMap((line, index) => (line.includes(needle) ? [index] : []));
}

/**
 * Converts a file name glob of the kind package.json selectors use (`*`, `**`, `?`,
 * `{a,b}`) to a regular expression for a path with `/` separators.
 */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i];
    if (char === '*' && glob[i + 1] === '*') {
      source += '.*';
      i++;
      if (glob[i + 1] === '/') i++;
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else if (char === '{') source += '(?:';
    else if (char === '}') source += ')';
    else if (char === ',') source += '|';
    else source += char.replace(/[.+^$()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^(?:.*/)?${source}$`, 'i');
}

/** Titles of code actions and commands, for assertions. */
export function titlesOf(actions: readonly (vscode.CodeAction | vscode.Command)[]): string[] {
  return actions.map((action) => action.title);
}

/** Returns the quick fixes VS Code collects from every provider for a diagnostic's range. */
export async function quickFixesFor(uri: vscode.Uri, diagnostic: vscode.Diagnostic): Promise<vscode.CodeAction[]> {
  const actions = await vscode.commands.executeCommand<(vscode.CodeAction | vscode.Command)[]>(
    'vscode.executeCodeActionProvider',
    uri,
    diagnostic.range,
    vscode.CodeActionKind.QuickFix.value,
  );
  return (actions ?? []).filter((action): action is vscode.CodeAction => !(typeof (action as vscode.Command).command === 'string'));
}

/** Closes every editor, so a suite starts from the same window state. */
export async function closeAllEditors(): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}
