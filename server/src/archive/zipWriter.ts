import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { EngineError } from '../errors';
import {
  asciiLowerCase,
  CENTRAL_HEADER_SIZE,
  DOS_DIRECTORY_ATTRIBUTE,
  encodeCentralHeader,
  encodeDataDescriptor,
  encodeEndRecords,
  encodeLocalHeader,
  FLAG_ENCRYPTED,
  hasDataDescriptor,
  MAX_CENTRAL_DIRECTORY_BYTES,
  METHOD_DEFLATED,
  METHOD_STORED,
  type RecordLayout,
  UINT16_SENTINEL,
  unsafeRecordNameReason,
  type ZipEntry,
} from './zipFormat';
import type { ZipReader } from './zipReader';

const OUTPUT_BUFFER_BYTES = 1024 * 1024;

/** miniz stores records of 3 bytes or fewer even when compression is requested. */
const MAX_ALWAYS_STORED_BYTES = 3;

/** PyTorch compresses with MZ_BEST_COMPRESSION; zlib's level 9 is the equivalent setting. */
const DEFLATE_LEVEL = 9;

/** Chunk size for copying records unchanged: large enough for sequential disk throughput, two chunks in memory at once. */
const RAW_COPY_CHUNK_BYTES = 8 * 1024 * 1024;

export interface AddRecordOptions {
  /** Deflate the record, as PyTorch does for code and debug records over 200 bytes. */
  compress: boolean;
}

type WriterState = 'open' | 'finished' | 'aborted' | 'failed';

/**
 * Writes a zip archive with the layout of PyTorch's writer: the same headers, 64-byte data
 * alignment, data descriptors and zip64 end records. Copying every record of a PyTorch archive
 * with addRawRecord therefore reproduces the file byte for byte. Memory stays bounded by the
 * output buffer, the largest addRecord payload and the central directory.
 * After any error the writer is failed and its file closed, and the caller removes the file.
 */
export class ZipWriter {
  private readonly centralHeaders: Buffer[] = [];
  private centralDirectorySize = 0;
  private readonly lowerCaseNames = new Set<string>();
  private topFolder: string | undefined;
  private state: WriterState = 'open';
  private busy = false;

  private constructor(private readonly output: OutputFile) {}

  /** Creates (or truncates) the output file; callers pass a temporary path and rename it after finish(). */
  static async create(filePath: string): Promise<ZipWriter> {
    let handle: fs.promises.FileHandle;
    try {
      handle = await fs.promises.open(filePath, 'w');
    } catch (error) {
      throw outputError(error, filePath, undefined);
    }
    return new ZipWriter(new OutputFile(handle, filePath));
  }

  /** Writes to an open file handle from offset 0; the writer closes it in finish() or abort(). */
  static fromHandle(handle: fs.promises.FileHandle, filePath: string): ZipWriter {
    return new ZipWriter(new OutputFile(handle, filePath));
  }

  get filePath(): string {
    return this.output.filePath;
  }

  /** Bytes written so far, including those still buffered. */
  get position(): number {
    return this.output.position;
  }

  /** Adds a record from memory, deflating it when options.compress is set and it is over 3 bytes. */
  async addRecord(name: string, data: Buffer, options: AddRecordOptions): Promise<void> {
    await this.run(async () => {
      const nameBytes = this.acceptName(name, data.length);
      const compress = options.compress && data.length > MAX_ALWAYS_STORED_BYTES;
      const payload = compress ? zlib.deflateRawSync(data, { level: DEFLATE_LEVEL }) : data;
      const layout = this.layoutAtCursor(nameBytes, {
        method: compress ? METHOD_DEFLATED : METHOD_STORED,
        crc32: zlib.crc32(data),
        compressedSize: payload.length,
        uncompressedSize: data.length,
      });
      await this.writeRecord(layout, async () => this.output.write(payload));
    });
  }

  /**
   * Copies a record's bytes from another archive unchanged: method, CRC and sizes are kept and
   * deflated data is never recompressed, so unchanged records stay byte-identical. The data
   * streams through in chunks, so tensor records of any size copy in bounded memory.
   */
  async addRawRecord(name: string, source: { reader: ZipReader; entry: ZipEntry }): Promise<void> {
    await this.run(async () => {
      const { reader, entry } = source;
      const where = { file: reader.filePath, record: entry.name, offset: entry.localHeaderOffset };
      if ((entry.flags & FLAG_ENCRYPTED) !== 0) {
        throw new EngineError('cannot copy an encrypted record; PyTorch archives are never encrypted', where);
      }
      if (entry.method !== METHOD_STORED && entry.method !== METHOD_DEFLATED) {
        throw new EngineError(`cannot copy a record with compression method ${entry.method}; PyTorch reads only stored (0) and deflated (8) records`, where);
      }

      const nameBytes = this.acceptName(name, entry.uncompressedSize);
      const layout = this.layoutAtCursor(nameBytes, entry);
      await this.writeRecord(layout, async () => {
        // The next chunk is read while the current one is written, so reading and writing overlap.
        let copied = 0;
        const chunks = reader.readRawChunks(entry, RAW_COPY_CHUNK_BYTES);
        let next = chunks.next();
        for (;;) {
          const { value: chunk, done } = await next;
          if (done) break;
          next = chunks.next();
          await this.output.write(chunk);
          copied += chunk.length;
        }
        if (copied !== entry.compressedSize) {
          throw new EngineError(`copied ${copied} bytes but the central directory declares ${entry.compressedSize}`, where);
        }
      });
    });
  }

  /** Writes the central directory and end records, then flushes, syncs and closes the file. */
  async finish(): Promise<void> {
    await this.run(async () => {
      if (this.centralHeaders.length === 0) {
        throw new EngineError('cannot finish an archive without records; PyTorch archives hold at least one record', { file: this.filePath });
      }
      const centralDirectoryOffset = this.output.position;
      for (const header of this.centralHeaders) await this.output.write(header);
      await this.output.write(encodeEndRecords(this.centralHeaders.length, centralDirectoryOffset, this.centralDirectorySize));
      await this.output.flush();
      await this.output.syncAndClose();
      this.state = 'finished';
    });
  }

  /** Closes the file without finishing it. The caller removes the unfinished file. */
  async abort(): Promise<void> {
    if (this.state === 'finished' || this.state === 'aborted') return;
    this.state = 'aborted';
    await this.output.closeQuietly();
  }

  /** Runs one operation at a time and marks the writer failed when it throws. */
  private async run(operation: () => Promise<void>): Promise<void> {
    if (this.state !== 'open') throw new Error(`ZipWriter for ${this.filePath} is ${this.state}`);
    if (this.busy) throw new Error(`ZipWriter for ${this.filePath} is busy: await each call before the next`);
    this.busy = true;
    try {
      await operation();
    } catch (error) {
      this.state = 'failed';
      await this.output.closeQuietly();
      throw error;
    } finally {
      this.busy = false;
    }
  }

  /** Checks a full record name (top folder included) and reserves it; returns its UTF-8 bytes. */
  private acceptName(name: string, uncompressedSize: number): Buffer {
    const where = { file: this.filePath, record: JSON.stringify(name) };
    const reason = unsafeRecordNameReason(name);
    if (reason !== undefined) throw new EngineError(`invalid record name: ${reason}`, where);

    const slash = name.indexOf('/');
    if (slash <= 0) throw new EngineError('record is not in a folder; PyTorch requires every record in one top folder', where);
    const folder = name.slice(0, slash);
    this.topFolder ??= folder;
    if (folder !== this.topFolder) {
      throw new EngineError(`record is outside the top folder "${this.topFolder}/" of the first record; PyTorch requires every record in one top folder`, where);
    }

    const key = asciiLowerCase(name);
    if (this.lowerCaseNames.has(key)) throw new EngineError('a record with this name (ignoring case) was already written', where);
    if (name.endsWith('/') && uncompressedSize > 0) throw new EngineError('a folder record cannot hold data', where);

    const nameBytes = Buffer.from(name, 'utf8');
    if (nameBytes.length > UINT16_SENTINEL) throw new EngineError(`record name is ${nameBytes.length} bytes, more than the 65,535 bytes a zip header allows`, where);
    const centralSize = CENTRAL_HEADER_SIZE + nameBytes.length + 28;
    if (this.centralDirectorySize + centralSize > MAX_CENTRAL_DIRECTORY_BYTES) {
      throw new EngineError(`too many records: the central directory would exceed ${MAX_CENTRAL_DIRECTORY_BYTES} bytes`, where);
    }

    this.lowerCaseNames.add(key);
    return nameBytes;
  }

  private layoutAtCursor(
    nameBytes: Buffer,
    record: { method: number; crc32: number; compressedSize: number; uncompressedSize: number },
  ): RecordLayout {
    return {
      nameBytes,
      method: record.method,
      crc32: record.crc32,
      compressedSize: record.compressedSize,
      uncompressedSize: record.uncompressedSize,
      localHeaderOffset: this.output.position,
      externalAttributes: nameBytes[nameBytes.length - 1] === 0x2f ? DOS_DIRECTORY_ATTRIBUTE : 0,
    };
  }

  private async writeRecord(layout: RecordLayout, writeData: () => Promise<void>): Promise<void> {
    await this.output.write(encodeLocalHeader(layout));
    await writeData();
    if (hasDataDescriptor(layout)) await this.output.write(encodeDataDescriptor(layout));

    const central = encodeCentralHeader(layout);
    this.centralHeaders.push(central);
    this.centralDirectorySize += central.length;
  }
}

/** A sequential writer with one reusable buffer, so small headers cost no system call each. */
class OutputFile {
  private readonly buffer = Buffer.allocUnsafe(OUTPUT_BUFFER_BYTES);
  private buffered = 0;
  private flushedPosition = 0;
  private closed = false;

  constructor(private readonly handle: fs.promises.FileHandle, readonly filePath: string) {}

  get position(): number {
    return this.flushedPosition + this.buffered;
  }

  async write(data: Buffer): Promise<void> {
    if (data.length > this.buffer.length - this.buffered) await this.flush();
    if (data.length >= this.buffer.length) {
      await this.writeAt(data, this.flushedPosition);
      this.flushedPosition += data.length;
      return;
    }
    data.copy(this.buffer, this.buffered);
    this.buffered += data.length;
  }

  async flush(): Promise<void> {
    if (this.buffered === 0) return;
    await this.writeAt(this.buffer.subarray(0, this.buffered), this.flushedPosition);
    this.flushedPosition += this.buffered;
    this.buffered = 0;
  }

  async syncAndClose(): Promise<void> {
    try {
      await this.handle.sync();
      this.closed = true;
      await this.handle.close();
    } catch (error) {
      throw outputError(error, this.filePath, this.position);
    }
  }

  async closeQuietly(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // NOTE: a failure to close after a failed or aborted write leaves nothing to report beyond the first error.
    await this.handle.close().catch(() => undefined);
  }

  private async writeAt(data: Buffer, position: number): Promise<void> {
    let written = 0;
    while (written < data.length) {
      try {
        const result = await this.handle.write(data, written, data.length - written, position + written);
        written += result.bytesWritten;
      } catch (error) {
        throw outputError(error, this.filePath, position + written);
      }
    }
  }
}

function outputError(error: unknown, filePath: string, offset: number | undefined): EngineError {
  const code = (error as NodeJS.ErrnoException).code;
  const reasons: Record<string, string> = {
    ENOSPC: 'no space left on the device; free some space or choose another folder for the output',
    EDQUOT: 'disk quota exceeded; free some space or choose another folder for the output',
    EIO: 'input/output error while writing; the disk may be failing, so choose another folder for the output',
    EROFS: 'the file system is read-only; choose another folder for the output',
    EFBIG: 'the file is too large for this file system; choose another folder for the output',
    EACCES: 'permission denied; choose a folder you can write to',
    EPERM: 'permission denied; choose a folder you can write to',
    ENOENT: 'the output folder does not exist; create it or choose another one',
    EISDIR: 'the output path is a folder; choose a file name',
  };
  const reason = (code !== undefined && reasons[code]) || `failed to write the output (${code ?? String(error)}); choose another folder for the output`;
  return new EngineError(reason, { file: filePath, offset }, { cause: error });
}
