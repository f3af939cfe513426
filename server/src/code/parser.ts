import * as fs from 'node:fs';
import * as path from 'node:path';
import { Language, Parser, type Tree } from 'web-tree-sitter';

/**
 * Folders searched for `tree-sitter.wasm` and `tree-sitter-python.wasm`: next to the
 * bundle (the build copies both into dist/), then the packages in node_modules when
 * running from source.
 */
function wasmCandidates(fileName: string): string[] {
  const here = __dirname;
  const candidates = [path.join(here, fileName)];
  let dir = here;
  for (let depth = 0; depth < 6; depth++) {
    candidates.push(path.join(dir, 'node_modules', 'web-tree-sitter', fileName));
    candidates.push(path.join(dir, 'node_modules', 'tree-sitter-python', fileName));
    dir = path.dirname(dir);
  }
  return candidates;
}

function locateWasm(fileName: string): string {
  for (const candidate of wasmCandidates(fileName)) {
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error(`${fileName} not found next to ${__dirname} or in node_modules; run "npm ci" and "npm run build".`);
}

let pythonParser: Promise<Parser> | undefined;

/** Loads the Python grammar once per process and returns a shared parser. */
export function getPythonParser(): Promise<Parser> {
  pythonParser ??= (async () => {
    const runtimeWasm = locateWasm('web-tree-sitter.wasm');
    await Parser.init({ locateFile: () => runtimeWasm });
    const language = await Language.load(locateWasm('tree-sitter-python.wasm'));
    const parser = new Parser();
    parser.setLanguage(language);
    return parser;
  })();
  return pythonParser;
}

/** Parses TorchScript code text (serialized Python) into a syntax tree. The caller must call `tree.delete()`. */
export async function parsePython(text: string): Promise<Tree> {
  const parser = await getPythonParser();
  const tree = parser.parse(text);
  if (!tree) throw new Error('tree-sitter returned no tree');
  return tree;
}
