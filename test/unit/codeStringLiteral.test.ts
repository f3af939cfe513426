import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { parsePython } from '../../server/src/code/parser';
import { decodeStringLiteral } from '../../server/src/code/stringLiteral';
import { repoRoot } from './helpers/torchCodeRecords';

interface PrintedStrings {
  strings: string[];
  code: string;
  carriageReturnCode: string;
  carriageReturnLoads: boolean;
}

let printedStrings: PrintedStrings | undefined;

/** Runs the PyTorch helper once per test process. */
function printStringsWithTorch(): PrintedStrings {
  printedStrings ??= runStringHelper();
  return printedStrings;
}

function runStringHelper(): PrintedStrings {
  const python = path.join(repoRoot, '.venv', 'bin', 'python');
  const script = path.join(__dirname, 'helpers', 'torch_code_strings.py');
  return JSON.parse(execFileSync(python, [script], { encoding: 'utf8' })) as PrintedStrings;
}

/** Returns the elements of the first list literal in `code` as source text. */
async function listElements(code: string): Promise<{ type: string; text: string }[]> {
  const tree = await parsePython(code);
  try {
    const list = tree.rootNode.descendantsOfType('list')[0];
    assert.ok(list, 'the printed code contains a list');
    return list.namedChildren.map((child) => ({ type: child!.type, text: child!.text }));
  } finally {
    tree.delete();
  }
}

describe('decodeStringLiteral', () => {
  test('reads back what PyTorch prints', async () => {
    const printed = printStringsWithTorch();
    const elements = await listElements(printed.code);
    assert.equal(elements.length, printed.strings.length);

    let literals = 0;
    elements.forEach((element, i) => {
      // PyTorch moves strings with non-ASCII text into CONSTANTS instead of the code.
      if (element.type !== 'string') {
        assert.match(element.text, /^CONSTANTS\.c\d+$/);
        return;
      }
      literals += 1;
      assert.equal(decodeStringLiteral(element.text), printed.strings[i], `literal ${element.text}`);
    });
    assert.ok(literals >= 14, `most strings are printed inline (${literals})`);
  });

  test('rejects \\r as PyTorch does', () => {
    const printed = printStringsWithTorch();
    assert.match(printed.carriageReturnCode, /"a\\rb"/);
    assert.equal(printed.carriageReturnLoads, false, 'torch.jit.load rejects "\\r"');
    assert.equal(decodeStringLiteral('"a\\rb"'), undefined);
  });

  test('decodes octal escapes as UTF-8 bytes', () => {
    assert.equal(decodeStringLiteral('"cu\\144a:1"'), 'cuda:1');
    assert.equal(decodeStringLiteral('"d\\303\\251j\\303\\240"'), 'déjà');
    assert.equal(decodeStringLiteral('"\\000"'), '\0');
  });

  test('rejects escapes PyTorch rejects', () => {
    assert.equal(decodeStringLiteral('"\\x41"'), undefined);
    assert.equal(decodeStringLiteral('"\\u00e9"'), undefined);
    assert.equal(decodeStringLiteral('"\\U000000e9"'), undefined);
    assert.equal(decodeStringLiteral('"\\400"'), undefined);
    assert.equal(decodeStringLiteral('"\\12"'), undefined);
    assert.equal(decodeStringLiteral('"\\8"'), undefined);
    assert.equal(decodeStringLiteral('"end\\"'), undefined);
  });

  test('reads quotes of every form', () => {
    assert.equal(decodeStringLiteral("'cpu'"), 'cpu');
    assert.equal(decodeStringLiteral('""'), '');
    assert.equal(decodeStringLiteral('""""""'), '');
    assert.equal(decodeStringLiteral('"""a"b"""'), 'a"b');
    assert.equal(decodeStringLiteral('"line\\\ncontinued"'), 'line\ncontinued');
  });

  test('rejects text that is no literal', () => {
    assert.equal(decodeStringLiteral('cpu'), undefined);
    assert.equal(decodeStringLiteral('b"cpu"'), undefined);
    assert.equal(decodeStringLiteral('"cpu'), undefined);
    assert.equal(decodeStringLiteral(''), undefined);
  });
});
