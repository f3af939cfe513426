import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';

import { ARCHIVE_VIEW_TYPE, Commands, EXTENSION_ID, activateExtension, globToRegExp, waitFor } from '../helpers';

interface ExtensionApi {
  languageClient?: { isRunning(): boolean };
}

interface CustomEditorContribution {
  viewType: string;
  selector: { filenamePattern: string }[];
  priority?: string;
}

describe('Extension activation', () => {
  it('activates for a workspace with archives', async () => {
    const extension = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(extension, `${EXTENSION_ID} is not loaded`);

    // The workspaceContains activation event fires without any command or open editor.
    await waitFor(
      () => (extension.isActive ? true : undefined),
      () => `${EXTENSION_ID} did not activate for a workspace holding .pt files`,
      30_000,
    );
  });

  it('registers the palette commands', async () => {
    await activateExtension();
    const registered = new Set(await vscode.commands.getCommands(true));

    for (const command of Object.values(Commands)) {
      assert.ok(registered.has(command), `command ${command} is not registered`);
    }
  });

  it('starts the language server', async () => {
    const extension = await activateExtension();
    const api = extension.exports as ExtensionApi | undefined;
    assert.ok(api?.languageClient, 'activate() returned no languageClient');

    await waitFor(
      () => (api.languageClient!.isRunning() ? true : undefined),
      () => 'the language client is not running',
      30_000,
    );
  });

  it('contributes the archive custom editor', async () => {
    const extension = await activateExtension();
    const editors = (extension.packageJSON.contributes?.customEditors ?? []) as CustomEditorContribution[];
    const archiveEditor = editors.find((editor) => editor.viewType === ARCHIVE_VIEW_TYPE);
    assert.ok(archiveEditor, `no custom editor with viewType ${ARCHIVE_VIEW_TYPE}`);

    const patterns = archiveEditor.selector.map((selector) => selector.filenamePattern);
    for (const fileName of ['model.pt', 'model.pth', 'model.ptl', 'model.torchscript']) {
      assert.ok(
        patterns.some((pattern) => globToRegExp(pattern).test(fileName)),
        `the archive editor does not open ${fileName} (patterns: ${patterns.join(', ')})`,
      );
    }
  });
});
