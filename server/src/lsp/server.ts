/**
 * Entry point of the language server bundle (dist/server.js). The transport comes from the
 * command line: `--node-ipc` when the extension starts it, `--stdio` for other clients.
 */
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { TorchScriptLanguageServer } from './torchscriptServer';

const connection = createConnection(ProposedFeatures.all);
new TorchScriptLanguageServer(connection).listen();
