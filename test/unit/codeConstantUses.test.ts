import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { decodeCodeRecord, LineIndex } from '../../server/src/code/codeText';
import { type ConstantUse, findConstantUses } from '../../server/src/code/constantUses';
import { readCodeRecords, realFixturesDir } from './helpers/torchCodeRecords';

function useText(text: string, use: ConstantUse): string {
  const index = new LineIndex(text);
  return text.slice(index.offsetAt(use.range.start), index.offsetAt(use.range.end));
}

/**
 * Counts the entries of constants.pkl with the system python3's pickle module, without
 * rebuilding tensors: every class becomes a placeholder and persistent ids load as None.
 */
function countTensorConstants(file: string): number {
  const script = [
    'import pickle, sys, zipfile',
    'class Placeholder:',
    '    def __init__(self, *args, **kwargs): pass',
    '    def __setstate__(self, state): pass',
    'class Reader(pickle.Unpickler):',
    '    def persistent_load(self, pid): return None',
    '    def find_class(self, module, name): return Placeholder',
    'archive = zipfile.ZipFile(sys.argv[1])',
    'name = next(n for n in archive.namelist() if n.split("/", 1)[1] == "constants.pkl")',
    'print(len(Reader(archive.open(name)).load()))',
  ].join('\n');
  return Number(execFileSync('python3', ['-c', script, file], { encoding: 'utf8' }).trim());
}

describe('findConstantUses', () => {
  test('finds each reference in text order', async () => {
    const text = [
      'def forward(self,',
      '    x: Tensor) -> Tensor:',
      '  _0 = torch.to(CONSTANTS.c0, torch.device("cpu"), 6)',
      '  _1 = torch.add(CONSTANTS.c12, CONSTANTS.c0)',
      '  return torch.mul(_0, torch.size(CONSTANTS.c3, 0))',
      '',
    ].join('\n');
    const uses = await findConstantUses(text);
    assert.deepEqual(uses.map((use) => [use.name, use.index]), [['c0', 0], ['c12', 12], ['c0', 0], ['c3', 3]]);
    assert.deepEqual(uses[1].range, { start: { line: 3, character: 17 }, end: { line: 3, character: 30 } });
    for (const use of uses) assert.equal(useText(text, use), `CONSTANTS.${use.name}`);
  });

  test('ignores look-alike names', async () => {
    const text = [
      'def forward(self) -> Tensor:',
      '  a = self.CONSTANTS.c0',
      '  b = CONSTANTS.cx',
      '  c = CONSTANTS.c01',
      '  d = CONSTANTS',
      '  e = constants.c1',
      '  f = CONSTANTS.C2',
      '  return "CONSTANTS.c4"',
      '',
    ].join('\n');
    assert.deepEqual(await findConstantUses(text), []);
  });

  test('inner attribute of a longer chain', async () => {
    const text = 'def f() -> int:\n  return CONSTANTS.c7.dtype\n';
    const uses = await findConstantUses(text);
    assert.equal(uses.length, 1);
    assert.equal(useText(text, uses[0]), 'CONSTANTS.c7');
  });

  test('UTF-16 ranges after non-ASCII text', async () => {
    const text = 'def f() -> Tensor:\n  _0 = ("設備😀", CONSTANTS.c1)\n  return _0\n';
    const [use] = await findConstantUses(text);
    assert.deepEqual(use.range.start, { line: 1, character: text.split('\n')[1].indexOf('CONSTANTS') });
    assert.equal(useText(text, use), 'CONSTANTS.c1');
  });

  test('d2go uses every tensor constant', async () => {
    const file = path.join(realFixturesDir, 'd2go_optimized.pt');
    const count = countTensorConstants(file);
    assert.equal(count, 82);

    let uses = 0;
    const indices = new Set<number>();
    for (const [record, bytes] of readCodeRecords(file)) {
      for (const use of await findConstantUses(decodeCodeRecord(bytes, { file, record }))) {
        uses += 1;
        indices.add(use.index);
      }
    }
    // 96 references, as a regular expression over the record counts them.
    assert.equal(uses, 96);
    assert.deepEqual([...indices].sort((a, b) => a - b), Array.from({ length: count }, (_, i) => i));
  });
});
