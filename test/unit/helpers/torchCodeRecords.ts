import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

/** Root of the repository, and the read-only archives written by real PyTorch next to it. */
export const repoRoot = path.resolve(__dirname, '..', '..', '..');
export const realFixturesDir = path.resolve(repoRoot, '..', 'shared', 'fixtures', 'real');

// NOTE: these read records with the system python3's zipfile, an independent zip reader,
// so that the code tests do not depend on the project's own archive reader.
const LIST_RECORDS = 'import json,sys,zipfile; print(json.dumps(zipfile.ZipFile(sys.argv[1]).namelist()))';
const READ_RECORD = 'import sys,zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))';

/** Lists the record names of a zip archive, top folder included. */
export function listArchiveRecords(file: string): string[] {
  return JSON.parse(execFileSync('python3', ['-c', LIST_RECORDS, file], { encoding: 'utf8' })) as string[];
}

/** Reads one decompressed record of a zip archive. */
export function readArchiveRecord(file: string, name: string): Buffer {
  return execFileSync('python3', ['-c', READ_RECORD, file, name], { maxBuffer: 1 << 30 });
}

/** Reads every `code/**.py` record of an archive, keyed by its name without the top folder. */
export function readCodeRecords(file: string): Map<string, Buffer> {
  const records = new Map<string, Buffer>();
  for (const name of listArchiveRecords(file)) {
    const inner = name.slice(name.indexOf('/') + 1);
    if (inner.startsWith('code/') && inner.endsWith('.py')) records.set(inner, readArchiveRecord(file, name));
  }
  return records;
}
