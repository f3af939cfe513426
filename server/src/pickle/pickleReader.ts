/**
 * A symbolic pickle machine: runs the opcodes of protocols 0 to 5 on a stack of value-tree
 * nodes instead of Python objects, so it never imports or executes anything. Each string
 * keeps the site of the opcode that pushed it, which is what a byte-exact rewrite needs.
 *
 * Bounds: every opcode consumes at least one byte, so the number of opcodes, stack entries
 * and memo entries is at most the input size. On top of that the machine limits MARK and
 * container nesting, the memo size and the digits of text integers, and rejects every
 * global outside the set that PyTorch writes.
 */
import { EngineError } from '../errors';
import { disallowedGlobalMessage, isAllowedGlobal } from './allowedGlobals';
import { OpcodeCursor, type DecodedOpcode, type OpcodeArgument } from './opcodeCursor';
import { HIGHEST_PROTOCOL, type OpcodeName } from './opcodes';
import { decodeLongBytes, parseTextFloat, parseTextInteger } from './pickleNumbers';
import { decodeLatin1, decodeRawUnicodeEscape, decodeStringLiteral, decodeUtf8, InvalidPayloadError } from './pickleStrings';
import type {
  OpcodeRange,
  PickleGlobal,
  PickleLocation,
  PickleObject,
  PicklePersistent,
  PickleStr,
  PickleValue,
  StringSite,
} from './pickleValues';

/** Limit on MARK nesting and on the depth of containers built inside containers. */
export const MAX_NESTING_DEPTH = 1000;

/** Limit on memo entries. NOTE: chosen as a safety bound, not taken from any writer. */
export const MAX_MEMO_ENTRIES = 1 << 22;

export interface MemoEntry {
  value: PickleValue;
  /** The PUT, BINPUT, LONG_BINPUT or MEMOIZE opcode that stored the value. */
  put: OpcodeRange;
}

export interface PickleResult {
  where: PickleLocation;
  /** The argument of the first PROTO opcode; 0 when there is none (protocols 0 and 1). */
  protocol: number;
  /** The value that STOP returns. */
  root: PickleValue;
  /** Every opcode in order, STOP included. */
  ops: OpcodeRange[];
  /** The memo contents at STOP. */
  memo: ReadonlyMap<number, MemoEntry>;
  /** Every string push and every memo GET of a string, in opcode order. */
  strings: PickleStr[];
  /** Every PERSID and BINPERSID result, in opcode order. */
  persistentIds: PicklePersistent[];
  /** Offset just past STOP. Python ignores any bytes after it. */
  end: number;
}

const NONE: PickleValue = { kind: 'none' };
const TRUE: PickleValue = { kind: 'bool', value: true };
const FALSE: PickleValue = { kind: 'bool', value: false };

/** Reads a pickle into a value tree, or throws EngineError naming the file, record and offset. */
export function readPickle(data: Buffer, where: PickleLocation): PickleResult {
  return new PickleMachine(data, where).run();
}

class PickleMachine {
  private readonly cursor: OpcodeCursor;
  private readonly stack: PickleValue[] = [];
  /** Stack lengths at each open MARK. */
  private readonly marks: number[] = [];
  private readonly memo = new Map<number, MemoEntry>();
  private readonly ops: OpcodeRange[] = [];
  private readonly strings: PickleStr[] = [];
  private readonly persistentIds: PicklePersistent[] = [];
  /** Container depth; values that are not containers have depth 0. */
  private readonly depths = new WeakMap<object, number>();
  private protocol: number | undefined;
  private bufferCount = 0;
  private op!: DecodedOpcode;
  /** Range of the current opcode, shared by the opcode list, sites and memo entries. */
  private range!: OpcodeRange;

  constructor(
    private readonly data: Buffer,
    private readonly where: PickleLocation,
  ) {
    this.cursor = new OpcodeCursor(data, where);
  }

  run(): PickleResult {
    for (;;) {
      this.op = this.cursor.next();
      this.range = { op: this.op.info.name, start: this.op.start, end: this.op.end };
      this.ops.push(this.range);

      if (this.op.info.name === 'STOP') {
        const root = this.pop();
        return {
          where: this.where,
          protocol: this.protocol ?? 0,
          root,
          ops: this.ops,
          memo: this.memo,
          strings: this.strings,
          persistentIds: this.persistentIds,
          end: this.op.end,
        };
      }

      this.execute(this.op.info.name);
    }
  }

  private execute(name: OpcodeName): void {
    switch (name) {
      case 'PROTO': return this.executeProto();
      case 'FRAME': return;
      case 'STOP': return;

      case 'MARK': return this.pushMark();
      case 'POP': return this.executePop();
      case 'POP_MARK': this.popToMark(); return;
      case 'DUP': return this.push(this.peek());

      case 'NONE': return this.push(NONE);
      case 'NEWTRUE': return this.push(TRUE);
      case 'NEWFALSE': return this.push(FALSE);
      case 'INT': return this.executeTextInt();
      case 'LONG': return this.executeTextLong();
      case 'BININT': case 'BININT1': case 'BININT2': return this.push({ kind: 'int', value: this.intArgument(), site: this.opRange() });
      case 'LONG1': case 'LONG4': return this.push({ kind: 'int', value: decodeLongBytes(this.payload()), site: this.opRange() });
      case 'FLOAT': return this.push({ kind: 'float', value: this.decodeText(() => parseTextFloat(decodeLatin1(this.payload()))) });
      case 'BINFLOAT': return this.push({ kind: 'float', value: this.floatArgument() });

      case 'STRING': case 'BINSTRING': case 'SHORT_BINSTRING':
      case 'UNICODE': case 'BINUNICODE': case 'SHORT_BINUNICODE': case 'BINUNICODE8':
        return this.executeStringPush(name);
      case 'BINBYTES': case 'SHORT_BINBYTES': case 'BINBYTES8': case 'BYTEARRAY8': {
        const { start, end } = this.payloadRange();
        return this.push({ kind: name === 'BYTEARRAY8' ? 'bytearray' : 'bytes', start, end });
      }

      case 'EMPTY_TUPLE': return this.pushContainer({ kind: 'tuple', items: [], start: this.op.start });
      case 'EMPTY_LIST': return this.pushContainer({ kind: 'list', items: [], start: this.op.start });
      case 'EMPTY_DICT': return this.pushContainer({ kind: 'dict', entries: [], start: this.op.start });
      case 'EMPTY_SET': return this.pushContainer({ kind: 'set', items: [], start: this.op.start });
      case 'TUPLE': return this.pushContainer({ kind: 'tuple', items: this.popToMark(), start: this.op.start });
      case 'TUPLE1': case 'TUPLE2': case 'TUPLE3': return this.executeShortTuple(Number(name.slice(-1)));
      case 'LIST': return this.pushContainer({ kind: 'list', items: this.popToMark(), start: this.op.start });
      case 'DICT': return this.pushContainer({ kind: 'dict', entries: this.pairs(this.popToMark()), start: this.op.start });
      case 'FROZENSET': return this.pushContainer({ kind: 'frozenset', items: this.popToMark(), start: this.op.start });

      case 'APPEND': return this.appendItems([this.pop()]);
      case 'APPENDS': return this.appendItems(this.popToMark());
      case 'SETITEM': {
        const value = this.pop();
        const key = this.pop();
        return this.setItems([[key, value]]);
      }
      case 'SETITEMS': return this.setItems(this.pairs(this.popToMark()));
      case 'ADDITEMS': return this.addItems(this.popToMark());

      case 'GLOBAL': return this.push(this.executeGlobal());
      case 'STACK_GLOBAL': return this.executeStackGlobal();
      case 'REDUCE': return this.executeCall('reduce');
      case 'NEWOBJ': return this.executeCall('newobj');
      case 'NEWOBJ_EX': return this.executeCall('newobj_ex');
      case 'INST': return this.executeInst();
      case 'OBJ': return this.executeObj();
      case 'BUILD': return this.executeBuild();

      case 'PUT': case 'BINPUT': case 'LONG_BINPUT': return this.storeMemo(this.memoIndexArgument());
      case 'MEMOIZE': return this.storeMemo(this.memo.size);
      case 'GET': case 'BINGET': case 'LONG_BINGET': return this.executeGet(this.memoIndexArgument());

      case 'PERSID': return this.executePersistentId(this.persidString());
      case 'BINPERSID': return this.executePersistentId(this.pop());

      case 'NEXT_BUFFER': return this.push({ kind: 'buffer', index: this.bufferCount++, readonly: false, start: this.op.start });
      case 'READONLY_BUFFER': return this.executeReadonlyBuffer();

      case 'EXT1': case 'EXT2': case 'EXT4':
        return this.fail(`the ${name} opcode refers to the copyreg extension registry, which PyTorch never uses; the file is not a model PyTorch wrote`);
    }
  }

  // Stack and marks.

  private push(value: PickleValue): void {
    this.stack.push(value);
  }

  private stackBase(): number {
    return this.marks.length === 0 ? 0 : this.marks[this.marks.length - 1];
  }

  private pop(): PickleValue {
    if (this.stack.length <= this.stackBase()) this.failUnderflow();
    return this.stack.pop() as PickleValue;
  }

  private peek(): PickleValue {
    if (this.stack.length <= this.stackBase()) this.failUnderflow();
    return this.stack[this.stack.length - 1];
  }

  private pushMark(): void {
    if (this.marks.length >= MAX_NESTING_DEPTH) {
      this.fail(`the pickle nests MARK opcodes more than ${MAX_NESTING_DEPTH} deep; PyTorch never writes such a pickle, so the record is corrupt or hostile`);
    }
    this.marks.push(this.stack.length);
  }

  private popToMark(): PickleValue[] {
    const base = this.marks.pop();
    if (base === undefined) this.fail(`the ${this.op.info.name} opcode needs a MARK, but none is open; the record is corrupt`);
    return this.stack.splice(base);
  }

  private executePop(): void {
    if (this.stack.length > this.stackBase()) {
      this.stack.pop();
    } else if (this.marks.length > 0) {
      // Python's POP removes the MARK itself when no value sits above it.
      this.marks.pop();
    } else {
      this.failUnderflow();
    }
  }

  // Depth bookkeeping for containers.

  private depthOf(value: PickleValue): number {
    switch (value.kind) {
      case 'tuple': case 'list': case 'dict': case 'set': case 'frozenset': case 'object': case 'persistent':
        return this.depths.get(value) ?? 1;
      default:
        return 0;
    }
  }

  private raiseDepth(container: PickleValue, children: readonly PickleValue[]): void {
    let depth = this.depths.get(container) ?? 1;
    for (const child of children) depth = Math.max(depth, this.depthOf(child) + 1);
    if (depth > MAX_NESTING_DEPTH) {
      this.fail(`the pickle nests containers more than ${MAX_NESTING_DEPTH} deep; PyTorch never writes such a pickle, so the record is corrupt or hostile`);
    }
    this.depths.set(container, depth);
  }

  private pushContainer(container: PickleValue): void {
    const children: PickleValue[] = [];
    if (container.kind === 'tuple' || container.kind === 'list' || container.kind === 'set' || container.kind === 'frozenset') {
      children.push(...container.items);
    } else if (container.kind === 'dict') {
      for (const [key, value] of container.entries) children.push(key, value);
    }
    this.raiseDepth(container, children);
    this.push(container);
  }

  private executeShortTuple(count: number): void {
    if (this.stack.length - this.stackBase() < count) this.failUnderflow();
    this.pushContainer({ kind: 'tuple', items: this.stack.splice(this.stack.length - count), start: this.op.start });
  }

  private pairs(items: PickleValue[]): [PickleValue, PickleValue][] {
    if (items.length % 2 !== 0) this.fail(`the ${this.op.info.name} opcode has an odd number of items (${items.length}) for key-value pairs; the record is corrupt`);
    const pairs: [PickleValue, PickleValue][] = [];
    for (let i = 0; i < items.length; i += 2) pairs.push([items[i], items[i + 1]]);
    return pairs;
  }

  // Mutating opcodes: they apply to the value below the popped items.

  private appendItems(items: PickleValue[]): void {
    const target = this.peek();
    if (target.kind === 'list') target.items.push(...items);
    else if (target.kind === 'object') target.listItems.push(...items);
    else this.fail(`the ${this.op.info.name} opcode appends to a ${target.kind}, which has no append; the record is corrupt`);
    this.raiseDepth(target, items);
  }

  private setItems(pairs: [PickleValue, PickleValue][]): void {
    const target = this.peek();
    if (target.kind === 'dict') target.entries.push(...pairs);
    else if (target.kind === 'object') target.dictEntries.push(...pairs);
    else this.fail(`the ${this.op.info.name} opcode sets items on a ${target.kind}, which has no items; the record is corrupt`);
    this.raiseDepth(target, pairs.flat());
  }

  private addItems(items: PickleValue[]): void {
    const target = this.peek();
    if (target.kind === 'set') target.items.push(...items);
    else if (target.kind === 'object') target.setItems.push(...items);
    else this.fail(`the ADDITEMS opcode adds to a ${target.kind}, which is not a set; the record is corrupt`);
    this.raiseDepth(target, items);
  }

  // Arguments.

  private argument(): OpcodeArgument {
    return this.op.argument;
  }

  private intArgument(): number {
    const argument = this.argument();
    if (argument.form !== 'int') throw new Error(`opcode ${this.op.info.name} has no integer argument`);
    return argument.value;
  }

  private floatArgument(): number {
    const argument = this.argument();
    if (argument.form !== 'float') throw new Error(`opcode ${this.op.info.name} has no float argument`);
    return argument.value;
  }

  private payloadRange(): { start: number; end: number } {
    const argument = this.argument();
    if (argument.form !== 'payload') throw new Error(`opcode ${this.op.info.name} has no payload`);
    return argument;
  }

  private payload(): Buffer {
    const { start, end } = this.payloadRange();
    return this.data.subarray(start, end);
  }

  /** Runs a text decoder and turns its rejection into an EngineError at the opcode. */
  private decodeText<T>(decode: () => T): T {
    try {
      return decode();
    } catch (error) {
      if (error instanceof InvalidPayloadError) this.fail(`invalid argument of the ${this.op.info.name} opcode: ${error.message}`);
      throw error;
    }
  }

  private memoIndexArgument(): number {
    if (this.op.argument.form === 'int') return this.op.argument.value;

    const index = this.decodeText(() => parseTextInteger(decodeLatin1(this.payload())));
    if (typeof index !== 'number' || index < 0) this.fail(`the ${this.op.info.name} opcode has an invalid memo index ${index}; the record is corrupt`);
    return index;
  }

  // Opcodes with behavior of their own.

  private opRange(): OpcodeRange {
    return this.range;
  }

  private executeProto(): void {
    const version = this.intArgument();
    if (version > HIGHEST_PROTOCOL) {
      this.fail(`the pickle uses protocol ${version}, newer than protocol ${HIGHEST_PROTOCOL}, the newest this reader knows; the file was not written by a known PyTorch`);
    }
    this.protocol ??= version;
  }

  private executeTextInt(): void {
    const text = decodeLatin1(this.payload());
    // Protocol 0 writes booleans as INT 00 and INT 01.
    if (text === '00') return this.push(FALSE);
    if (text === '01') return this.push(TRUE);
    this.push({ kind: 'int', value: this.decodeText(() => parseTextInteger(text)), site: this.opRange() });
  }

  private executeTextLong(): void {
    let text = decodeLatin1(this.payload());
    if (text.endsWith('L')) text = text.slice(0, -1);
    this.push({ kind: 'int', value: this.decodeText(() => parseTextInteger(text)), site: this.opRange() });
  }

  private executeStringPush(name: OpcodeName): void {
    const bytes = this.payload();
    let value: string;
    if (name === 'UNICODE') value = this.decodeText(() => decodeRawUnicodeEscape(bytes));
    else if (name === 'STRING') value = decodeLatin1(this.decodeText(() => decodeStringLiteral(bytes)));
    else if (name === 'BINSTRING' || name === 'SHORT_BINSTRING') value = decodeLatin1(bytes);
    else value = decodeUtf8(bytes);

    const range = this.range;
    const node: PickleStr = { kind: 'str', value, site: { ...range, origin: range } };
    this.strings.push(node);
    this.push(node);
  }

  private makeGlobal(module: string, name: string): PickleGlobal {
    if (!isAllowedGlobal(module, name)) this.fail(disallowedGlobalMessage(module, name));
    return { kind: 'global', module, name, start: this.op.start, end: this.op.end };
  }

  private executeGlobal(): PickleGlobal {
    const argument = this.argument();
    if (argument.form !== 'two-lines') throw new Error(`opcode ${this.op.info.name} has no module and name`);
    const module = decodeUtf8(this.data.subarray(argument.first.start, argument.first.end));
    const name = decodeUtf8(this.data.subarray(argument.second.start, argument.second.end));
    return this.makeGlobal(module, name);
  }

  private executeStackGlobal(): void {
    const name = this.pop();
    const module = this.pop();
    if (module.kind !== 'str' || name.kind !== 'str') {
      this.fail(`the STACK_GLOBAL opcode needs two strings, module and name, but found a ${module.kind} and a ${name.kind}; the record is corrupt`);
    }
    this.push(this.makeGlobal(module.value, name.value));
  }

  private makeObject(call: PickleObject['call'], callable: PickleValue, args: PickleValue[], kwargs?: PickleValue): PickleObject {
    const node: PickleObject = {
      kind: 'object', call, callable, args, kwargs, listItems: [], dictEntries: [], setItems: [], start: this.op.start, end: this.op.end,
    };
    this.raiseDepth(node, kwargs === undefined ? [callable, ...args] : [callable, ...args, kwargs]);
    return node;
  }

  private tupleItems(value: PickleValue, role: string): PickleValue[] {
    if (value.kind !== 'tuple') this.fail(`the ${this.op.info.name} opcode needs a tuple of ${role}, but found a ${value.kind}; the record is corrupt`);
    return value.items;
  }

  private executeCall(call: 'reduce' | 'newobj' | 'newobj_ex'): void {
    const kwargs = call === 'newobj_ex' ? this.pop() : undefined;
    if (kwargs !== undefined && kwargs.kind !== 'dict') {
      this.fail(`the NEWOBJ_EX opcode needs a dict of keyword arguments, but found a ${kwargs.kind}; the record is corrupt`);
    }
    const args = this.tupleItems(this.pop(), 'arguments');
    const callable = this.pop();
    this.push(this.makeObject(call, callable, args, kwargs));
  }

  private executeInst(): void {
    const cls = this.executeGlobal();
    const args = this.popToMark();
    this.push(this.makeObject('inst', cls, args));
  }

  private executeObj(): void {
    const items = this.popToMark();
    if (items.length === 0) this.fail('the OBJ opcode needs a class after its MARK, but found nothing; the record is corrupt');
    this.push(this.makeObject('obj', items[0], items.slice(1)));
  }

  private executeBuild(): void {
    const state = this.pop();
    const target = this.peek();
    if (target.kind !== 'object') {
      this.fail(`the BUILD opcode sets state on a ${target.kind}, which only objects have; the record is corrupt`);
    }
    target.state = state;
    this.raiseDepth(target, [state]);
  }

  private storeMemo(index: number): void {
    const value = this.peek();
    if (!this.memo.has(index) && this.memo.size >= MAX_MEMO_ENTRIES) {
      this.fail(`the pickle stores more than ${MAX_MEMO_ENTRIES} memo entries, beyond this reader's limit; the record is corrupt or hostile`);
    }
    this.memo.set(index, { value, put: this.range });
  }

  private executeGet(index: number): void {
    const entry = this.memo.get(index);
    if (entry === undefined) {
      this.fail(`the ${this.op.info.name} opcode reads memo index ${index}, which no earlier PUT stored; the record is corrupt`);
    }

    // A string read from the memo is a new use with its own site, so that a rewrite can
    // change this use without changing the others.
    if (entry.value.kind === 'str') {
      const source = entry.value.site;
      const site: StringSite = {
        op: this.op.info.name, start: this.op.start, end: this.op.end, memoIndex: index, memoSource: source, origin: source.origin,
      };
      const node: PickleStr = { kind: 'str', value: entry.value.value, site };
      this.strings.push(node);
      return this.push(node);
    }
    this.push(entry.value);
  }

  private persidString(): PickleValue {
    const range = this.range;
    // The PERSID argument is not a string push, so it is not listed among the rewritable strings.
    return { kind: 'str', value: decodeLatin1(this.payload()), site: { ...range, origin: range } };
  }

  private executePersistentId(id: PickleValue): void {
    const node: PicklePersistent = { kind: 'persistent', id, start: this.op.start, end: this.op.end };
    this.raiseDepth(node, [id]);
    this.persistentIds.push(node);
    this.push(node);
  }

  private executeReadonlyBuffer(): void {
    const target = this.peek();
    if (target.kind !== 'buffer') this.fail(`the READONLY_BUFFER opcode applies to a ${target.kind}, not to a buffer; the record is corrupt`);
    target.readonly = true;
  }

  private failUnderflow(): never {
    this.fail(`the ${this.op.info.name} opcode needs more values than the stack holds (stack underflow); the record is corrupt`);
  }

  private fail(message: string): never {
    throw new EngineError(message, { ...this.where, offset: this.op.start });
  }
}
