/** The benchmark archives written by make_large_archive.py and cached under .cache/bench. */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { log } from './measure';

export interface ArchiveSpec {
  /** File name in the cache folder; its stem becomes the archive's top folder. */
  fileName: string;
  /** Combined size of the nine float32 buffers in MiB. */
  totalMib: number;
}

/** 9 x 512 MiB: the archive exceeds 4 GiB, so its central directory needs zip64 offsets. */
export const LARGE_ARCHIVE: ArchiveSpec = { fileName: 'model-4gb.pt', totalMib: 4608 };

/** The same module with 4 MiB of buffers. */
export const SMALL_ARCHIVE: ArchiveSpec = { fileName: 'model-4mb.pt', totalMib: 4 };

/**
 * Returns the path of the cached archive, writing it first when it is missing or when
 * the generator script or the requested size changed since it was written. The
 * fingerprint of both is stored in `<file>.sha256` next to the archive.
 */
export function ensureArchive(spec: ArchiveSpec, repoRoot: string, cacheDir: string, python: string): string {
  const script = path.join(repoRoot, 'bench', 'make_large_archive.py');
  const archive = path.join(cacheDir, spec.fileName);
  const fingerprintFile = `${archive}.sha256`;

  const fingerprint = createHash('sha256')
    .update(fs.readFileSync(script))
    .update(`\0--total-mib ${spec.totalMib}`)
    .digest('hex');
  const stored = fs.existsSync(fingerprintFile) ? fs.readFileSync(fingerprintFile, 'utf8').trim() : '';
  if (stored === fingerprint && fs.existsSync(archive)) return archive;

  log(`writing ${spec.fileName} (${spec.totalMib} MiB of tensor data) with PyTorch`);
  fs.mkdirSync(cacheDir, { recursive: true });
  fs.rmSync(fingerprintFile, { force: true });

  // Write into a fresh folder under the final file name, because torch.jit.save names the
  // archive's top folder after the file stem, then move the finished file into place.
  const staging = fs.mkdtempSync(path.join(cacheDir, 'staging-'));
  try {
    const staged = path.join(staging, spec.fileName);
    const result = spawnSync(python, [script, staged, '--total-mib', String(spec.totalMib)], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (result.error || result.status !== 0) {
      throw new Error(`make_large_archive.py failed for ${spec.fileName} (status ${result.status}); see its output above`);
    }
    fs.renameSync(staged, archive);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }

  fs.writeFileSync(fingerprintFile, `${fingerprint}\n`);
  return archive;
}
