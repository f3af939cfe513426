import type { ClassInfo, FunctionInfo } from './codeIndex';

/**
 * The meaning of a name or an expression while a function body is walked: data that
 * some graph nodes produce, a module (`self`, `self.block1`), or a function
 * (`_0 = __torch__.torch.nn.functional.batch_norm`).
 */
export type DataflowValue = DataValue | ModuleValue | FunctionValue;

export interface DataValue {
  kind: 'data';
  /** Ids of the nodes whose output this value may be (several after an `if` that assigns in both branches). */
  producers: readonly string[];
  /** The node an assignment should name, when it is not the single producer (the call node of an inlined call). */
  namedNode?: string;
}

export interface ModuleValue {
  kind: 'module';
  /** Module path from the root module: `` for the root, `block1.conv` below it. */
  path: string;
  /** Undefined when the attribute's class is not among the code records. */
  classInfo?: ClassInfo;
}

export interface FunctionValue {
  kind: 'function';
  qualifiedName: string;
  /** Undefined when the function is not among the code records. */
  info?: FunctionInfo;
}

export const NO_DATA: DataValue = { kind: 'data', producers: [] };

export function dataOf(producers: readonly string[]): DataValue {
  return { kind: 'data', producers };
}

export function producersOf(value: DataflowValue): readonly string[] {
  return value.kind === 'data' ? value.producers : [];
}

/** Joins the producers of several values, without duplicates. */
export function unionOfData(values: readonly DataflowValue[]): DataValue {
  const producers = new Set<string>();
  for (const value of values) {
    for (const producer of producersOf(value)) producers.add(producer);
  }
  return dataOf([...producers]);
}

/**
 * Merges the variable bindings that several branches (of an `if`, or a loop body and
 * the path that skips it) leave behind: a variable may then hold any branch's value.
 * Non-data values (modules, functions) keep the first binding found.
 */
export function mergeEnvironments(branches: readonly Map<string, DataflowValue>[]): Map<string, DataflowValue> {
  const merged = new Map<string, DataflowValue>();
  const names = new Set<string>();
  for (const branch of branches) {
    for (const name of branch.keys()) names.add(name);
  }

  for (const name of names) {
    const values: DataflowValue[] = [];
    for (const branch of branches) {
      const value = branch.get(name);
      if (value !== undefined && !values.includes(value)) values.push(value);
    }
    merged.set(name, values.every((value) => value.kind === 'data') ? unionOfData(values) : values[0]);
  }

  return merged;
}
