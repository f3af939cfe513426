import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EngineError } from '../errors';

/**
 * A temporary file in the output's folder that becomes the output only through an atomic
 * rename (or a hard link when overwriting is not allowed), so that the final name never
 * holds a partial archive: after a crash, a full disk or an interrupted process, only
 * the temporary name can remain.
 */
export class PendingOutput {
  readonly finalPath: string;
  readonly tempPath: string;
  private settled = false;

  private constructor(finalPath: string, tempPath: string) {
    this.finalPath = finalPath;
    this.tempPath = tempPath;
  }

  /** Checks that the output folder is writable and the output may be written, then reserves a temporary name. */
  static async reserve(finalPath: string, options: { overwrite: boolean }): Promise<PendingOutput> {
    const folder = path.dirname(finalPath);
    try {
      await fs.promises.access(folder, fs.constants.W_OK);
    } catch (error) {
      throw new EngineError(`output folder ${folder} is missing or not writable (${codeOf(error)}); choose another output with -o`, { file: finalPath }, { cause: error });
    }
    if (!options.overwrite && fs.existsSync(finalPath)) {
      throw new EngineError('output file already exists; pass --force to overwrite it or choose another output with -o', { file: finalPath });
    }
    const suffix = crypto.randomBytes(6).toString('hex');
    const tempPath = path.join(folder, `.${path.basename(finalPath)}.${suffix}.partial`);
    return new PendingOutput(finalPath, tempPath);
  }

  /** Moves the finished temporary file to the final name. */
  async publish(options: { overwrite: boolean; mode?: number }): Promise<void> {
    if (options.mode !== undefined) await fs.promises.chmod(this.tempPath, options.mode);
    try {
      if (options.overwrite) {
        await fs.promises.rename(this.tempPath, this.finalPath);
      } else {
        // link() fails with EEXIST instead of replacing a file that appeared meanwhile.
        await fs.promises.link(this.tempPath, this.finalPath);
        await fs.promises.unlink(this.tempPath);
      }
    } catch (error) {
      await this.discard();
      if (codeOf(error) === 'EEXIST') {
        throw new EngineError('output file appeared while the archive was being written; pass --force to overwrite it', { file: this.finalPath }, { cause: error });
      }
      throw new EngineError(`could not move the written archive into place (${codeOf(error)})`, { file: this.finalPath }, { cause: error });
    }
    this.settled = true;
    await syncFolder(path.dirname(this.finalPath));
  }

  /** Removes the temporary file; safe to call more than once. */
  async discard(): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    await fs.promises.rm(this.tempPath, { force: true });
  }

  /** Synchronous variant for signal handlers, where no promise can be awaited. */
  discardSync(): void {
    if (this.settled) return;
    this.settled = true;
    fs.rmSync(this.tempPath, { force: true });
  }
}

function codeOf(error: unknown): string {
  return (error as NodeJS.ErrnoException)?.code ?? String(error);
}

/** Makes the rename durable; some file systems reject fsync on folders, which is harmless. */
async function syncFolder(folder: string): Promise<void> {
  let handle: fs.promises.FileHandle | undefined;
  try {
    handle = await fs.promises.open(folder, 'r');
    await handle.sync();
  } catch {
    // Folders cannot be opened or synced on every platform; the rename itself already happened.
  } finally {
    await handle?.close();
  }
}
