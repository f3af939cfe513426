import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeCodeRecord, LineIndex } from '../../server/src/code/codeText';
import { findConstantUses } from '../../server/src/code/constantUses';
import { type CodeDeviceSite, findDeviceSites } from '../../server/src/code/deviceSites';
import { parsePython } from '../../server/src/code/parser';
import { loadTorchCodeCases, type TorchCodeCase } from './helpers/torchCodeCases';
import { readCodeRecords } from './helpers/torchCodeRecords';

/** Returns the key that torch_code_cases.py gives the same site in the graph. */
function siteKey(site: CodeDeviceSite): string {
  if (site.kind === 'move-by-name') return `move:${site.device}`;
  return site.attribute === undefined ? site.device : `${site.device}@${site.attribute}`;
}

interface DecodedRecord {
  name: string;
  text: string;
  bytes: Buffer;
}

function decodeRecords(entry: TorchCodeCase): DecodedRecord[] {
  return entry.records.map((record) => ({
    name: record.name,
    text: decodeCodeRecord(record.bytes, { file: entry.archive, record: record.name }),
    bytes: record.bytes,
  }));
}

function sorted(values: string[]): string[] {
  return [...values].sort();
}

describe('code sites against PyTorch 2.13', async () => {
  const generated = await loadTorchCodeCases();

  test('oracle is torch 2.13', () => {
    assert.match(generated.torchVersion, /^2\.13\./);
  });

  test('every case was generated', () => {
    assert.deepEqual(generated.cases.map((entry) => entry.name), [
      'traced-factories-cpu',
      'traced-factories-meta',
      'scripted-devices',
      'traced-nested',
      'scripted-nested',
      'traced-rnn-without-hx',
      'frozen',
      'scripted-not-pinned',
      'traced-not-pinned',
      'scripted-non-ascii',
    ]);
  });

  for (const entry of generated.cases) {
    describe(entry.name, () => {
      test('records match the saved archive', () => {
        const onDisk = readCodeRecords(entry.archive);
        assert.deepEqual([...onDisk.keys()].sort(), entry.records.map((record) => record.name).sort());
        for (const record of entry.records) assert.ok(onDisk.get(record.name)?.equals(record.bytes), record.name);
      });

      test('records parse without syntax errors', async () => {
        for (const record of decodeRecords(entry)) {
          const tree = await parsePython(record.text);
          try {
            assert.equal(tree.rootNode.hasError, false, record.name);
          } finally {
            tree.delete();
          }
        }
      });

      test('sites match the method graphs', async () => {
        const keys: string[] = [];
        for (const record of decodeRecords(entry)) {
          for (const site of await findDeviceSites(record.text)) keys.push(siteKey(site));
        }
        assert.deepEqual(sorted(keys), sorted(entry.expectedSites));
        assert.equal(keys.length > 0, entry.pinned, entry.pinned ? 'pinned case has sites' : 'unpinned case has none');
      });

      test('inlined graph devices are found', async () => {
        const devices = new Set<string>();
        for (const record of decodeRecords(entry)) {
          for (const site of await findDeviceSites(record.text)) devices.add(site.device);
        }
        for (const device of entry.inlinedDevices) assert.ok(devices.has(device), `device ${device} of the inlined graph`);
      });

      test('ranges and byte spans cover the call', async () => {
        for (const record of decodeRecords(entry)) {
          const index = new LineIndex(record.text);
          for (const site of await findDeviceSites(record.text)) {
            const rangeText = record.text.slice(index.offsetAt(site.range.start), index.offsetAt(site.range.end));
            const byteText = record.bytes.subarray(site.byteSpan.start, site.byteSpan.end).toString('utf8');
            assert.equal(byteText, rangeText, `${record.name} ${JSON.stringify(site.range)}`);
            if (site.kind === 'move-by-name') {
              assert.equal(rangeText, `torch.${site.device}`);
            } else {
              assert.match(rangeText, /^torch\.device\(.*\)$/s);
            }
            if (site.kind === 'literal') assert.equal(rangeText, `torch.device("${site.device}")`);
          }
        }
      });

      test('constant uses name every tensor constant', async () => {
        const indices = new Set<number>();
        for (const record of decodeRecords(entry)) {
          const index = new LineIndex(record.text);
          for (const use of await findConstantUses(record.text)) {
            assert.equal(use.name, `c${use.index}`);
            assert.equal(record.text.slice(index.offsetAt(use.range.start), index.offsetAt(use.range.end)), `CONSTANTS.${use.name}`);
            indices.add(use.index);
          }
        }
        assert.deepEqual([...indices].sort((a, b) => a - b), Array.from({ length: entry.tensorConstants }, (_, i) => i));
      });
    });
  }

  test('non-ASCII record shifts byte offsets', async () => {
    const entry = generated.cases.find((candidate) => candidate.name === 'scripted-non-ascii');
    assert.ok(entry);
    const [record] = decodeRecords(entry);
    assert.match(record.text, /__annotations__\["déjà_vu"\]/);
    assert.match(record.text, /__annotations__\["設備"\]/);
    assert.match(record.text, /__annotations__\["dev😀"\]/);

    const sites = await findDeviceSites(record.text);
    assert.equal(sites.length, 2);
    for (const site of sites) {
      const utf16Start = new LineIndex(record.text).offsetAt(site.range.start);
      // é, à: +1 byte each; 設, 備: +2 each; 😀: 4 bytes for 2 UTF-16 units.
      assert.equal(site.byteSpan.start - utf16Start, 2 + 4 + 2);
    }
  });
});
