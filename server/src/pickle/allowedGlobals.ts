/**
 * The globals that pickles written by PyTorch name. TorchScript archives (data.pkl,
 * constants.pkl, traced_inputs.pkl, bytecode.pkl) and torch.save checkpoints were checked
 * with torch 2.13 and with archives written by PyTorch 1.x; they name:
 * - `torch.*` storage classes, `torch.device`, dtypes, qschemes, `torch._utils._rebuild_*`,
 *   `torch.jit._pickle.*`, and in whole-module checkpoints `torch.nn.*` classes;
 * - `__torch__.*`: TorchScript classes and modules;
 * - `collections.OrderedDict`; `_codecs.encode` (bytes in protocol 2);
 * - a few builtins (`set`, `frozenset`, `slice`, ...), spelled `__builtin__` in protocol 2;
 * - numpy arrays, dtypes and scalars in checkpoints.
 * Anything else means the file was not written by PyTorch.
 */

/** Protocol 2 writes `range` as `__builtin__.xrange`, the Python 2 name. */
const BUILTIN_NAMES: ReadonlySet<string> = new Set([
  'set', 'frozenset', 'slice', 'bytearray', 'bytes', 'complex', 'range', 'xrange',
]);

const NUMPY_NAMES: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ['numpy', new Set(['dtype', 'ndarray'])],
  ['numpy.core.multiarray', new Set(['_reconstruct', 'scalar'])],
  ['numpy._core.multiarray', new Set(['_reconstruct', 'scalar'])],
]);

function isUnderPackage(module: string, pkg: string): boolean {
  return module === pkg || module.startsWith(`${pkg}.`);
}

/**
 * Returns whether PyTorch archives and checkpoints can name this global.
 * NOTE: every name under `torch` passes, including functions that no archive names.
 */
export function isAllowedGlobal(module: string, name: string): boolean {
  if (isUnderPackage(module, 'torch') || isUnderPackage(module, '__torch__')) return true;
  if (module === 'collections') return name === 'OrderedDict';
  if (module === '_codecs') return name === 'encode';
  if (module === 'builtins' || module === '__builtin__') return BUILTIN_NAMES.has(name);
  if (module === 'numpy.dtypes') return /^[A-Za-z0-9]+DType$/.test(name);
  return NUMPY_NAMES.get(module)?.has(name) ?? false;
}

/** Formats the error message for a global that isAllowedGlobal rejects. */
export function disallowedGlobalMessage(module: string, name: string): string {
  return `pickle names the global ${module}.${name}, which PyTorch archives never contain; the file is not a model PyTorch wrote, do not load it with pickle`;
}
