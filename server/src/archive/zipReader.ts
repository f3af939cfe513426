import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { EngineError } from '../errors';
import {
  asciiLowerCase,
  CENTRAL_HEADER_SIGNATURE,
  CENTRAL_HEADER_SIZE,
  END_OF_CENTRAL_DIRECTORY_SIGNATURE,
  END_OF_CENTRAL_DIRECTORY_SIZE,
  FLAG_ENCRYPTED,
  LOCAL_HEADER_SIGNATURE,
  LOCAL_HEADER_SIZE,
  MAX_CENTRAL_DIRECTORY_BYTES,
  MAX_COMMENT_LENGTH,
  METHOD_DEFLATED,
  METHOD_STORED,
  readSafeUInt64,
  UINT16_SENTINEL,
  UINT32_SENTINEL,
  unsafeRecordNameReason,
  ZIP64_END_OF_CENTRAL_DIRECTORY_SIGNATURE,
  ZIP64_END_OF_CENTRAL_DIRECTORY_SIZE,
  ZIP64_EXTRA_ID,
  ZIP64_LOCATOR_SIGNATURE,
  ZIP64_LOCATOR_SIZE,
  type ZipEntry,
} from './zipFormat';

export type { ZipEntry } from './zipFormat';

/** The default limit of readRecord: larger records are tensor data, which callers stream raw. */
export const DEFAULT_MAX_RECORD_BYTES = 256 * 1024 * 1024;
export const DEFAULT_CHUNK_BYTES = 1024 * 1024;

export interface ReadRecordOptions {
  /** Rejects a record whose uncompressed size exceeds this many bytes. */
  maxBytes?: number;
}

/** Position, size and entry count of the central directory, from the end records. */
interface CentralDirectoryLocation {
  offset: number;
  size: number;
  entryCount: number;
  /** The first byte after the central directory that belongs to the end records. */
  endRecordsOffset: number;
}

const TRUNCATED_HINT = 'the file may be truncated; download or save it again';
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Random-access reader of a zip archive as PyTorch reads one: the central directory is read
 * once, and each record's bytes only on request, so opening a multi-gigabyte archive and
 * reading its small records costs a few positioned reads.
 */
export class ZipReader {
  /** Record lookup by ASCII-lowercased full name, like miniz's default lookup. */
  private readonly entriesByLowerName = new Map<string, ZipEntry>();
  private readonly dataOffsets = new Map<ZipEntry, number>();
  private closed = false;

  private constructor(
    readonly filePath: string,
    private readonly handle: fs.promises.FileHandle,
    readonly size: number,
    /** Entries in central directory order. */
    readonly entries: readonly ZipEntry[],
    /** The folder every record sits in, taken from the first entry as PyTorch does. */
    readonly topFolder: string,
  ) {
    for (const entry of entries) this.entriesByLowerName.set(asciiLowerCase(entry.name), entry);
  }

  /** Opens an archive and reads its central directory; throws EngineError for anything but a readable zip. */
  static async open(filePath: string): Promise<ZipReader> {
    const handle = await openFile(filePath);
    try {
      const size = await fileSize(handle, filePath);
      const location = await locateCentralDirectory(handle, filePath, size);
      const directory = await readExactly(handle, filePath, location.offset, location.size, undefined);
      const entries = parseCentralDirectory(directory, location, filePath);
      const topFolder = checkRecordNames(entries, location.offset, filePath);
      return new ZipReader(filePath, handle, size, entries, topFolder);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** Returns the record name without the top folder, for example `code/__torch__.py`. */
  recordName(entry: ZipEntry): string {
    return entry.name.slice(this.topFolder.length + 1);
  }

  /** Finds a record by its name without the top folder, ignoring ASCII case like miniz. */
  findRecord(name: string): ZipEntry | undefined {
    return this.entriesByLowerName.get(asciiLowerCase(`${this.topFolder}/${name}`));
  }

  /** Reads the record's local header and returns the offset of its first data byte. */
  async dataOffset(entry: ZipEntry): Promise<number> {
    const cached = this.dataOffsets.get(entry);
    if (cached !== undefined) return cached;

    const where = { file: this.filePath, record: entry.name, offset: entry.localHeaderOffset };
    if (entry.localHeaderOffset + LOCAL_HEADER_SIZE > this.size) {
      throw new EngineError(`local header lies outside the file (file size ${this.size}); ${TRUNCATED_HINT}`, where);
    }
    const header = await this.read(entry.localHeaderOffset, LOCAL_HEADER_SIZE, entry.name);
    if (header.readUInt32LE(0) !== LOCAL_HEADER_SIGNATURE) {
      throw new EngineError('invalid local header signature; the central directory points at the wrong place, so the archive is damaged', where);
    }

    const nameLength = header.readUInt16LE(26);
    const extraLength = header.readUInt16LE(28);
    const start = entry.localHeaderOffset + LOCAL_HEADER_SIZE + nameLength + extraLength;
    if (start + entry.compressedSize > this.size) {
      throw new EngineError(`record data (${entry.compressedSize} bytes from offset ${start}) lies outside the file of ${this.size} bytes; ${TRUNCATED_HINT}`, where);
    }

    const localName = await this.read(entry.localHeaderOffset + LOCAL_HEADER_SIZE, nameLength, entry.name);
    if (!localName.equals(Buffer.from(entry.name, 'utf8'))) {
      throw new EngineError(`local header names "${localName.toString('latin1')}" but the central directory names "${entry.name}"; the archive is damaged`, where);
    }

    this.dataOffsets.set(entry, start);
    return start;
  }

  /**
   * Reads and decompresses a stored or deflated record. A record larger than maxBytes, or one
   * that inflates past its declared size (a deflate bomb), is rejected before its output is kept.
   */
  async readRecord(entry: ZipEntry, options: ReadRecordOptions = {}): Promise<Buffer> {
    const maxBytes = options.maxBytes ?? DEFAULT_MAX_RECORD_BYTES;
    const where = { file: this.filePath, record: entry.name, offset: entry.localHeaderOffset };
    checkReadable(entry, where);
    if (entry.uncompressedSize > maxBytes) {
      throw new EngineError(`record is ${entry.uncompressedSize} bytes, more than the limit of ${maxBytes} bytes for records read into memory`, where);
    }

    const start = await this.dataOffset(entry);
    if (entry.method === METHOD_STORED) {
      if (entry.compressedSize !== entry.uncompressedSize) {
        throw new EngineError(`stored record declares ${entry.compressedSize} compressed and ${entry.uncompressedSize} uncompressed bytes; the archive is damaged`, where);
      }
      return checkCrc(await this.read(start, entry.compressedSize, entry.name), entry, where);
    }

    // A deflate writer adds at most 5 bytes per 65,535-byte stored block plus a few header bytes.
    // A larger compressed size means a damaged entry, and rejecting it keeps memory bounded.
    if (entry.compressedSize > entry.uncompressedSize + Math.ceil(entry.uncompressedSize / 8192) + 1024) {
      throw new EngineError(`deflated record declares ${entry.compressedSize} compressed bytes for ${entry.uncompressedSize} uncompressed bytes, more than deflate produces; the archive is damaged`, where);
    }
    const compressed = await this.read(start, entry.compressedSize, entry.name);
    return checkCrc(inflateRecord(compressed, entry, where), entry, where);
  }

  /**
   * Yields the record's bytes exactly as stored in the archive (still deflated where they are
   * deflated), in chunks of at most chunkSize bytes, for copying a record unchanged.
   */
  async *readRawChunks(entry: ZipEntry, chunkSize = DEFAULT_CHUNK_BYTES): AsyncGenerator<Buffer> {
    const start = await this.dataOffset(entry);
    const end = start + entry.compressedSize;
    for (let position = start; position < end; position += chunkSize) {
      yield await this.read(position, Math.min(chunkSize, end - position), entry.name);
    }
  }

  /** Closes the file; further reads fail. Calling it twice is harmless. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close();
  }

  private async read(position: number, length: number, record: string): Promise<Buffer> {
    if (this.closed) throw new Error(`ZipReader for ${this.filePath} is closed`);
    return readExactly(this.handle, this.filePath, position, length, record);
  }
}

/**
 * Checks a record's bytes against the CRC-32 in the central directory. PyTorch's reader skips
 * this check, but a damaged record must not be analysed, or rewritten with a fresh CRC that
 * would hide the damage.
 */
function checkCrc(data: Buffer, entry: ZipEntry, where: { file: string; record: string; offset: number }): Buffer {
  const actual = zlib.crc32(data) >>> 0;
  if (actual !== entry.crc32 >>> 0) {
    const hex = (value: number): string => `0x${value.toString(16).padStart(8, '0')}`;
    throw new EngineError(`record is damaged: its CRC-32 is ${hex(actual)} but the archive declares ${hex(entry.crc32 >>> 0)}; download or save the model again`, where);
  }
  return data;
}

/**
 * Reads up to `length` bytes from the start of a file, for telling a zip archive from a raw
 * pickle or another format before opening it. An empty file gives an empty buffer.
 */
export async function readFileHead(filePath: string, length = 16): Promise<Buffer> {
  const handle = await openFile(filePath);
  try {
    const stats = await handle.stat().catch((error: unknown) => {
      throw fileSystemError(error, filePath);
    });
    if (stats.isDirectory()) {
      throw new EngineError('is a folder, not a file; choose a model file such as model.pt', { file: filePath });
    }
    return await readExactly(handle, filePath, 0, Math.min(length, stats.size), undefined);
  } finally {
    await handle.close();
  }
}

/** True when the bytes start like a zip archive: a local header, or the end record of an empty zip. */
export function startsLikeZip(head: Buffer): boolean {
  if (head.length < 4) return false;
  const signature = head.readUInt32LE(0);
  return signature === LOCAL_HEADER_SIGNATURE || signature === END_OF_CENTRAL_DIRECTORY_SIGNATURE;
}

async function openFile(filePath: string): Promise<fs.promises.FileHandle> {
  try {
    return await fs.promises.open(filePath, 'r');
  } catch (error) {
    throw fileSystemError(error, filePath);
  }
}

async function fileSize(handle: fs.promises.FileHandle, filePath: string): Promise<number> {
  let stats: fs.Stats;
  try {
    stats = await handle.stat();
  } catch (error) {
    throw fileSystemError(error, filePath);
  }
  if (stats.isDirectory()) {
    throw new EngineError('is a folder, not a file; choose a model file such as model.pt', { file: filePath });
  }
  if (stats.size === 0) {
    throw new EngineError('empty file, not a zip archive; save the model again', { file: filePath });
  }
  return stats.size;
}

function fileSystemError(error: unknown, filePath: string): EngineError {
  const code = (error as NodeJS.ErrnoException).code;
  const reason =
    code === 'ENOENT' ? 'file not found; check the path' :
    code === 'EISDIR' ? 'is a folder, not a file; choose a model file such as model.pt' :
    code === 'EACCES' || code === 'EPERM' ? 'permission denied; check the file permissions' :
    `failed to read the file (${code ?? String(error)}); check that it is readable`;
  return new EngineError(reason, { file: filePath }, { cause: error });
}

/** Reads exactly `length` bytes at `position`, looping over short reads. */
async function readExactly(
  handle: fs.promises.FileHandle,
  filePath: string,
  position: number,
  length: number,
  record: string | undefined,
): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let filled = 0;
  while (filled < length) {
    let bytesRead: number;
    try {
      ({ bytesRead } = await handle.read(buffer, filled, length - filled, position + filled));
    } catch (error) {
      throw new EngineError(`failed to read ${length} bytes (${(error as NodeJS.ErrnoException).code ?? String(error)})`, { file: filePath, record, offset: position }, { cause: error });
    }
    if (bytesRead === 0) {
      throw new EngineError(`unexpected end of file after ${position + filled} bytes; ${TRUNCATED_HINT}`, { file: filePath, record, offset: position });
    }
    filled += bytesRead;
  }
  return buffer;
}

/**
 * Finds the end of central directory record in the last 65,557 bytes (the record plus the
 * longest comment), then the zip64 locator and end record when present.
 */
async function locateCentralDirectory(handle: fs.promises.FileHandle, filePath: string, size: number): Promise<CentralDirectoryLocation> {
  const tailLength = Math.min(size, END_OF_CENTRAL_DIRECTORY_SIZE + MAX_COMMENT_LENGTH);
  const tailStart = size - tailLength;
  const tail = await readExactly(handle, filePath, tailStart, tailLength, undefined);
  const endInTail = findEndOfCentralDirectory(tail);
  if (endInTail === undefined) {
    const head = await readExactly(handle, filePath, 0, Math.min(size, 16), undefined);
    throw new EngineError(describeMissingEndRecord(head), { file: filePath });
  }

  const endOffset = tailStart + endInTail;
  const end = tail.subarray(endInTail, endInTail + END_OF_CENTRAL_DIRECTORY_SIZE);
  const where = { file: filePath, offset: endOffset };
  const diskNumber = end.readUInt16LE(4);
  const directoryDisk = end.readUInt16LE(6);
  const entriesOnDisk = end.readUInt16LE(8);
  const entryCount = end.readUInt16LE(10);
  if ((diskNumber !== 0 && diskNumber !== UINT16_SENTINEL) || (directoryDisk !== 0 && directoryDisk !== UINT16_SENTINEL) || entriesOnDisk !== entryCount) {
    throw new EngineError('split (multi-part) zip archives are not supported; join the parts into one file', where);
  }

  let location: CentralDirectoryLocation = {
    offset: end.readUInt32LE(16),
    size: end.readUInt32LE(12),
    entryCount,
    endRecordsOffset: endOffset,
  };

  const locatorOffset = endOffset - ZIP64_LOCATOR_SIZE;
  if (locatorOffset >= 0) {
    const locator = await readExactly(handle, filePath, locatorOffset, ZIP64_LOCATOR_SIZE, undefined);
    if (locator.readUInt32LE(0) === ZIP64_LOCATOR_SIGNATURE) {
      location = await readZip64End(handle, filePath, locator, locatorOffset);
    }
  }

  if (location.size > MAX_CENTRAL_DIRECTORY_BYTES) {
    throw new EngineError(`central directory is ${location.size} bytes, more than the supported ${MAX_CENTRAL_DIRECTORY_BYTES} bytes`, { file: filePath, offset: location.offset });
  }
  if (location.offset + location.size > location.endRecordsOffset) {
    throw new EngineError(
      `central directory (${location.size} bytes at offset ${location.offset}) lies outside the file, whose end records start at offset ${location.endRecordsOffset}; ${TRUNCATED_HINT}`,
      { file: filePath, offset: location.offset },
    );
  }
  if (location.entryCount * CENTRAL_HEADER_SIZE > location.size) {
    throw new EngineError(`end of central directory record declares ${location.entryCount} entries, more than a central directory of ${location.size} bytes can hold; the archive is damaged`, where);
  }
  return location;
}

/** Returns the position of the end record in `tail`, preferring one whose comment ends the file. */
function findEndOfCentralDirectory(tail: Buffer): number | undefined {
  let fallback: number | undefined;
  for (let position = tail.length - END_OF_CENTRAL_DIRECTORY_SIZE; position >= 0; position--) {
    if (tail.readUInt32LE(position) !== END_OF_CENTRAL_DIRECTORY_SIGNATURE) continue;
    const recordEnd = position + END_OF_CENTRAL_DIRECTORY_SIZE + tail.readUInt16LE(position + 20);
    if (recordEnd === tail.length) return position;
    if (recordEnd < tail.length && fallback === undefined) fallback = position;
  }
  return fallback;
}

async function readZip64End(handle: fs.promises.FileHandle, filePath: string, locator: Buffer, locatorOffset: number): Promise<CentralDirectoryLocation> {
  const endOffset = readSafeUInt64(locator, 8);
  if (endOffset === undefined || endOffset + ZIP64_END_OF_CENTRAL_DIRECTORY_SIZE > locatorOffset) {
    throw new EngineError(`zip64 end of central directory locator points outside the file; ${TRUNCATED_HINT}`, { file: filePath, offset: locatorOffset });
  }

  const record = await readExactly(handle, filePath, endOffset, ZIP64_END_OF_CENTRAL_DIRECTORY_SIZE, undefined);
  const where = { file: filePath, offset: endOffset };
  if (record.readUInt32LE(0) !== ZIP64_END_OF_CENTRAL_DIRECTORY_SIGNATURE) {
    throw new EngineError(`invalid zip64 end of central directory signature; ${TRUNCATED_HINT}`, where);
  }
  if (record.readUInt32LE(16) !== 0 || record.readUInt32LE(20) !== 0) {
    throw new EngineError('split (multi-part) zip archives are not supported; join the parts into one file', where);
  }

  const entriesOnDisk = readSafeUInt64(record, 24);
  const entryCount = readSafeUInt64(record, 32);
  const size = readSafeUInt64(record, 40);
  const offset = readSafeUInt64(record, 48);
  if (entriesOnDisk === undefined || entryCount === undefined || size === undefined || offset === undefined || entriesOnDisk !== entryCount) {
    throw new EngineError('invalid zip64 end of central directory record; the archive is damaged', where);
  }
  return { offset, size, entryCount, endRecordsOffset: endOffset };
}

/** Explains a file without an end of central directory record by what its first bytes show. */
function describeMissingEndRecord(head: Buffer): string {
  const hex = [...head.subarray(0, 8)].map((byte) => byte.toString(16).padStart(2, '0')).join(' ');
  if (head.length >= 4 && head.readUInt32LE(0) === LOCAL_HEADER_SIGNATURE) {
    return `zip archive without an end of central directory record; ${TRUNCATED_HINT}`;
  }
  if (head.length >= 2 && head[0] === 0x80 && head[1] >= 2 && head[1] <= 5) {
    return `not a zip archive: it starts with a pickle header (${hex}), as a raw pickle or a torch.save file in the legacy format does`;
  }
  if (head.subarray(0, 8).toString('latin1') === 'version ') {
    return 'not a zip archive: it is a Git LFS pointer file; fetch the real file with "git lfs pull"';
  }
  if (head[0] === 0x3c) {
    return `not a zip archive: it starts with "<" (${hex}), like an HTML page; download the file again`;
  }
  return `not a zip archive: the first bytes are ${hex}; expected a PyTorch archive, which starts with "PK" (50 4b 03 04)`;
}

function parseCentralDirectory(directory: Buffer, location: CentralDirectoryLocation, filePath: string): ZipEntry[] {
  const entries: ZipEntry[] = [];
  let position = 0;
  while (position < directory.length) {
    const offset = location.offset + position;
    const where = { file: filePath, offset };
    if (position + CENTRAL_HEADER_SIZE > directory.length || directory.readUInt32LE(position) !== CENTRAL_HEADER_SIGNATURE) {
      throw new EngineError(`invalid central directory entry ${entries.length}; the archive is damaged`, where);
    }

    const nameLength = directory.readUInt16LE(position + 28);
    const extraLength = directory.readUInt16LE(position + 30);
    const commentLength = directory.readUInt16LE(position + 32);
    const nameStart = position + CENTRAL_HEADER_SIZE;
    const entryEnd = nameStart + nameLength + extraLength + commentLength;
    if (entryEnd > directory.length) {
      throw new EngineError(`central directory entry ${entries.length} runs past the end of the central directory; the archive is damaged`, where);
    }

    let name: string;
    try {
      name = utf8Decoder.decode(directory.subarray(nameStart, nameStart + nameLength));
    } catch {
      throw new EngineError(`record name of central directory entry ${entries.length} is not valid UTF-8`, where);
    }

    const entry: ZipEntry = {
      name,
      flags: directory.readUInt16LE(position + 8),
      method: directory.readUInt16LE(position + 10),
      crc32: directory.readUInt32LE(position + 16),
      compressedSize: directory.readUInt32LE(position + 20),
      uncompressedSize: directory.readUInt32LE(position + 24),
      localHeaderOffset: directory.readUInt32LE(position + 42),
    };
    applyZip64Extra(entry, directory.subarray(nameStart + nameLength, nameStart + nameLength + extraLength), { ...where, record: name });
    entries.push(entry);
    position = entryEnd;
  }

  if (entries.length !== location.entryCount) {
    throw new EngineError(`end of central directory record declares ${location.entryCount} entries but the central directory holds ${entries.length}; the archive is damaged`, { file: filePath, offset: location.offset });
  }
  return entries;
}

/** Replaces 0xFFFFFFFF size and offset fields with the values from the zip64 extra field (id 0x0001). */
function applyZip64Extra(entry: ZipEntry, extra: Buffer, where: { file: string; record: string; offset: number }): void {
  const needed = [entry.uncompressedSize, entry.compressedSize, entry.localHeaderOffset].some((value) => value === UINT32_SENTINEL);
  if (!needed) return;

  for (let position = 0; position + 4 <= extra.length;) {
    const id = extra.readUInt16LE(position);
    const length = extra.readUInt16LE(position + 2);
    const field = extra.subarray(position + 4, position + 4 + length);
    position += 4 + length;
    if (id !== ZIP64_EXTRA_ID) continue;

    // The field holds only the values whose 32-bit field is the sentinel, in this order.
    let cursor = 0;
    const next = (): number => {
      const value = cursor + 8 <= field.length ? readSafeUInt64(field, cursor) : undefined;
      if (value === undefined) throw new EngineError('invalid zip64 extra field in the central directory; the archive is damaged', where);
      cursor += 8;
      return value;
    };
    if (entry.uncompressedSize === UINT32_SENTINEL) entry.uncompressedSize = next();
    if (entry.compressedSize === UINT32_SENTINEL) entry.compressedSize = next();
    if (entry.localHeaderOffset === UINT32_SENTINEL) entry.localHeaderOffset = next();
    return;
  }
  throw new EngineError('central directory entry has a 0xFFFFFFFF size or offset but no zip64 extra field; the archive is damaged', where);
}

/** Validates every name and returns the top folder; PyTorch takes it from the first entry. */
function checkRecordNames(entries: ZipEntry[], directoryOffset: number, filePath: string): string {
  if (entries.length === 0) {
    throw new EngineError('the zip archive has no records, so it is not a PyTorch archive', { file: filePath, offset: directoryOffset });
  }

  for (const entry of entries) {
    const reason = unsafeRecordNameReason(entry.name);
    if (reason !== undefined) {
      throw new EngineError(`record name escapes the archive folder: ${reason}`, { file: filePath, record: JSON.stringify(entry.name), offset: entry.localHeaderOffset });
    }
  }

  const first = entries[0];
  const slash = first.name.indexOf('/');
  if (slash <= 0) {
    throw new EngineError('record is not in a folder; PyTorch requires every record in one top folder', { file: filePath, record: first.name, offset: first.localHeaderOffset });
  }
  const topFolder = first.name.slice(0, slash);

  const seen = new Set<string>();
  for (const entry of entries) {
    const where = { file: filePath, record: entry.name, offset: entry.localHeaderOffset };
    if (!entry.name.startsWith(`${topFolder}/`)) {
      throw new EngineError(`record is outside the top folder "${topFolder}/" of the first record; PyTorch requires every record in one top folder`, where);
    }
    const key = asciiLowerCase(entry.name);
    if (seen.has(key)) {
      throw new EngineError('two records have this name (PyTorch compares names ignoring case), so readers disagree on which one counts; the archive is damaged', where);
    }
    seen.add(key);
  }
  return topFolder;
}

function checkReadable(entry: ZipEntry, where: { file: string; record: string; offset: number }): void {
  if ((entry.flags & FLAG_ENCRYPTED) !== 0) {
    throw new EngineError('record is encrypted; PyTorch archives are never encrypted', where);
  }
  if (entry.method !== METHOD_STORED && entry.method !== METHOD_DEFLATED) {
    throw new EngineError(`unsupported compression method ${entry.method}; PyTorch reads only stored (0) and deflated (8) records`, where);
  }
}

function inflateRecord(compressed: Buffer, entry: ZipEntry, where: { file: string; record: string; offset: number }): Buffer {
  let inflated: Buffer;
  try {
    // One byte past the declared size is enough to tell a bomb from a valid record.
    inflated = zlib.inflateRawSync(compressed, { maxOutputLength: entry.uncompressedSize + 1 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new EngineError(`deflated record inflates past its declared size of ${entry.uncompressedSize} bytes (a deflate bomb or a damaged archive)`, where, { cause: error });
    }
    throw new EngineError(`invalid deflate data (${(error as Error).message}); the archive is damaged`, where, { cause: error });
  }
  if (inflated.length !== entry.uncompressedSize) {
    const comparison = inflated.length > entry.uncompressedSize ? 'past' : 'short of';
    throw new EngineError(`deflated record inflates to ${inflated.length} bytes, ${comparison} its declared size of ${entry.uncompressedSize} bytes; the archive is damaged`, where);
  }
  return inflated;
}
