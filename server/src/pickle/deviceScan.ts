/**
 * Finds the hard-coded devices in a pickle read by readPickle: storage locations of tensors,
 * `torch.device` objects, strings that name a device, and in mobile bytecode the
 * `aten::device.with_index` operator. Each finding carries the site of the string that contains
 * the device, so that rewritePickle can change exactly those bytes.
 *
 * TorchScript's pickler memoizes strings and device objects: one 'cuda:0' string can be a
 * str attribute and, through a memo GET, the argument of a device object. Each use has its
 * own site, but a device object read back from the memo shares the site of its first use.
 */
import { parseDevice } from '../device';
import { EngineError } from '../errors';
import { MAX_NESTING_DEPTH, type PickleResult } from './pickleReader';
import type { PickleObject, PicklePersistent, PickleStr, PickleValue, StringSite } from './pickleValues';

/** The record a pickle came from, which decides how its structure is read. */
export type PickleRecordKind = 'data' | 'constants' | 'traced_inputs' | 'bytecode' | 'checkpoint';

/** A step in the path from the root to a value: an attribute or dict key, or an index. */
export type PathSegment = string | number;

/** A tensor storage: the persistent id `('storage', <torch.XStorage>, key, location, numel)`. */
export interface StorageLocationSite {
  /** The storage class, for example `torch.FloatStorage`. */
  storageType: string;
  /** The storage key: the name of the record under `data/` or `constants/` that contains the bytes. */
  key: string;
  location: string;
  site: StringSite;
  numel?: number | bigint;
  /** Range of the PERSID or BINPERSID opcode. */
  persistentId: { start: number; end: number };
  /** Paths of the tensors found on this storage, for example `['conv1', 'weight']`; empty when none was found. */
  tensorPaths: PathSegment[][];
}

/** A `torch.device(...)` object: GLOBAL 'torch device', an argument tuple, REDUCE. */
export interface DeviceObjectSite {
  /** The device as PyTorch prints it, for example `cuda:1`. */
  device: string;
  /** The string argument: a whole device, or only its type when an index argument follows. */
  value: string;
  site: StringSite;
  /** The index argument of `torch.device(type, index)`, which checkpoints write. */
  index?: number;
  path: PathSegment[];
  /** The class of the nearest object that contains the device, for example `__torch__.Model`. */
  owner?: string;
  /** Range of the REDUCE opcode that builds the device. */
  reduce: { start: number; end: number };
}

/** A str value that names a device, for example a `str` attribute set to 'cuda:0'. */
export interface DeviceStringSite {
  value: string;
  site: StringSite;
  path: PathSegment[];
  owner?: string;
  /** The attribute of `owner` under which the string sits. */
  attribute?: string;
}

/** An operator table entry of mobile bytecode that builds a device from a type and an index. */
export interface BytecodeOperatorSite {
  method: string;
  name: string;
  overload: string;
  site: StringSite;
}

export interface PickleDeviceScan {
  recordKind: PickleRecordKind;
  storages: StorageLocationSite[];
  deviceObjects: DeviceObjectSite[];
  deviceStrings: DeviceStringSite[];
  operators: BytecodeOperatorSite[];
}

/** Scans a read pickle for hard-coded devices. */
export function scanPickleDevices(result: PickleResult, recordKind: PickleRecordKind): PickleDeviceScan {
  const walker = new DeviceWalker(result);

  if (recordKind === 'bytecode') walker.walkBytecode(result.root);
  else walker.walk(result.root, [], {}, 0);

  return {
    recordKind,
    storages: storageSites(result.persistentIds, walker.tensorPaths),
    deviceObjects: walker.deviceObjects,
    deviceStrings: walker.deviceStrings,
    operators: walker.operators,
  };
}

function storageSites(persistentIds: readonly PicklePersistent[], tensorPaths: Map<PicklePersistent, PathSegment[][]>): StorageLocationSite[] {
  const sites: StorageLocationSite[] = [];

  for (const persistent of persistentIds) {
    // Legacy raw pickles add a sixth item (view metadata); the first five are the same.
    const items = persistent.id.kind === 'tuple' ? persistent.id.items : [];
    const [tag, storageType, key, location, numel] = items;
    if (items.length < 5 || tag.kind !== 'str' || tag.value !== 'storage') continue;
    if (storageType.kind !== 'global' || key.kind !== 'str' || location.kind !== 'str') continue;

    sites.push({
      storageType: `${storageType.module}.${storageType.name}`,
      key: key.value,
      location: location.value,
      site: location.site,
      numel: numel.kind === 'int' ? numel.value : undefined,
      persistentId: { start: persistent.start, end: persistent.end },
      tensorPaths: tensorPaths.get(persistent) ?? [],
    });
  }

  return sites;
}

/** The nearest object that contains a value, and where its attributes start in the path. */
interface Owner {
  className?: string;
  pathLength?: number;
}

const DEVICE_GLOBAL = 'torch.device';

function calleeName(node: PickleObject): string | undefined {
  return node.callable.kind === 'global' ? `${node.callable.module}.${node.callable.name}` : undefined;
}

/** Returns the class name when the object is an instance of a class rather than a rebuilt value. */
function instanceClass(node: PickleObject): string | undefined {
  const name = calleeName(node);
  if (name === undefined) return undefined;
  if (node.call !== 'reduce') return name;
  // TorchScript objects with __setstate__ and custom classes are REDUCE calls on __torch__ classes.
  return name.startsWith('__torch__.') ? name : undefined;
}

function keySegment(key: PickleValue): PathSegment | undefined {
  if (key.kind === 'str') return key.value;
  if (key.kind === 'int' && typeof key.value === 'number') return key.value;
  return undefined;
}

class DeviceWalker {
  readonly deviceObjects: DeviceObjectSite[] = [];
  readonly deviceStrings: DeviceStringSite[] = [];
  readonly operators: BytecodeOperatorSite[] = [];
  readonly tensorPaths = new Map<PicklePersistent, PathSegment[][]>();
  /** Containers and objects already walked: the tree can share nodes and contain cycles. */
  private readonly visited = new Set<PickleValue>();

  constructor(private readonly result: PickleResult) {}

  walk(value: PickleValue, path: PathSegment[], owner: Owner, depth: number): void {
    if (depth > MAX_NESTING_DEPTH) {
      const offset = 'start' in value ? value.start : undefined;
      throw new EngineError(`the pickle nests values more than ${MAX_NESTING_DEPTH} deep; the record is corrupt or hostile`, { ...this.result.where, offset });
    }

    switch (value.kind) {
      case 'str':
        return this.visitString(value, path, owner);
      case 'persistent':
        return this.visitPersistent(value, path);
      case 'object':
        return this.visitObject(value, path, owner, depth);
      case 'tuple': case 'list': case 'set': case 'frozenset':
        if (!this.enter(value)) return;
        value.items.forEach((item, index) => this.walk(item, [...path, index], owner, depth + 1));
        return;
      case 'dict':
        if (!this.enter(value)) return;
        this.walkEntries(value.entries, path, owner, depth);
        return;
      default:
        return;
    }
  }

  /** Walks the tables of each method in a mobile bytecode.pkl: constants and operators. */
  walkBytecode(root: PickleValue): void {
    if (root.kind !== 'tuple') return;

    for (const method of root.items) {
      // Each method is (qualified name, ((table name, table), ...), schema); the first item of
      // the root is the bytecode version.
      if (method.kind !== 'tuple' || method.items.length < 2) continue;
      const [name, tables] = method.items;
      if (name.kind !== 'str' || tables.kind !== 'tuple') continue;

      for (const table of tables.items) {
        if (table.kind !== 'tuple' || table.items.length !== 2 || table.items[0].kind !== 'str') continue;
        const [tableName, content] = table.items as [PickleStr, PickleValue];
        if (tableName.value === 'constants') this.walk(content, [name.value, 'constants'], {}, 1);
        if (tableName.value === 'operators') this.visitOperators(name.value, content);
      }
    }
  }

  private visitOperators(method: string, operators: PickleValue): void {
    if (operators.kind !== 'tuple') return;
    for (const entry of operators.items) {
      if (entry.kind !== 'tuple' || entry.items.length < 2) continue;
      const [name, overload] = entry.items;
      if (name.kind !== 'str' || overload.kind !== 'str') continue;
      if (name.value === 'aten::device' && overload.value === 'with_index') {
        this.operators.push({ method, name: name.value, overload: overload.value, site: name.site });
      }
    }
  }

  private enter(value: PickleValue): boolean {
    if (this.visited.has(value)) return false;
    this.visited.add(value);
    return true;
  }

  private walkEntries(entries: readonly [PickleValue, PickleValue][], path: PathSegment[], owner: Owner, depth: number): void {
    for (const [key, item] of entries) {
      const segment = keySegment(key);
      this.walk(item, segment === undefined ? path : [...path, segment], owner, depth + 1);
    }
  }

  private visitString(value: PickleStr, path: PathSegment[], owner: Owner): void {
    if (parseDevice(value.value) === undefined) return;

    const segment = owner.pathLength === undefined ? undefined : path[owner.pathLength];
    this.deviceStrings.push({
      value: value.value,
      site: value.site,
      path,
      owner: owner.className,
      attribute: typeof segment === 'string' ? segment : undefined,
    });
  }

  private visitPersistent(value: PicklePersistent, path: PathSegment[]): void {
    const paths = this.tensorPaths.get(value) ?? [];
    paths.push(path);
    this.tensorPaths.set(value, paths);
  }

  private visitObject(value: PickleObject, path: PathSegment[], owner: Owner, depth: number): void {
    if (calleeName(value) === DEVICE_GLOBAL && value.call === 'reduce') {
      this.visitDevice(value, path, owner);
      return;
    }
    if (!this.enter(value)) return;

    const className = instanceClass(value);
    const inner: Owner = className === undefined ? owner : { className, pathLength: path.length };

    for (const arg of value.args) this.walk(arg, path, owner, depth + 1);
    if (value.kwargs !== undefined) this.walk(value.kwargs, path, owner, depth + 1);

    // The state dict of an object contains its attributes, so its keys become path segments.
    if (value.state?.kind === 'dict' && this.enter(value.state)) this.walkEntries(value.state.entries, path, inner, depth + 1);
    else if (value.state !== undefined) this.walk(value.state, path, inner, depth + 1);

    value.listItems.forEach((item, index) => this.walk(item, [...path, index], inner, depth + 1));
    this.walkEntries(value.dictEntries, path, inner, depth);
    value.setItems.forEach((item, index) => this.walk(item, [...path, index], inner, depth + 1));
  }

  private visitDevice(value: PickleObject, path: PathSegment[], owner: Owner): void {
    const [typeArgument, indexArgument] = value.args;
    if (typeArgument?.kind !== 'str') return;

    const index = indexArgument?.kind === 'int' && typeof indexArgument.value === 'number' ? indexArgument.value : undefined;
    this.deviceObjects.push({
      device: index === undefined ? typeArgument.value : `${typeArgument.value}:${index}`,
      value: typeArgument.value,
      site: typeArgument.site,
      index,
      path,
      owner: owner.className,
      reduce: { start: value.start, end: value.end },
    });
  }
}
