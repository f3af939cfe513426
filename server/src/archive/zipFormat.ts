/**
 * Zip record layouts shared by the reader and the writer, and the header encoders that
 * reproduce what PyTorch's writer (miniz, driven by caffe2/serialize/inline_container.cc)
 * puts on disk. Field names follow the zip specification (PKWARE APPNOTE.TXT).
 */

export const LOCAL_HEADER_SIGNATURE = 0x04034b50;
export const CENTRAL_HEADER_SIGNATURE = 0x02014b50;
export const END_OF_CENTRAL_DIRECTORY_SIGNATURE = 0x06054b50;
export const ZIP64_END_OF_CENTRAL_DIRECTORY_SIGNATURE = 0x06064b50;
export const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
export const DATA_DESCRIPTOR_SIGNATURE = 0x08074b50;

export const LOCAL_HEADER_SIZE = 30;
export const CENTRAL_HEADER_SIZE = 46;
export const END_OF_CENTRAL_DIRECTORY_SIZE = 22;
export const ZIP64_END_OF_CENTRAL_DIRECTORY_SIZE = 56;
export const ZIP64_LOCATOR_SIZE = 20;
export const MAX_COMMENT_LENGTH = 0xffff;

/** A 32-bit size or offset field holding this value is stored in the zip64 extra field. */
export const UINT32_SENTINEL = 0xffffffff;
export const UINT16_SENTINEL = 0xffff;

export const ZIP64_EXTRA_ID = 0x0001;
/** PyTorch's alignment padding extra field: the bytes `FB`, a length, then that many `Z`. */
export const PADDING_EXTRA_ID = 0x4246;
/** PyTorch starts the data of every record at a multiple of this many bytes. */
export const RECORD_ALIGNMENT = 64;

export const METHOD_STORED = 0;
export const METHOD_DEFLATED = 8;

export const FLAG_ENCRYPTED = 0x0001;
export const FLAG_DATA_DESCRIPTOR = 0x0008;
export const FLAG_UTF8 = 0x0800;

/** The DOS directory bit that miniz sets in the external attributes of names ending in `/`. */
export const DOS_DIRECTORY_ATTRIBUTE = 0x10;

/** The reader rejects a larger central directory and the writer never produces one. */
export const MAX_CENTRAL_DIRECTORY_BYTES = 64 * 1024 * 1024;

/** One central directory entry, with zip64 values already applied. */
export interface ZipEntry {
  /** Full record name, including the top folder. */
  name: string;
  method: number;
  flags: number;
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
  localHeaderOffset: number;
}

/** Reads a little-endian uint64; returns undefined above Number.MAX_SAFE_INTEGER. */
export function readSafeUInt64(buffer: Buffer, offset: number): number | undefined {
  const value = buffer.readBigUInt64LE(offset);
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? undefined : Number(value);
}

/**
 * Returns why a record name is unsafe to extract or rewrite, or undefined when it is fine.
 * Absolute names, `..` segments, backslashes and NUL could point outside the archive folder.
 */
export function unsafeRecordNameReason(name: string): string | undefined {
  if (name.length === 0) return 'the name is empty';
  if (name.includes('\0')) return 'the name contains a NUL character';
  if (name.includes('\\')) return 'the name contains a backslash';
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return 'the name is an absolute path';
  if (name.split('/').includes('..')) return 'the name contains a ".." segment';
  return undefined;
}

/** Lowercases ASCII letters only, as miniz does when it compares names case-insensitively. */
export function asciiLowerCase(text: string): string {
  return text.replace(/[A-Z]/g, (letter) => letter.toLowerCase());
}

/** The on-disk layout of one record, from which the writer derives every header. */
export interface RecordLayout {
  nameBytes: Buffer;
  method: number;
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
  localHeaderOffset: number;
  externalAttributes: number;
}

/**
 * miniz stores sizes in the zip64 extra field once the uncompressed size reaches 4 GiB.
 * The compressed-size test only matters for deflated data that grows, which PyTorch never
 * writes; there the zip specification requires the zip64 field as well.
 */
export function hasZip64Sizes(layout: RecordLayout): boolean {
  return layout.uncompressedSize >= UINT32_SENTINEL || layout.compressedSize >= UINT32_SENTINEL;
}

export function hasZip64Offset(layout: RecordLayout): boolean {
  return layout.localHeaderOffset >= UINT32_SENTINEL;
}

/** Empty records get neither the data descriptor flag nor a data descriptor, as in miniz. */
export function hasDataDescriptor(layout: RecordLayout): boolean {
  return layout.uncompressedSize > 0 || layout.compressedSize > 0;
}

function generalPurposeFlags(layout: RecordLayout): number {
  return FLAG_UTF8 | (hasDataDescriptor(layout) ? FLAG_DATA_DESCRIPTOR : 0);
}

function versionNeeded(method: number): number {
  return method === METHOD_STORED ? 0 : 20;
}

/**
 * Encodes a zip64 extended information field. miniz writes the uncompressed size, then the
 * compressed size, then the local header offset, each only when its condition holds.
 */
function encodeZip64Extra(values: number[]): Buffer {
  if (values.length === 0) return Buffer.alloc(0);
  const field = Buffer.alloc(4 + 8 * values.length);
  field.writeUInt16LE(ZIP64_EXTRA_ID, 0);
  field.writeUInt16LE(8 * values.length, 2);
  values.forEach((value, index) => field.writeBigUInt64LE(BigInt(value), 4 + 8 * index));
  return field;
}

/**
 * Returns the number of `Z` bytes that PyTorch's `getPadding` puts in the `FB` extra field
 * so that the record's data starts at a multiple of 64. The zip64 extra field, when present,
 * sits between the name and the padding field and counts.
 */
export function paddingLength(layout: RecordLayout): number {
  let dataStart = layout.localHeaderOffset + LOCAL_HEADER_SIZE + layout.nameBytes.length + 4;
  if (hasZip64Sizes(layout) || hasZip64Offset(layout)) {
    dataStart += 4;
    if (hasZip64Sizes(layout)) dataStart += 16;
    if (hasZip64Offset(layout)) dataStart += 8;
  }
  return (RECORD_ALIGNMENT - (dataStart % RECORD_ALIGNMENT)) % RECORD_ALIGNMENT;
}

/**
 * Encodes the local header, name and extra fields that precede a record's data.
 * CRC and sizes are zero because a data descriptor follows. The local zip64 field carries a
 * compressed size of 0, like miniz, which writes the local header before it compresses.
 */
export function encodeLocalHeader(layout: RecordLayout): Buffer {
  const zip64Values: number[] = [];
  if (hasZip64Sizes(layout)) zip64Values.push(layout.uncompressedSize, 0);
  if (hasZip64Offset(layout)) zip64Values.push(layout.localHeaderOffset);
  const zip64Extra = encodeZip64Extra(zip64Values);

  const padding = paddingLength(layout);
  const paddingExtra = Buffer.alloc(4 + padding, 'Z');
  paddingExtra.writeUInt16LE(PADDING_EXTRA_ID, 0);
  paddingExtra.writeUInt16LE(padding, 2);

  const header = Buffer.alloc(LOCAL_HEADER_SIZE);
  header.writeUInt32LE(LOCAL_HEADER_SIGNATURE, 0);
  header.writeUInt16LE(versionNeeded(layout.method), 4);
  header.writeUInt16LE(generalPurposeFlags(layout), 6);
  header.writeUInt16LE(layout.method, 8);
  header.writeUInt16LE(layout.nameBytes.length, 26);
  header.writeUInt16LE(zip64Extra.length + paddingExtra.length, 28);
  return Buffer.concat([header, layout.nameBytes, zip64Extra, paddingExtra]);
}

/** Encodes the descriptor after the data: 16 bytes, or 24 when the local header has a zip64 field. */
export function encodeDataDescriptor(layout: RecordLayout): Buffer {
  const zip64 = hasZip64Sizes(layout) || hasZip64Offset(layout);
  const descriptor = Buffer.alloc(zip64 ? 24 : 16);
  descriptor.writeUInt32LE(DATA_DESCRIPTOR_SIGNATURE, 0);
  descriptor.writeUInt32LE(layout.crc32, 4);
  if (zip64) {
    descriptor.writeBigUInt64LE(BigInt(layout.compressedSize), 8);
    descriptor.writeBigUInt64LE(BigInt(layout.uncompressedSize), 16);
  } else {
    descriptor.writeUInt32LE(layout.compressedSize, 8);
    descriptor.writeUInt32LE(layout.uncompressedSize, 12);
  }
  return descriptor;
}

/**
 * Encodes a central directory entry. The extra field holds only the zip64 field when one is
 * needed, because PyTorch's alignment padding appears in local headers only. Version made by,
 * DOS time and date and internal attributes are zero, as in every PyTorch-written archive.
 */
export function encodeCentralHeader(layout: RecordLayout): Buffer {
  const zip64Sizes = hasZip64Sizes(layout);
  const zip64Offset = hasZip64Offset(layout);
  const zip64Values: number[] = [];
  if (zip64Sizes) zip64Values.push(layout.uncompressedSize, layout.compressedSize);
  if (zip64Offset) zip64Values.push(layout.localHeaderOffset);
  const zip64Extra = encodeZip64Extra(zip64Values);

  const header = Buffer.alloc(CENTRAL_HEADER_SIZE);
  header.writeUInt32LE(CENTRAL_HEADER_SIGNATURE, 0);
  header.writeUInt16LE(versionNeeded(layout.method), 6);
  header.writeUInt16LE(generalPurposeFlags(layout), 8);
  header.writeUInt16LE(layout.method, 10);
  header.writeUInt32LE(layout.crc32, 16);
  header.writeUInt32LE(zip64Sizes ? UINT32_SENTINEL : layout.compressedSize, 20);
  header.writeUInt32LE(zip64Sizes ? UINT32_SENTINEL : layout.uncompressedSize, 24);
  header.writeUInt16LE(layout.nameBytes.length, 28);
  header.writeUInt16LE(zip64Extra.length, 30);
  header.writeUInt32LE(layout.externalAttributes, 38);
  header.writeUInt32LE(zip64Offset ? UINT32_SENTINEL : layout.localHeaderOffset, 42);
  return Buffer.concat([header, layout.nameBytes, zip64Extra]);
}

/**
 * Encodes the zip64 end of central directory record, its locator and the classic end record.
 * PyTorch opens its writer with MZ_ZIP_FLAG_WRITE_ZIP64, so all three are always present; the
 * classic record caps its fields at 0xFFFF and 0xFFFFFFFF.
 */
export function encodeEndRecords(entryCount: number, centralDirectoryOffset: number, centralDirectorySize: number): Buffer {
  const zip64EndOffset = centralDirectoryOffset + centralDirectorySize;

  const zip64End = Buffer.alloc(ZIP64_END_OF_CENTRAL_DIRECTORY_SIZE);
  zip64End.writeUInt32LE(ZIP64_END_OF_CENTRAL_DIRECTORY_SIGNATURE, 0);
  zip64End.writeBigUInt64LE(BigInt(ZIP64_END_OF_CENTRAL_DIRECTORY_SIZE - 12), 4);
  // Version made by 0x031E (Unix, 3.0) and version needed 0x2D (4.5), as miniz writes them.
  zip64End.writeUInt16LE(0x031e, 12);
  zip64End.writeUInt16LE(0x002d, 14);
  zip64End.writeBigUInt64LE(BigInt(entryCount), 24);
  zip64End.writeBigUInt64LE(BigInt(entryCount), 32);
  zip64End.writeBigUInt64LE(BigInt(centralDirectorySize), 40);
  zip64End.writeBigUInt64LE(BigInt(centralDirectoryOffset), 48);

  const locator = Buffer.alloc(ZIP64_LOCATOR_SIZE);
  locator.writeUInt32LE(ZIP64_LOCATOR_SIGNATURE, 0);
  locator.writeBigUInt64LE(BigInt(zip64EndOffset), 8);
  locator.writeUInt32LE(1, 16);

  const end = Buffer.alloc(END_OF_CENTRAL_DIRECTORY_SIZE);
  end.writeUInt32LE(END_OF_CENTRAL_DIRECTORY_SIGNATURE, 0);
  end.writeUInt16LE(Math.min(entryCount, UINT16_SENTINEL), 8);
  end.writeUInt16LE(Math.min(entryCount, UINT16_SENTINEL), 10);
  end.writeUInt32LE(Math.min(centralDirectorySize, UINT32_SENTINEL), 12);
  end.writeUInt32LE(Math.min(centralDirectoryOffset, UINT32_SENTINEL), 16);
  return Buffer.concat([zip64End, locator, end]);
}
