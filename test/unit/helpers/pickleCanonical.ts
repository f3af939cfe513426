/**
 * Converts the TypeScript reader's value tree into the JSON-ready form that PYTHON_CANON in
 * picklePython.ts builds from Python's own unpickler, so the two can be compared with
 * deepStrictEqual. Mutable values (list, dict, set, bytearray, objects) seen a second time
 * become `{ ref: n }`, numbered in the order they are first visited.
 */
import type { PickleValue } from '../../../server/src/pickle/pickleValues';

export type Canonical = null | string | number | boolean | Canonical[] | { [key: string]: Canonical };

function floatHex(value: number): string {
  const bytes = Buffer.alloc(8);
  bytes.writeDoubleBE(value);
  return bytes.toString('hex');
}

export function canonicalize(root: PickleValue, data: Buffer): Canonical {
  const seen = new Map<PickleValue, number>();

  const visit = (value: PickleValue): Canonical => {
    switch (value.kind) {
      case 'none': return null;
      case 'bool': return { bool: value.value };
      case 'int': return { int: value.value.toString() };
      case 'float': return { float: floatHex(value.value) };
      case 'str': return { str: value.value };
      case 'bytes': return { bytes: data.subarray(value.start, value.end).toString('hex') };
      case 'global': return { global: `${value.module}.${value.name}` };
      case 'persistent': return { pid: visit(value.id) };
      case 'tuple': return { tuple: value.items.map(visit) };
      case 'frozenset': return { frozenset: value.items.map(visit) };
      case 'buffer': return { buffer: value.index };
      default: break;
    }

    const ref = seen.get(value);
    if (ref !== undefined) return { ref };
    seen.set(value, seen.size);

    switch (value.kind) {
      case 'bytearray': return { bytearray: data.subarray(value.start, value.end).toString('hex') };
      case 'list': return { list: value.items.map(visit) };
      case 'dict': return { dict: value.entries.map(([key, item]) => [visit(key), visit(item)]) };
      case 'set': return { set: value.items.map(visit) };
      case 'object': {
        const callee = value.callable.kind === 'global' ? `${value.callable.module}.${value.callable.name}` : '?';
        const isCall = value.call === 'reduce' || ((value.call === 'inst' || value.call === 'obj') && value.args.length > 0);
        const out: { [key: string]: Canonical } = { obj: callee, call: isCall ? 'reduce' : 'new', args: value.args.map(visit) };
        if (value.kwargs?.kind === 'dict' && value.kwargs.entries.length > 0) {
          out.kwargs = value.kwargs.entries.map(([key, item]) => [visit(key), visit(item)]);
        }
        if (value.state !== undefined) out.state = visit(value.state);
        if (value.listItems.length > 0) out.list = value.listItems.map(visit);
        if (value.dictEntries.length > 0) out.dict = value.dictEntries.map(([key, item]) => [visit(key), visit(item)]);
        if (value.setItems.length > 0) out.set = value.setItems.map(visit);
        return out;
      }
      default:
        throw new Error(`unexpected value kind ${value.kind}`);
    }
  };

  return visit(root);
}

/** Sorts the items of every set and frozenset, whose order Python does not keep. */
export function sortSets(value: Canonical): Canonical {
  if (Array.isArray(value)) return value.map(sortSets);
  if (value === null || typeof value !== 'object') return value;

  const out: { [key: string]: Canonical } = {};
  for (const [key, item] of Object.entries(value)) {
    const sorted = sortSets(item);
    out[key] = (key === 'set' || key === 'frozenset') && Array.isArray(sorted)
      ? [...sorted].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))
      : sorted;
  }
  return out;
}
