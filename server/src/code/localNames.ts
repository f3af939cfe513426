import type { Node } from 'web-tree-sitter';
import { decodeStringLiteral } from './stringLiteral';

/**
 * Name resolution inside one function of serialized TorchScript. The code printer names
 * most values once (`dev_str = self.dev_str`, then `torch.device(dev_str)`), so only a
 * name bound exactly once in its function is resolved. Loop-carried values and values
 * merged after an `if` are bound more than once and stay unresolved.
 */

/** Returns `node` with any parentheses around it removed. */
export function unwrapParentheses(node: Node): Node {
  let current = node;
  while (current.type === 'parenthesized_expression') {
    const inner = current.namedChildren.find((child) => child?.type !== 'comment');
    if (!inner) break;
    current = inner;
  }
  return current;
}

/** Returns the innermost function definition that contains `node`, or null at module or class level. */
export function enclosingFunction(node: Node): Node | null {
  for (let current = node.parent; current; current = current.parent) {
    if (current.type === 'function_definition') return current;
  }
  return null;
}

/** Returns the name of the first parameter of a method defined in a class body: TorchScript's `self`. */
export function selfParameterName(fn: Node): string | undefined {
  const inClassBody = fn.parent?.type === 'block' && fn.parent.parent?.type === 'class_definition';
  if (!inClassBody) return undefined;
  const first = fn.childForFieldName('parameters')?.namedChildren[0];
  if (!first) return undefined;
  if (first.type === 'identifier') return first.text;
  if (first.type === 'typed_parameter') return first.namedChildren.find((child) => child?.type === 'identifier')?.text;
  return first.childForFieldName('name')?.text;
}

/** Checks whether `name` is a parameter in the signature of `fn`. */
function isParameterOf(fn: Node, name: string): boolean {
  const parameters = fn.childForFieldName('parameters');
  if (!parameters) return false;
  return parameters.namedChildren.some((parameter) => {
    if (!parameter) return false;
    if (parameter.type === 'identifier') return parameter.text === name;
    const nameNode = parameter.childForFieldName('name') ?? parameter.namedChildren.find((child) => child?.type === 'identifier');
    return nameNode?.text === name;
  });
}

/** Returns the right-hand sides of every plain assignment `name = value` in the body of `fn`. */
export function assignedValues(fn: Node, name: string): Node[] {
  const body = fn.childForFieldName('body');
  if (!body) return [];
  const values: Node[] = [];
  for (const assignment of body.descendantsOfType('assignment')) {
    if (!assignment) continue;
    const left = assignment.childForFieldName('left');
    const right = assignment.childForFieldName('right');
    if (left?.type === 'identifier' && left.text === name && right) values.push(right);
  }
  return values;
}

/**
 * Counts the places in the body of `fn` that bind `name`: assignment targets (also inside
 * tuple patterns), augmented assignments and `for` loop targets.
 */
function countBindings(fn: Node, name: string): number {
  const body = fn.childForFieldName('body');
  if (!body) return 0;
  let count = 0;
  for (const statement of body.descendantsOfType(['assignment', 'augmented_assignment', 'for_statement'])) {
    const target = statement?.childForFieldName('left');
    if (!target) continue;
    if (target.type === 'identifier') {
      if (target.text === name) count += 1;
      continue;
    }
    count += target.descendantsOfType('identifier').filter((identifier) => identifier?.text === name).length;
  }
  return count;
}

/** Returns the identifiers in the body of `fn` that read `name` (assignment targets excluded). */
export function readsOf(fn: Node, name: string): Node[] {
  const body = fn.childForFieldName('body');
  if (!body) return [];
  return body.descendantsOfType('identifier').filter((identifier): identifier is Node => {
    if (!identifier || identifier.text !== name) return false;
    const parent = identifier.parent;
    if (parent?.type === 'assignment' && parent.childForFieldName('left')?.equals(identifier)) return false;
    if (parent?.type === 'attribute' && parent.childForFieldName('attribute')?.equals(identifier)) return false;
    if (parent?.type === 'keyword_argument' && parent.childForFieldName('name')?.equals(identifier)) return false;
    return true;
  });
}

const MAX_RESOLUTION_DEPTH = 16;

/**
 * Resolves an expression to a path of attributes read from the method's `self`. Returns
 * 'dev_str' for `self.dev_str`, 'sub.dev_str' for `sub = self.sub` then `sub.dev_str`,
 * and '' for `self` itself. Anything else gives undefined: a parameter, a runtime value,
 * a name bound more than once. `getattr(self, "name")`, which the printer writes for
 * attribute names that are not identifiers, counts as an attribute read.
 */
export function resolveSelfAttributePath(expression: Node, fn: Node | null, depth = 0): string | undefined {
  if (!fn || depth > MAX_RESOLUTION_DEPTH) return undefined;
  const self = selfParameterName(fn);
  if (self === undefined) return undefined;
  const node = unwrapParentheses(expression);

  if (node.type === 'identifier') {
    if (node.text === self) return '';
    if (isParameterOf(fn, node.text)) return undefined;
    const values = assignedValues(fn, node.text);
    if (values.length !== 1 || countBindings(fn, node.text) !== 1) return undefined;
    return resolveSelfAttributePath(values[0], fn, depth + 1);
  }

  let object: Node | null = null;
  let attribute: string | undefined;
  if (node.type === 'attribute') {
    object = node.childForFieldName('object');
    attribute = node.childForFieldName('attribute')?.text;
  } else if (node.type === 'call' && node.childForFieldName('function')?.text === 'getattr') {
    const args = node.childForFieldName('arguments')?.namedChildren.filter((child): child is Node => child !== null) ?? [];
    if (args.length === 2 && args[1].type === 'string') {
      object = args[0];
      attribute = decodeStringLiteral(args[1].text);
    }
  }
  if (!object || attribute === undefined) return undefined;

  const base = resolveSelfAttributePath(object, fn, depth + 1);
  if (base === undefined) return undefined;
  return base === '' ? attribute : `${base}.${attribute}`;
}
