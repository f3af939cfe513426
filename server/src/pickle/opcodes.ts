/**
 * The pickle opcodes of protocols 0 to 5, as CPython's pickletools.py documents them: the
 * byte, the protocol that introduced it, and the form of the argument that follows the byte.
 */

/** The layout of the argument bytes that follow an opcode byte. */
export type ArgumentForm =
  | 'none'
  | 'uint1'
  | 'uint2'
  | 'int4'
  | 'uint4'
  | 'uint8'
  | 'float8'
  /** Text up to a newline, used by the protocol 0 opcodes. */
  | 'line'
  /** Two text lines: module and name (GLOBAL, INST). */
  | 'two-lines'
  /** One length byte, then that many bytes. */
  | 'bytes1'
  /** A little-endian uint32 length, then that many bytes. */
  | 'bytes4'
  /** A little-endian int32 length (negative is invalid), then that many bytes. */
  | 'bytes4-signed'
  /** A little-endian uint64 length, then that many bytes. */
  | 'bytes8';

export interface OpcodeInfo {
  name: OpcodeName;
  code: number;
  protocol: number;
  argument: ArgumentForm;
}

const TABLE = [
  // Protocol 0: the text protocol.
  ['MARK', '(', 0, 'none'],
  ['STOP', '.', 0, 'none'],
  ['POP', '0', 0, 'none'],
  ['POP_MARK', '1', 1, 'none'],
  ['DUP', '2', 0, 'none'],
  ['FLOAT', 'F', 0, 'line'],
  ['INT', 'I', 0, 'line'],
  ['LONG', 'L', 0, 'line'],
  ['NONE', 'N', 0, 'none'],
  ['PERSID', 'P', 0, 'line'],
  ['REDUCE', 'R', 0, 'none'],
  ['STRING', 'S', 0, 'line'],
  ['UNICODE', 'V', 0, 'line'],
  ['APPEND', 'a', 0, 'none'],
  ['BUILD', 'b', 0, 'none'],
  ['GLOBAL', 'c', 0, 'two-lines'],
  ['DICT', 'd', 0, 'none'],
  ['GET', 'g', 0, 'line'],
  ['INST', 'i', 0, 'two-lines'],
  ['LIST', 'l', 0, 'none'],
  ['PUT', 'p', 0, 'line'],
  ['SETITEM', 's', 0, 'none'],
  ['TUPLE', 't', 0, 'none'],
  // Protocol 1: the first binary protocol.
  ['BININT', 'J', 1, 'int4'],
  ['BININT1', 'K', 1, 'uint1'],
  ['BININT2', 'M', 1, 'uint2'],
  ['BINPERSID', 'Q', 1, 'none'],
  ['BINSTRING', 'T', 1, 'bytes4-signed'],
  ['SHORT_BINSTRING', 'U', 1, 'bytes1'],
  ['BINUNICODE', 'X', 1, 'bytes4'],
  ['BINFLOAT', 'G', 1, 'float8'],
  ['EMPTY_LIST', ']', 1, 'none'],
  ['APPENDS', 'e', 1, 'none'],
  ['EMPTY_TUPLE', ')', 1, 'none'],
  ['SETITEMS', 'u', 1, 'none'],
  ['EMPTY_DICT', '}', 1, 'none'],
  ['BINGET', 'h', 1, 'uint1'],
  ['LONG_BINGET', 'j', 1, 'uint4'],
  ['BINPUT', 'q', 1, 'uint1'],
  ['LONG_BINPUT', 'r', 1, 'uint4'],
  ['OBJ', 'o', 1, 'none'],
  // Protocol 2.
  ['PROTO', '\x80', 2, 'uint1'],
  ['NEWOBJ', '\x81', 2, 'none'],
  ['EXT1', '\x82', 2, 'uint1'],
  ['EXT2', '\x83', 2, 'uint2'],
  ['EXT4', '\x84', 2, 'int4'],
  ['TUPLE1', '\x85', 2, 'none'],
  ['TUPLE2', '\x86', 2, 'none'],
  ['TUPLE3', '\x87', 2, 'none'],
  ['NEWTRUE', '\x88', 2, 'none'],
  ['NEWFALSE', '\x89', 2, 'none'],
  ['LONG1', '\x8a', 2, 'bytes1'],
  ['LONG4', '\x8b', 2, 'bytes4-signed'],
  // Protocol 3.
  ['BINBYTES', 'B', 3, 'bytes4'],
  ['SHORT_BINBYTES', 'C', 3, 'bytes1'],
  // Protocol 4.
  ['SHORT_BINUNICODE', '\x8c', 4, 'bytes1'],
  ['BINUNICODE8', '\x8d', 4, 'bytes8'],
  ['BINBYTES8', '\x8e', 4, 'bytes8'],
  ['EMPTY_SET', '\x8f', 4, 'none'],
  ['ADDITEMS', '\x90', 4, 'none'],
  ['FROZENSET', '\x91', 4, 'none'],
  ['NEWOBJ_EX', '\x92', 4, 'none'],
  ['STACK_GLOBAL', '\x93', 4, 'none'],
  ['MEMOIZE', '\x94', 4, 'none'],
  ['FRAME', '\x95', 4, 'uint8'],
  // Protocol 5.
  ['BYTEARRAY8', '\x96', 5, 'bytes8'],
  ['NEXT_BUFFER', '\x97', 5, 'none'],
  ['READONLY_BUFFER', '\x98', 5, 'none'],
] as const;

export type OpcodeName = (typeof TABLE)[number][0];

/** The newest protocol this reader understands. */
export const HIGHEST_PROTOCOL = 5;

const BY_CODE: (OpcodeInfo | undefined)[] = new Array(256).fill(undefined);

for (const [name, char, protocol, argument] of TABLE) {
  const info: OpcodeInfo = { name, code: char.charCodeAt(0), protocol, argument };
  BY_CODE[info.code] = info;
}

/** Returns the opcode for a byte, or undefined when no protocol defines that byte. */
export function opcodeForByte(byte: number): OpcodeInfo | undefined {
  return BY_CODE[byte];
}

/** The opcodes that push a string whose bytes follow the opcode. */
export const STRING_PUSH_OPCODES: ReadonlySet<OpcodeName> = new Set<OpcodeName>([
  'STRING', 'BINSTRING', 'SHORT_BINSTRING', 'UNICODE', 'BINUNICODE', 'SHORT_BINUNICODE', 'BINUNICODE8',
]);
