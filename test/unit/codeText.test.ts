import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { decodeCodeRecord, findInvalidUtf8, LineIndex } from '../../server/src/code/codeText';
import { EngineError } from '../../server/src/errors';

/** Byte strings (hex) with valid and invalid UTF-8 in every position a decoder has to check. */
const UTF8_CASES = [
  '',
  '6162630a',
  'c3a9',
  'e8a8ad',
  'f09f9880',
  'ff',
  'fe',
  '80',
  'bf41',
  'c3',
  'c341',
  'c0af',
  'c1bf',
  'e282',
  'e28241',
  'e080af',
  'eda080',
  'edbfbf',
  'ed9fbf',
  'efbfbf',
  'f08fbfbf',
  'f0908080',
  'f48fbfbf',
  'f4908080',
  'f5808080',
  'f09f98',
  '61c3a9e8a8adf09f9880ff62',
  '746f7263682e64657669636528226370752229c3',
  'efbbbf6869',
];

/** The start of the first invalid sequence per Python's strict UTF-8 decoder, or null. */
function pythonInvalidOffsets(hexes: string[]): (number | null)[] {
  const script = [
    'import json, sys',
    'out = []',
    'for h in json.loads(sys.argv[1]):',
    '    try:',
    '        bytes.fromhex(h).decode("utf-8")',
    '        out.append(None)',
    '    except UnicodeDecodeError as e:',
    '        out.append(e.start)',
    'print(json.dumps(out))',
  ].join('\n');
  return JSON.parse(execFileSync('python3', ['-c', script, JSON.stringify(hexes)], { encoding: 'utf8' })) as (number | null)[];
}

describe('findInvalidUtf8', () => {
  test('agrees with Python on each case', () => {
    const expected = pythonInvalidOffsets(UTF8_CASES);
    UTF8_CASES.forEach((hex, i) => {
      assert.equal(findInvalidUtf8(Buffer.from(hex, 'hex')), expected[i] ?? undefined, `bytes ${hex}`);
    });
  });

  test('agrees with Python on random bytes', () => {
    // A fixed linear congruential generator keeps failures reproducible.
    let state = 12345;
    const nextByte = (): number => {
      state = (state * 1103515245 + 12345) >>> 0;
      return state >>> 24;
    };
    const hexes: string[] = [];
    for (let i = 0; i < 400; i++) {
      const bytes = Buffer.alloc(1 + (i % 12));
      // Mostly bytes of multi-byte sequences, so that valid and invalid ones both occur.
      for (let j = 0; j < bytes.length; j++) bytes[j] = nextByte() % 3 === 0 ? 0x61 : 0x80 + (nextByte() % 0x78);
      hexes.push(bytes.toString('hex'));
    }
    const expected = pythonInvalidOffsets(hexes);
    assert.ok(expected.some((offset) => offset === null), 'the sample contains valid strings');
    assert.ok(expected.some((offset) => offset !== null && offset > 0), 'the sample contains late errors');
    hexes.forEach((hex, i) => {
      assert.equal(findInvalidUtf8(Buffer.from(hex, 'hex')), expected[i] ?? undefined, `bytes ${hex}`);
    });
  });
});

describe('decodeCodeRecord', () => {
  const where = { file: 'model.pt', record: 'code/__torch__.py' };

  test('decodes non-ASCII text', () => {
    const text = '__annotations__["déjà_vu"] = str\n_0 = ("設備😀", torch.device("cpu"))\n';
    assert.equal(decodeCodeRecord(Buffer.from(text, 'utf8'), where), text);
  });

  test('keeps a byte order mark', () => {
    const decoded = decodeCodeRecord(Buffer.from('efbbbf782031', 'hex'), where);
    assert.equal(decoded, '\ufeffx 1');
  });

  test('decodes an empty record', () => {
    assert.equal(decodeCodeRecord(Buffer.alloc(0), where), '');
  });

  test('rejects Latin-1 with file, record and offset', () => {
    const bytes = Buffer.concat([Buffer.from('x = "caf', 'utf8'), Buffer.from([0xe9]), Buffer.from('"\n', 'utf8')]);
    assert.throws(
      () => decodeCodeRecord(bytes, where),
      (error: unknown) => {
        assert.ok(error instanceof EngineError);
        assert.equal(error.file, 'model.pt');
        assert.equal(error.record, 'code/__torch__.py');
        assert.equal(error.offset, 8);
        assert.match(error.message, /^model\.pt, record code\/__torch__\.py, offset 8: /);
        assert.match(error.message, /not valid UTF-8 \(byte 0xe9\)/);
        return true;
      },
    );
  });

  test('rejects a sequence cut off at the end', () => {
    const bytes = Buffer.from('torch.device("cpu")\xe8\xa8', 'latin1');
    assert.throws(() => decodeCodeRecord(bytes, where), (error: unknown) => error instanceof EngineError && error.offset === 19);
  });

  test('rejects an encoded surrogate', () => {
    const bytes = Buffer.from('6162eda080', 'hex');
    assert.throws(() => decodeCodeRecord(bytes, where), (error: unknown) => error instanceof EngineError && error.offset === 2);
  });
});

describe('LineIndex', () => {
  // ASCII, 2-, 3- and 4-byte characters, and all three LSP line breaks.
  const text = 'ab\n"é"\r\n設備 x\r😀😀y\n\nend é😀';

  /** Reference mapping computed the slow way. */
  function referencePosition(offset: number): { line: number; character: number } {
    let line = 0;
    let lineStart = 0;
    for (let i = 0; i < offset; i++) {
      const unit = text[i];
      if (unit === '\n' || (unit === '\r' && text[i + 1] !== '\n')) {
        line += 1;
        lineStart = i + 1;
      }
    }
    return { line, character: offset - lineStart };
  }

  function splitsSurrogatePair(offset: number): boolean {
    const unit = text.charCodeAt(offset);
    return offset > 0 && unit >= 0xdc00 && unit <= 0xdfff;
  }

  test('maps every UTF-16 offset to bytes and back', () => {
    const index = new LineIndex(text);
    assert.equal(index.byteLength, Buffer.byteLength(text));
    for (let offset = 0; offset <= text.length; offset++) {
      if (splitsSurrogatePair(offset)) continue;
      const bytes = Buffer.byteLength(text.slice(0, offset));
      assert.equal(index.byteOffsetAt(offset), bytes, `offset ${offset}`);
      assert.equal(index.offsetAtByte(bytes), offset, `byte ${bytes}`);
    }
  });

  test('maps every UTF-16 offset to a position and back', () => {
    const index = new LineIndex(text);
    for (let offset = 0; offset <= text.length; offset++) {
      // An offset between \r and \n has no LSP position of its own.
      if (text[offset - 1] === '\r' && text[offset] === '\n') continue;
      const position = index.positionAt(offset);
      assert.deepEqual(position, referencePosition(offset), `offset ${offset}`);
      assert.equal(index.offsetAt(position), offset, `position of offset ${offset}`);
    }
  });

  test('counts lines for each line break', () => {
    assert.equal(new LineIndex(text).lineCount, 6);
    assert.equal(new LineIndex('').lineCount, 1);
    assert.equal(new LineIndex('a\n').lineCount, 2);
  });

  test('byte and UTF-16 columns differ after wide characters', () => {
    const line = '    _0 = ("設備😀", torch.device("cuda:1"))';
    const index = new LineIndex(`x\n${line}\n`);
    const start = 2 + line.indexOf('torch.device');
    assert.deepEqual(index.positionAt(start), { line: 1, character: line.indexOf('torch.device') });
    // 設 and 備 take 1 UTF-16 unit and 3 bytes each; 😀 takes 2 units and 4 bytes.
    assert.equal(index.byteOffsetAt(start), start + 2 * 2 + 2);
    assert.deepEqual(index.positionAtByte(index.byteOffsetAt(start)), index.positionAt(start));
  });

  test('rejects offsets inside a character', () => {
    const index = new LineIndex('a😀b');
    assert.throws(() => index.byteOffsetAt(2), RangeError);
    assert.throws(() => index.offsetAtByte(2), RangeError);
    assert.throws(() => index.offsetAtByte(4), RangeError);
    assert.equal(index.offsetAtByte(5), 3);
  });

  test('rejects offsets outside the text', () => {
    const index = new LineIndex('abc');
    assert.throws(() => index.positionAt(4), RangeError);
    assert.throws(() => index.positionAt(-1), RangeError);
    assert.throws(() => index.byteOffsetAt(1.5), RangeError);
    assert.throws(() => index.offsetAtByte(4), RangeError);
  });

  test('clamps LSP positions past a line end', () => {
    const index = new LineIndex('ab\r\ncd\nef');
    assert.equal(index.offsetAt({ line: 0, character: 99 }), 2);
    assert.equal(index.offsetAt({ line: 1, character: 99 }), 6);
    assert.equal(index.offsetAt({ line: 9, character: 0 }), 9);
    assert.equal(index.byteOffsetAtPosition({ line: 2, character: 1 }), 8);
  });
});
