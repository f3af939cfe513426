import type { Node } from 'web-tree-sitter';
import type { Range } from '../analysis/types';
import { LineIndex } from './codeText';
import { enclosingFunction, readsOf, resolveSelfAttributePath, unwrapParentheses } from './localNames';
import { parsePython } from './parser';
import { decodeStringLiteral } from './stringLiteral';

export type CodeDeviceSiteKind = 'literal' | 'two-argument' | 'from-attribute' | 'move-by-name';

/** One place in a code record where the code pins a device. */
export interface CodeDeviceSite {
  kind: CodeDeviceSiteKind;
  /**
   * The device as written: 'cpu', 'cuda:0', 'cuda'. A two-argument `torch.device("cuda", 1)`
   * gives 'cuda:1', or just the type when the index is not a literal. A 'from-attribute'
   * site gives '' because the value lives in the module's attributes. A 'move-by-name'
   * site gives 'cuda' for `torch.cuda(x)` and 'cpu' for `torch.cpu(x)`.
   */
  device: string;
  /** The whole `torch.device(...)` call, or for 'move-by-name' the callee `torch.cuda` / `torch.cpu`. */
  range: Range;
  /** The same span as `range`, in UTF-8 bytes of the record, for rewriting. */
  byteSpan: { start: number; end: number };
  /**
   * The attribute the device or its index comes from, as a path from `self`: 'dev_str' for
   * `torch.device(self.dev_str)`, 'sub.dev_str' for an attribute of a submodule.
   */
  attribute?: string;
  /** The consumer of the device, for messages: 'torch.ones', 'torch.to', 'assignment to _0, used by torch.zeros', 'list'. */
  usage: string;
}

/**
 * Finds every pinned device in the text of one code record: `torch.device(...)` calls
 * whose device comes from a literal or a module attribute, and `torch.cuda(x)` /
 * `torch.cpu(x)` moves. A `torch.device(...)` of a parameter or of any other runtime
 * value, `ops.prim.device(x)` and `device=None` pin nothing and give no site.
 * Sites are returned in text order.
 */
export async function findDeviceSites(text: string): Promise<CodeDeviceSite[]> {
  const tree = await parsePython(text);
  try {
    const lines = new LineIndex(text);
    const sites: CodeDeviceSite[] = [];
    for (const call of tree.rootNode.descendantsOfType('call')) {
      if (!call) continue;
      const site = classifyCall(call);
      if (!site) continue;
      const span = site.span;
      sites.push({
        kind: site.kind,
        device: site.device,
        range: lines.rangeAt(span.startIndex, span.endIndex),
        byteSpan: lines.byteSpanAt(span.startIndex, span.endIndex),
        ...(site.attribute !== undefined ? { attribute: site.attribute } : {}),
        usage: site.kind === 'move-by-name' ? span.text : describeUsage(call),
      });
    }
    sites.sort((a, b) => a.byteSpan.start - b.byteSpan.start);
    return sites;
  } finally {
    tree.delete();
  }
}

interface ClassifiedCall {
  kind: CodeDeviceSiteKind;
  device: string;
  attribute?: string;
  /** The node whose extent becomes the site's range. */
  span: Node;
}

/** Returns the name `X` when `call` is `torch.X(...)` with the identifier `torch` as the object. */
function torchFunctionName(call: Node): string | undefined {
  const callee = call.childForFieldName('function');
  if (callee?.type !== 'attribute') return undefined;
  const object = callee.childForFieldName('object');
  if (object?.type !== 'identifier' || object.text !== 'torch') return undefined;
  return callee.childForFieldName('attribute')?.text;
}

interface CallArguments {
  positional: Node[];
  keywords: Map<string, Node>;
}

function callArguments(call: Node): CallArguments {
  const positional: Node[] = [];
  const keywords = new Map<string, Node>();
  for (const argument of call.childForFieldName('arguments')?.namedChildren ?? []) {
    if (!argument || argument.type === 'comment') continue;
    if (argument.type === 'keyword_argument') {
      const name = argument.childForFieldName('name')?.text;
      const value = argument.childForFieldName('value');
      if (name !== undefined && value) keywords.set(name, value);
    } else {
      positional.push(argument);
    }
  }
  return { positional, keywords };
}

function classifyCall(call: Node): ClassifiedCall | undefined {
  const name = torchFunctionName(call);
  if (name === 'device') return classifyDeviceCall(call);
  if (name === 'cuda' || name === 'cpu') {
    if (callArguments(call).positional.length === 0) return undefined;
    const callee = call.childForFieldName('function');
    if (!callee) return undefined;
    return { kind: 'move-by-name', device: name, span: callee };
  }
  return undefined;
}

/** Reads a string literal argument; undecodable escapes fall back to the text between the quotes. */
function stringValue(node: Node): string | undefined {
  if (node.type !== 'string') return undefined;
  const decoded = decodeStringLiteral(node.text);
  if (decoded !== undefined) return decoded;
  return node.text.replace(/^("""|'''|"|')/, '').replace(/("""|'''|"|')$/, '');
}

/** Reads an integer literal argument, including a negative one such as `-1`. */
function integerValue(node: Node): number | undefined {
  const unwrapped = unwrapParentheses(node);
  if (unwrapped.type === 'integer' && /^[0-9]+$/.test(unwrapped.text)) return Number(unwrapped.text);
  if (unwrapped.type === 'unary_operator') {
    const operand = unwrapped.childForFieldName('argument');
    const operator = unwrapped.childForFieldName('operator')?.text;
    if (operand?.type === 'integer' && /^[0-9]+$/.test(operand.text) && (operator === '-' || operator === '+')) {
      return operator === '-' ? -Number(operand.text) : Number(operand.text);
    }
  }
  return undefined;
}

function classifyDeviceCall(call: Node): ClassifiedCall | undefined {
  const { positional, keywords } = callArguments(call);
  const typeArgument = positional[0] ?? keywords.get('type');
  const indexArgument = positional[1] ?? keywords.get('index');
  if (!typeArgument) return undefined;
  const fn = enclosingFunction(call);

  const literal = stringValue(unwrapParentheses(typeArgument));
  if (literal !== undefined && !indexArgument) {
    return { kind: 'literal', device: literal, span: call };
  }
  if (literal !== undefined && indexArgument) {
    // torch.device rejects a negative index (PyTorch 2.13), so only the type of such a literal is known.
    const index = integerValue(indexArgument);
    if (index !== undefined) {
      return { kind: 'two-argument', device: index >= 0 ? `${literal}:${index}` : literal, span: call };
    }
    // The type is pinned even when the index is computed, for example `torch.device("cuda", rank)`.
    const attribute = resolveSelfAttributePath(indexArgument, fn) || undefined;
    return { kind: 'two-argument', device: literal, ...(attribute ? { attribute } : {}), span: call };
  }

  const attribute = resolveSelfAttributePath(typeArgument, fn);
  if (attribute) return { kind: 'from-attribute', device: '', attribute, span: call };
  return undefined;
}

/** Describes what consumes the value of `expression`, for messages. */
function describeUsage(expression: Node): string {
  const consumer = describeConsumer(expression);
  if (consumer.assignedTo === undefined) return consumer.text;

  const fn = enclosingFunction(expression);
  if (!fn) return consumer.text;
  const readers = new Set(readsOf(fn, consumer.assignedTo).map((read) => describeConsumer(read).text));
  return readers.size === 0 ? consumer.text : `${consumer.text}, used by ${[...readers].join(', ')}`;
}

/** Names the syntax that directly consumes a value, skipping parentheses. */
function describeConsumer(expression: Node): { text: string; assignedTo?: string } {
  let node = expression;
  while (node.parent?.type === 'parenthesized_expression') node = node.parent;
  const parent = node.parent;
  if (!parent) return { text: 'expression' };

  switch (parent.type) {
    case 'keyword_argument':
    case 'argument_list': {
      const argumentList = parent.type === 'argument_list' ? parent : parent.parent;
      const callee = argumentList?.parent?.type === 'call' ? argumentList.parent.childForFieldName('function') : null;
      return { text: callee?.text ?? 'call' };
    }
    case 'list':
      return { text: 'list' };
    case 'tuple':
    case 'expression_list':
      return { text: 'tuple' };
    case 'assignment': {
      const left = parent.childForFieldName('left');
      if (left?.type === 'identifier') {
        // A class-level assignment `dev : Final[Device] = ...` is a module constant.
        if (enclosingFunction(parent) === null && parent.childForFieldName('type')) {
          return { text: `module constant ${left.text}` };
        }
        return { text: `assignment to ${left.text}`, assignedTo: left.text };
      }
      return { text: 'assignment' };
    }
    case 'default_parameter':
    case 'typed_default_parameter':
      return { text: `default of parameter ${parent.childForFieldName('name')?.text ?? '?'}` };
    case 'return_statement':
      return { text: 'return value' };
    default:
      return { text: parent.type.replace(/_/g, ' ') };
  }
}
