/**
 * Python as the oracle for the pickle tests: the system python3 for plain pickle and
 * pickletools, and the repository's .venv (created by scripts/setup-python.sh) for torch.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const repoRoot = path.resolve(__dirname, '..', '..', '..');
export const realFixtures = path.resolve(repoRoot, '..', 'shared', 'fixtures', 'real');
export const systemPython = 'python3';
export const torchPython = path.join(repoRoot, '.venv', 'bin', 'python');

/** Returns why torch tests cannot run, or false when the .venv imports torch. */
export function torchUnavailable(): string | false {
  if (!fs.existsSync(torchPython)) return 'needs .venv with torch: run scripts/setup-python.sh';
  try {
    execFileSync(torchPython, ['-c', 'import torch'], { stdio: 'ignore' });
    return false;
  } catch {
    return '.venv/bin/python cannot import torch: run scripts/setup-python.sh';
  }
}

/** Runs a Python script and returns its standard output; a failure carries the script's stderr. */
export function runPython(python: string, script: string, args: readonly string[] = [], input?: Buffer): Buffer {
  try {
    return execFileSync(python, ['-c', script, ...args], { input, maxBuffer: 1 << 28, stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`python failed: ${stderr.trim().split('\n').slice(-5).join('\n')}`);
  }
}

/** Runs a Python script that prints one JSON document, and parses it. */
export function runPythonJson<T>(python: string, script: string, args: readonly string[] = [], input?: Buffer): T {
  return JSON.parse(runPython(python, script, args, input).toString('utf8')) as T;
}

export function readZipRecord(file: string, name: string): Buffer {
  return runPython(systemPython, 'import zipfile,sys; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))', [file, name]);
}

export function listZipRecords(file: string): string[] {
  return runPythonJson<string[]>(systemPython, 'import zipfile,sys,json; print(json.dumps(zipfile.ZipFile(sys.argv[1]).namelist()))', [file]);
}

/** Writes a copy of a zip archive, all records stored, with some records replaced. */
export function writeZipWithRecords(source: string, destination: string, replacements: Record<string, Buffer>): void {
  const script = `
import base64, json, sys, zipfile
replacements = {name: base64.b64decode(data) for name, data in json.load(sys.stdin).items()}
with zipfile.ZipFile(sys.argv[1]) as src, zipfile.ZipFile(sys.argv[2], 'w', zipfile.ZIP_STORED) as dst:
    for name in src.namelist():
        dst.writestr(name, replacements.pop(name) if name in replacements else src.read(name))
if replacements:
    sys.exit('records not in the archive: ' + ', '.join(replacements))
`;
  const payload = Object.fromEntries(Object.entries(replacements).map(([name, data]) => [name, data.toString('base64')]));
  runPython(systemPython, script, [source, destination], Buffer.from(JSON.stringify(payload)));
}

/** An opcode as pickletools.genops lists it: name and offset. */
export type GenopsEntry = [string, number];

/**
 * Python source of `canon(data)`: loads a pickle with the pure-Python unpickler, with every
 * global replaced by a marker class that records calls, state and items, and returns a
 * JSON-ready tree. pickleCanonical.ts builds the same tree from the TypeScript reader's output.
 */
export const PYTHON_CANON = String.raw`
import io, json, pickle, pickletools, struct, base64

class Persistent:
    def __init__(self, pid):
        self.pid = pid

_classes = {}

def _marker_class(module, name):
    key = (module, name)
    if key in _classes:
        return _classes[key]
    def __new__(cls, *args, **kwargs):
        obj = object.__new__(cls)
        obj._call = 'new'
        obj._args = list(args)
        obj._kwargs = kwargs
        obj._state = _marker_class
        obj._list = []
        obj._dict = []
        obj._set = []
        return obj
    def __init__(self, *args, **kwargs):
        self._call = 'reduce'
    def __setstate__(self, state):
        self._state = state
    def append(self, item):
        self._list.append(item)
    def extend(self, items):
        self._list.extend(items)
    def __setitem__(self, key, value):
        self._dict.append((key, value))
    def add(self, item):
        self._set.append(item)
    cls = type(name, (), {'__new__': __new__, '__init__': __init__, '__setstate__': __setstate__, 'append': append,
                          'extend': extend, '__setitem__': __setitem__, 'add': add, '_global': module + '.' + name})
    _classes[key] = cls
    return cls

class MarkerUnpickler(pickle._Unpickler):
    def find_class(self, module, name):
        return _marker_class(module, name)
    def persistent_load(self, pid):
        return Persistent(pid)

def _canon(o, seen):
    if o is None:
        return None
    if o is True or o is False:
        return {'bool': o}
    if isinstance(o, int):
        return {'int': str(o)}
    if isinstance(o, float):
        return {'float': struct.pack('>d', o).hex()}
    if isinstance(o, str):
        return {'str': o}
    if isinstance(o, bytes):
        return {'bytes': o.hex()}
    if isinstance(o, type) and hasattr(o, '_global'):
        return {'global': o._global}
    if isinstance(o, Persistent):
        return {'pid': _canon(o.pid, seen)}
    if isinstance(o, tuple):
        return {'tuple': [_canon(x, seen) for x in o]}
    if isinstance(o, frozenset):
        return {'frozenset': [_canon(x, seen) for x in o]}
    if id(o) in seen:
        return {'ref': seen[id(o)]}
    seen[id(o)] = len(seen)
    if isinstance(o, bytearray):
        return {'bytearray': o.hex()}
    if isinstance(o, list):
        return {'list': [_canon(x, seen) for x in o]}
    if isinstance(o, dict):
        return {'dict': [[_canon(k, seen), _canon(v, seen)] for k, v in o.items()]}
    if isinstance(o, set):
        return {'set': [_canon(x, seen) for x in o]}
    out = {'obj': type(o)._global, 'call': o._call, 'args': [_canon(x, seen) for x in o._args]}
    if o._kwargs:
        out['kwargs'] = [[_canon(k, seen), _canon(v, seen)] for k, v in o._kwargs.items()]
    if o._state is not _marker_class:
        out['state'] = _canon(o._state, seen)
    if o._list:
        out['list'] = [_canon(x, seen) for x in o._list]
    if o._dict:
        out['dict'] = [[_canon(k, seen), _canon(v, seen)] for k, v in o._dict]
    if o._set:
        out['set'] = [_canon(x, seen) for x in o._set]
    return out

def canon(data):
    return _canon(MarkerUnpickler(io.BytesIO(data), encoding='latin1').load(), {})

def genops(data):
    return [[op.name, pos] for op, arg, pos in pickletools.genops(data)]

def describe(name, data, **extra):
    return dict(name=name, data=base64.b64encode(data).decode(), canon=canon(data), genops=genops(data), **extra)
`;
