/**
 * The value tree that the symbolic pickle machine builds. Nothing here is a live Python
 * object: globals stay `{ module, name }` markers and calls stay object nodes.
 *
 * Containers are shared by reference exactly as the pickle shares them through its memo,
 * and APPEND, SETITEM or BUILD can make them cyclic, so a walk over the tree must track
 * the nodes it has visited.
 */
import type { OpcodeName } from './opcodes';

/** The file and record that a pickle came from, for error messages. */
export interface PickleLocation {
  file: string;
  record: string;
}

/** A byte range in the pickle: `start` is the opcode byte, `end` is just past its argument. */
export interface OpcodeRange {
  op: OpcodeName;
  start: number;
  end: number;
}

/**
 * One use of a string: the opcode that put it on the stack. A rewrite changes the bytes of
 * exactly this opcode.
 */
export interface StringSite extends OpcodeRange {
  /** For a memo GET: the memo index that it reads. */
  memoIndex?: number;
  /** For a memo GET: the site of the string that the memo entry stored. */
  memoSource?: StringSite;
  /** The push opcode that contains the string's bytes: the site itself for a push. */
  origin: OpcodeRange;
}

export interface PickleNone {
  kind: 'none';
}

export interface PickleBool {
  kind: 'bool';
  value: boolean;
}

/** An integer; a bigint only when it is outside the safe integer range of a number. */
export interface PickleInt {
  kind: 'int';
  value: number | bigint;
  /** The opcode that pushed the integer, so that a rewrite can replace it; absent for booleans read as ints. */
  site?: OpcodeRange;
}

export interface PickleFloat {
  kind: 'float';
  value: number;
}

export interface PickleStr {
  kind: 'str';
  value: string;
  site: StringSite;
}

/** A bytes or bytearray value; the payload stays in the pickle and is not copied. */
export interface PickleBytes {
  kind: 'bytes' | 'bytearray';
  /** Payload range in the pickle. */
  start: number;
  end: number;
}

export interface PickleTuple {
  kind: 'tuple';
  items: PickleValue[];
  /** Offset of the opcode that built the tuple. */
  start: number;
}

export interface PickleList {
  kind: 'list';
  items: PickleValue[];
  start: number;
}

export interface PickleDict {
  kind: 'dict';
  entries: [PickleValue, PickleValue][];
  start: number;
}

export interface PickleSet {
  kind: 'set' | 'frozenset';
  items: PickleValue[];
  start: number;
}

/** A global reference (GLOBAL, STACK_GLOBAL, INST), never resolved. */
export interface PickleGlobal {
  kind: 'global';
  module: string;
  name: string;
  start: number;
  end: number;
}

/**
 * The result of a call: REDUCE `callable(*args)`, NEWOBJ `cls.__new__(cls, *args)`,
 * NEWOBJ_EX (with keyword arguments), INST or OBJ. BUILD sets `state`; APPEND, SETITEM and
 * ADDITEMS on the object collect into `listItems`, `dictEntries` and `setItems`.
 */
export interface PickleObject {
  kind: 'object';
  call: 'reduce' | 'newobj' | 'newobj_ex' | 'inst' | 'obj';
  callable: PickleValue;
  args: PickleValue[];
  kwargs?: PickleValue;
  state?: PickleValue;
  listItems: PickleValue[];
  dictEntries: [PickleValue, PickleValue][];
  setItems: PickleValue[];
  /** Range of the opcode that made the call. */
  start: number;
  end: number;
}

/** The result of PERSID or BINPERSID: what `persistent_load(id)` would return. */
export interface PicklePersistent {
  kind: 'persistent';
  id: PickleValue;
  start: number;
  end: number;
}

/** An out-of-band buffer of protocol 5 (NEXT_BUFFER), numbered in order of use. */
export interface PickleBuffer {
  kind: 'buffer';
  index: number;
  readonly: boolean;
  start: number;
}

export type PickleValue =
  | PickleNone
  | PickleBool
  | PickleInt
  | PickleFloat
  | PickleStr
  | PickleBytes
  | PickleTuple
  | PickleList
  | PickleDict
  | PickleSet
  | PickleGlobal
  | PickleObject
  | PicklePersistent
  | PickleBuffer;
