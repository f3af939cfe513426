import type { Node, Tree } from 'web-tree-sitter';
import type { Range } from '../analysis/types';
import { LineIndex } from '../code/codeText';
import { parsePython } from '../code/parser';
import { decodeStringLiteral } from '../code/stringLiteral';
import { buildCodeIndex, findRootClass, submoduleClass, type ClassInfo, type CodeIndex, type FunctionInfo, type ParsedRecord } from './codeIndex';
import {
  dataOf,
  mergeEnvironments,
  NO_DATA,
  producersOf,
  unionOfData,
  type DataflowValue,
  type DataValue,
  type ModuleValue,
} from './dataflowValues';
import { GraphBuilder } from './graphBuilder';
import type { GraphNode, GraphNodeKind, ModelGraph } from './graphTypes';

/** Calls nested deeper than this stay single nodes, so that a self-similar archive cannot blow up the graph. */
const MAX_INLINE_DEPTH = 24;

/** Once the graph has this many nodes, later calls stay single nodes instead of being inlined. */
const INLINE_NODE_BUDGET = 200_000;

/**
 * Expressions and blocks nested deeper than this are not walked, which keeps the walk's
 * recursion bounded. PyTorch prints a few levels, so only a crafted archive goes deeper.
 */
const MAX_SYNTAX_DEPTH = 400;

/** Constant labels are cut to this many characters, but the source range still covers the whole literal. */
const MAX_LABEL_LENGTH = 120;

const LITERAL_TYPES = new Set(['integer', 'float', 'string', 'concatenated_string', 'true', 'false', 'none', 'ellipsis']);

/** Builtins that `annotate(T, value)`-style printing uses and that produce no node of their own. */
const TRANSPARENT_BUILTINS = new Set(['annotate', 'uninitialized']);

/** Methods on lists and dicts that change their first argument in place, as TorchScript prints them (`torch.append(xs, x)`). */
const MUTATING_OPERATORS = new Set(['append', 'extend', 'insert', '_set_item', 'clear', 'remove', 'pop', 'update', 'setdefault']);

/**
 * Extracts the dataflow graph of the root module's `forward` from TorchScript code
 * records.
 *
 * `rootClass` names the root module's class as data.pkl records it, qualified
 * (`__torch__.___torch_mangle_636.Wrapper`) or bare (`Wrapper`). Without it, or when no
 * class matches, the root is the first module class with a `forward` that no other class
 * declares as a submodule. A root without `forward` is walked from its first method.
 *
 * Submodule calls (`(self.conv).forward(x)`, or `conv = self.conv` then
 * `(conv).forward(x)` as PyTorch 2.x prints traced code), calls of other methods of a
 * module and calls of functions among the code records are inlined into groups.
 */
export async function extractGraph(records: { record: string; text: string }[], rootClass?: string): Promise<ModelGraph> {
  const trees: Tree[] = [];
  try {
    const parsed: ParsedRecord[] = [];
    for (const { record, text } of records) {
      const tree = await parsePython(text);
      trees.push(tree);
      parsed.push({ record, text, root: tree.rootNode });
    }

    const index = buildCodeIndex(parsed);
    const root = findRootClass(index, rootClass);
    const builder = new GraphBuilder();
    if (root) new GraphExtractor(index, builder).extractRoot(root);
    return builder.toGraph(root?.qualifiedName);
  } finally {
    for (const tree of trees) tree.delete();
  }
}

/** The state of one function body being walked: the root `forward` or an inlined call. */
interface Scope {
  /** Group id of the inlined call (`` at the root), which starts the ids of the scope's nodes. */
  id: string;
  group?: string;
  /** Prefix of variable names in this scope (`block1.`), `` at the root. */
  namePrefix: string;
  /** The module that `self` refers to, absent in functions. */
  self?: ModuleValue;
  selfName?: string;
  record: ParsedRecord;
  env: Map<string, DataflowValue>;
  outputs: string[];
  /** Qualified names of the functions being inlined, outermost first, to stop recursion. */
  callStack: readonly string[];
  /** Node ids of the tensor constants `CONSTANTS.cN` used in this scope, one node per constant. */
  tensorConstants: Map<string, string>;
}

/** The arguments of a call, split as Python binds them. */
interface CallArguments {
  positional: Node[];
  keywords: { name: string; value: Node }[];
  /** Every argument expression, in source order. */
  all: Node[];
}

/** The appearance of an inlined call: its group and the node that represents the group. */
interface InlineTarget {
  definition: FunctionInfo;
  groupBase: string;
  groupLabel: string;
  nodeKind: GraphNodeKind;
  nodeLabel: string;
  namePrefix: string;
  self?: ModuleValue;
}

class GraphExtractor {
  private readonly lineIndexes = new Map<ParsedRecord, LineIndex>();

  constructor(
    private readonly index: CodeIndex,
    private readonly builder: GraphBuilder,
  ) {}

  extractRoot(root: ClassInfo): void {
    const method = root.methods.get('forward') ?? root.methods.values().next().value;
    if (method === undefined) return;

    const scope: Scope = {
      id: '',
      namePrefix: '',
      self: { kind: 'module', path: '', classInfo: root },
      record: method.record,
      env: new Map(),
      outputs: [],
      callStack: [method.qualifiedName],
      tensorConstants: new Map(),
    };

    const parameters = this.parameterNodes(method.definition);
    if (parameters.length > 0) scope.selfName = parameterName(parameters[0]);
    for (const parameter of parameters.slice(1)) {
      const name = parameterName(parameter);
      if (name === undefined) continue;
      const id = this.addNode(scope, parameter, { id: `input@${name}`, kind: 'input', label: name });
      scope.env.set(name, dataOf([id]));
    }

    const body = method.definition.childForFieldName('body');
    if (body) this.walkBlock(body, scope, 0);
  }

  // Statements.

  private walkBlock(block: Node, scope: Scope, depth: number): void {
    if (depth > MAX_SYNTAX_DEPTH) return;
    for (const statement of block.namedChildren) this.walkStatement(statement, scope, depth + 1);
  }

  private walkStatement(statement: Node, scope: Scope, depth: number): void {
    switch (statement.type) {
      case 'expression_statement':
        for (const expression of statement.namedChildren) this.evaluateStatementExpression(expression, scope, depth);
        return;
      case 'return_statement':
        this.walkReturn(statement, scope, depth);
        return;
      case 'if_statement':
        this.walkIf(statement, scope, depth);
        return;
      case 'for_statement':
      case 'while_statement':
        this.walkLoop(statement, scope, depth);
        return;
      case 'function_definition':
      case 'class_definition':
      case 'decorated_definition':
      case 'pass_statement':
      case 'break_statement':
      case 'continue_statement':
      case 'comment':
        return;
      default:
        // `raise`, `assert`, `del`, `with`, `try`: walk what they contain in order.
        for (const child of statement.namedChildren) {
          if (child.type === 'block') this.walkBlock(child, scope, depth);
          else if (child.type.endsWith('_clause')) this.walkStatement(child, scope, depth + 1);
          else this.evaluate(child, scope, depth + 1);
        }
    }
  }

  private evaluateStatementExpression(expression: Node, scope: Scope, depth: number): void {
    if (expression.type === 'assignment') this.walkAssignment(expression, scope, depth);
    else if (expression.type === 'augmented_assignment') this.walkAugmentedAssignment(expression, scope, depth);
    else this.evaluate(expression, scope, depth + 1);
  }

  /** Walks `target = value` (also chained `a = b = value`) and returns the assigned value. */
  private walkAssignment(assignment: Node, scope: Scope, depth: number): DataflowValue {
    const right = assignment.childForFieldName('right');
    const left = assignment.childForFieldName('left');
    if (!right) return NO_DATA;

    const value = right.type === 'assignment' ? this.walkAssignment(right, scope, depth + 1) : this.evaluate(right, scope, depth + 1);
    if (left) this.bindTarget(left, value, scope, depth);
    return value;
  }

  private walkAugmentedAssignment(assignment: Node, scope: Scope, depth: number): void {
    const left = assignment.childForFieldName('left');
    const right = assignment.childForFieldName('right');
    const operator = assignment.childForFieldName('operator')?.text ?? 'op=';
    const inputs = [left, right].filter((node): node is Node => node !== null).map((node) => this.evaluate(node, scope, depth + 1));

    const id = this.addNode(scope, assignment, { id: this.nodeId(scope, 'op', assignment), kind: 'op', label: operator });
    this.builder.addEdges(unionOfData(inputs).producers, id);
    if (left) this.bindTarget(left, dataOf([id]), scope, depth);
  }

  private bindTarget(target: Node, value: DataflowValue, scope: Scope, depth: number): void {
    const names: string[] = [];
    this.bindTargetNames(target, value, scope, depth, names);

    // Name the node the value comes from after the variable, unless it has a name already.
    if (value.kind !== 'data' || names.length === 0) return;
    const namedId = value.namedNode ?? (value.producers.length === 1 ? value.producers[0] : undefined);
    const named = namedId === undefined ? undefined : this.builder.node(namedId);
    if (!named || named.name !== undefined || named.kind === 'input' || named.kind === 'output' || named.group !== scope.group) return;
    // `weight = self.weight` adds nothing to the label `self.weight`.
    if (named.kind === 'attribute' && names.length === 1 && named.label.endsWith(`.${names[0]}`)) return;
    named.name = names.map((name) => scope.namePrefix + name).join(', ');
  }

  private bindTargetNames(target: Node, value: DataflowValue, scope: Scope, depth: number, names: string[]): void {
    if (depth > MAX_SYNTAX_DEPTH) return;
    switch (target.type) {
      case 'identifier':
        scope.env.set(target.text, value);
        names.push(target.text);
        return;
      case 'pattern_list':
      case 'tuple_pattern':
      case 'list_pattern':
      case 'tuple':
      case 'list':
      case 'parenthesized_expression':
      case 'list_splat_pattern':
        for (const element of target.namedChildren) this.bindTargetNames(element, value, scope, depth + 1, names);
        return;
      case 'subscript': {
        // `xs[i] = value` changes xs: later uses of xs depend on the store.
        const container = target.childForFieldName('value');
        const inputs = [value, ...target.namedChildren.map((child) => this.evaluate(child, scope, depth + 1))];
        const id = this.addNode(scope, target, { id: this.nodeId(scope, 'op', target), kind: 'op', label: '__setitem__' });
        this.builder.addEdges(unionOfData(inputs).producers, id);
        if (container?.type === 'identifier') scope.env.set(container.text, dataOf([id]));
        return;
      }
      default:
        // Attribute stores (`self.x = x` in a custom class's __init__) define no variable.
        return;
    }
  }

  private walkReturn(statement: Node, scope: Scope, depth: number): void {
    const expression = statement.namedChild(0);
    if (!expression) return;

    const isTuple = expression.type === 'tuple' || expression.type === 'expression_list';
    const elements = isTuple ? expression.namedChildren : [expression];
    elements.forEach((element, position) => {
      const value = this.evaluate(element, scope, depth + 1);
      const label = isTuple ? `output ${position}` : 'output';
      const id = this.addNode(scope, element, { id: this.nodeId(scope, 'output', element), kind: 'output', label });
      this.builder.addEdges(producersOf(value), id);
      scope.outputs.push(id);
    });
  }

  private walkIf(statement: Node, scope: Scope, depth: number): void {
    const condition = statement.childForFieldName('condition');
    if (condition) this.evaluate(condition, scope, depth + 1);

    const base = scope.env;
    const branchEnvironments: Map<string, DataflowValue>[] = [];
    const walkBranch = (branchCondition: Node | null, body: Node | null): void => {
      scope.env = new Map(base);
      if (branchCondition) this.evaluate(branchCondition, scope, depth + 1);
      if (body) this.walkBlock(body, scope, depth + 1);
      branchEnvironments.push(scope.env);
    };

    walkBranch(null, statement.childForFieldName('consequence'));
    let hasElse = false;
    for (const alternative of statement.childrenForFieldName('alternative')) {
      if (alternative.type === 'elif_clause') {
        walkBranch(alternative.childForFieldName('condition'), alternative.childForFieldName('consequence'));
      } else {
        walkBranch(null, alternative.childForFieldName('body'));
        hasElse = true;
      }
    }
    if (!hasElse) branchEnvironments.push(base);

    scope.env = mergeEnvironments(branchEnvironments);
  }

  /**
   * Walks a loop body once. Variables it assigns may afterwards hold either the value
   * from before the loop or the one from the body.
   */
  private walkLoop(statement: Node, scope: Scope, depth: number): void {
    const base = scope.env;
    scope.env = new Map(base);

    if (statement.type === 'for_statement') {
      const iterable = statement.childForFieldName('right');
      const target = statement.childForFieldName('left');
      const value = iterable ? this.evaluate(iterable, scope, depth + 1) : NO_DATA;
      if (target) this.bindTargetNames(target, value, scope, depth + 1, []);
    } else {
      const condition = statement.childForFieldName('condition');
      if (condition) this.evaluate(condition, scope, depth + 1);
    }

    const body = statement.childForFieldName('body');
    if (body) this.walkBlock(body, scope, depth + 1);
    const afterBody = scope.env;

    const alternative = statement.childForFieldName('alternative');
    const elseBody = alternative?.childForFieldName('body');
    if (elseBody) this.walkBlock(elseBody, scope, depth + 1);

    scope.env = mergeEnvironments([base, afterBody, scope.env]);
  }

  // Expressions.

  private evaluate(expression: Node, scope: Scope, depth: number): DataflowValue {
    if (depth > MAX_SYNTAX_DEPTH) return NO_DATA;

    switch (expression.type) {
      case 'identifier':
        if (expression.text === scope.selfName && scope.self) return scope.self;
        return scope.env.get(expression.text) ?? NO_DATA;
      case 'parenthesized_expression': {
        const inner = expression.namedChild(0);
        return inner ? this.evaluate(inner, scope, depth + 1) : NO_DATA;
      }
      case 'attribute':
        return this.evaluateAttribute(expression, scope, depth);
      case 'call':
        return this.evaluateCall(expression, scope, depth);
      case 'keyword_argument': {
        const value = expression.childForFieldName('value');
        return value ? this.evaluate(value, scope, depth + 1) : NO_DATA;
      }
      case 'unary_operator': {
        const argument = expression.childForFieldName('argument');
        if (argument && (argument.type === 'integer' || argument.type === 'float')) return this.literal(expression, scope);
        return this.operatorNode(expression, expression.childForFieldName('operator')?.text ?? '-', scope, depth);
      }
      case 'binary_operator':
      case 'boolean_operator':
        return this.operatorNode(expression, expression.childForFieldName('operator')?.text ?? expression.type, scope, depth);
      case 'comparison_operator':
      case 'not_operator':
      case 'conditional_expression': {
        const operators = expression.children.filter((child) => !child.isNamed).map((child) => child.text);
        return this.operatorNode(expression, operators.join(' ') || expression.type, scope, depth);
      }
      default:
        if (LITERAL_TYPES.has(expression.type)) return this.literal(expression, scope);
        // Lists, tuples, dicts, subscripts and the rest pass their elements' data through.
        return unionOfData(expression.namedChildren.map((child) => this.evaluate(child, scope, depth + 1)));
    }
  }

  private evaluateAttribute(expression: Node, scope: Scope, depth: number): DataflowValue {
    const attribute = expression.childForFieldName('attribute')?.text ?? '';
    const object = expression.childForFieldName('object');
    const global = this.globalName(expression, scope);

    if (global !== undefined) {
      const parts = global.split('.');
      if (parts.length === 2 && parts[0] === 'CONSTANTS') return this.tensorConstant(expression, global, scope);
      if (parts[0] === '__torch__') return { kind: 'function', qualifiedName: global, info: this.index.functions.get(global) };
      return this.literal(expression, scope);
    }

    const objectValue = object ? this.evaluate(object, scope, depth + 1) : NO_DATA;
    if (objectValue.kind === 'module') {
      const path = joinPath(objectValue.path, attribute);
      const owner = objectValue.classInfo;
      const submodule = owner ? submoduleClass(this.index, owner, attribute) : undefined;
      if (submodule) return { kind: 'module', path, classInfo: submodule };
      if (owner && isUnresolvedModuleType(this.index, owner.attributeTypes.get(attribute))) return { kind: 'module', path };

      const label = `${objectValue.path || 'self'}.${attribute}`;
      return dataOf([this.addNode(scope, expression, { id: this.nodeId(scope, 'attribute', expression), kind: 'attribute', label })]);
    }

    const label = truncate(expression.text.length <= 60 ? expression.text : `.${attribute}`);
    const id = this.addNode(scope, expression, { id: this.nodeId(scope, 'attribute', expression), kind: 'attribute', label });
    this.builder.addEdges(producersOf(objectValue), id);
    return dataOf([id]);
  }

  private evaluateCall(call: Node, scope: Scope, depth: number): DataflowValue {
    const callee = call.childForFieldName('function');
    const args = splitArguments(call.childForFieldName('arguments'));
    if (!callee) return NO_DATA;

    if (callee.type === 'identifier') {
      const name = callee.text;
      const bound = scope.env.get(name);
      if (bound === undefined && TRANSPARENT_BUILTINS.has(name)) {
        // `annotate(List[int], [])` is its second argument, and `uninitialized(T)` is no value.
        return name === 'annotate' && args.positional.length >= 2 ? this.evaluate(args.positional[1], scope, depth + 1) : NO_DATA;
      }
      if (bound?.kind === 'function') return this.callFunction(call, bound.qualifiedName, bound.info, args, scope, depth);
      return this.operatorCall(call, name, args, producersOf(bound ?? NO_DATA), scope, depth);
    }

    if (callee.type === 'attribute') {
      const method = callee.childForFieldName('attribute')?.text ?? '';
      const global = this.globalName(callee, scope);
      if (global === 'torch.device') return this.deviceCall(call, args, scope, depth);
      if (global?.startsWith('__torch__.')) return this.callFunction(call, global, this.index.functions.get(global), args, scope, depth);
      if (global !== undefined) return this.operatorCall(call, global, args, [], scope, depth);

      const object = callee.childForFieldName('object');
      const objectValue = object ? this.evaluate(object, scope, depth + 1) : NO_DATA;
      if (objectValue.kind === 'module') return this.callModuleMethod(call, objectValue, method, args, scope, depth);
      return this.operatorCall(call, method, args, producersOf(objectValue), scope, depth);
    }

    const calleeValue = this.evaluate(callee, scope, depth + 1);
    return this.operatorCall(call, 'call', args, producersOf(calleeValue), scope, depth);
  }

  /** Adds a device node for `torch.device("cuda:0")` or `torch.device("cuda", 1)`, or an op node when the device type is a runtime value. */
  private deviceCall(call: Node, args: CallArguments, scope: Scope, depth: number): DataflowValue {
    const [first, second] = args.positional;
    const deviceType = first?.type === 'string' ? decodeStringLiteral(first.text) : undefined;
    if (deviceType === undefined) return this.operatorCall(call, 'torch.device', args, [], scope, depth);

    const index = second?.type === 'integer' ? second.text : undefined;
    const device = index === undefined ? deviceType : `${deviceType}:${index}`;
    const id = this.addNode(scope, call, { id: this.nodeId(scope, 'device', call), kind: 'device', label: truncate(device), device });

    // An index from a runtime value or an attribute (`torch.device("cuda", self.rank)`) flows into the device.
    const rest = args.all.filter((argument) => argument !== first && !(argument === second && index !== undefined));
    this.builder.addEdges(unionOfData(rest.map((argument) => this.evaluate(argument, scope, depth + 1))).producers, id);
    return dataOf([id]);
  }

  private callModuleMethod(call: Node, module: ModuleValue, method: string, args: CallArguments, scope: Scope, depth: number): DataflowValue {
    const definition = module.classInfo?.methods.get(method);
    const isSubmodule = module.path !== scope.self?.path;
    const owner = module.path || 'self';
    const nodeLabel = method === 'forward' && isSubmodule ? owner : `${owner}.${method}`;
    const nodeKind: GraphNodeKind = isSubmodule ? 'module' : 'op';

    if (definition) {
      const groupLabel = method === 'forward' && module.classInfo ? `${owner}: ${module.classInfo.name}` : `${owner}.${method}()`;
      const inlined = this.inlineCall(call, args, scope, depth, {
        definition,
        groupBase: method === 'forward' ? module.path || 'self' : `${owner}.${method}`,
        groupLabel,
        nodeKind,
        nodeLabel,
        namePrefix: method === 'forward' && module.path ? `${module.path}.` : `${owner}.${method}.`,
        self: module,
      });
      if (inlined) return inlined;
    }

    return this.callNode(call, nodeKind, nodeLabel, args, [], scope, depth);
  }

  private callFunction(call: Node, qualifiedName: string, info: FunctionInfo | undefined, args: CallArguments, scope: Scope, depth: number): DataflowValue {
    const shortName = qualifiedName.replace(/^__torch__\./, '');
    if (info) {
      const lastName = shortName.slice(shortName.lastIndexOf('.') + 1);
      const inlined = this.inlineCall(call, args, scope, depth, {
        definition: info,
        groupBase: `${scope.id ? `${scope.id}/` : ''}${lastName}()`,
        groupLabel: `${shortName}()`,
        nodeKind: 'op',
        nodeLabel: shortName,
        namePrefix: `${scope.namePrefix}${lastName}.`,
      });
      if (inlined) return inlined;
    }
    return this.operatorCall(call, shortName, args, [], scope, depth);
  }

  /**
   * Inlines a call: the call site gets a node that represents the group, and the callee's
   * body is walked into a new group whose inputs receive the arguments. Returns the
   * callee's outputs, or undefined when the call must stay a single node (recursion,
   * nesting or node budget).
   */
  private inlineCall(call: Node, args: CallArguments, scope: Scope, depth: number, target: InlineTarget): DataValue | undefined {
    const { definition } = target;
    if (scope.callStack.includes(definition.qualifiedName)) return undefined;
    if (scope.callStack.length >= MAX_INLINE_DEPTH || this.builder.nodeCount >= INLINE_NODE_BUDGET) return undefined;

    const positional = args.positional.map((argument) => this.evaluate(argument, scope, depth + 1));
    const keywords = new Map(args.keywords.map(({ name, value }) => [name, this.evaluate(value, scope, depth + 1)]));

    const callNode = this.addNode(scope, call, { id: this.nodeId(scope, target.nodeKind, call), kind: target.nodeKind, label: target.nodeLabel });
    const groupId = this.builder.uniqueGroupId(target.groupBase);
    this.builder.addGroup({ id: groupId, label: target.groupLabel, parent: scope.group, node: callNode, collapsed: true });

    const inner: Scope = {
      id: groupId,
      group: groupId,
      namePrefix: target.namePrefix,
      self: target.self,
      record: definition.record,
      env: new Map(),
      outputs: [],
      callStack: [...scope.callStack, definition.qualifiedName],
      tensorConstants: new Map(),
    };

    let parameters = this.parameterNodes(definition.definition);
    if (target.self && parameters.length > 0) {
      inner.selfName = parameterName(parameters[0]);
      parameters = parameters.slice(1);
    }

    parameters.forEach((parameter, position) => {
      const name = parameterName(parameter);
      if (name === undefined) return;

      let value = position < positional.length ? positional[position] : keywords.get(name);
      if (value === undefined) {
        const defaultValue = parameter.childForFieldName('value');
        value = defaultValue ? this.evaluate(defaultValue, inner, depth + 1) : NO_DATA;
      }
      if (value.kind !== 'data') {
        inner.env.set(name, value);
        return;
      }

      const id = this.addNode(inner, parameter, { id: `${groupId}/input@${name}`, kind: 'input', label: name });
      this.builder.addEdges(value.producers, id);
      inner.env.set(name, dataOf([id]));
    });

    const body = definition.definition.childForFieldName('body');
    if (body) this.walkBlock(body, inner, depth + 1);

    return { kind: 'data', producers: inner.outputs, namedNode: callNode };
  }

  private operatorCall(call: Node, label: string, args: CallArguments, extraInputs: readonly string[], scope: Scope, depth: number): DataValue {
    const result = this.callNode(call, 'op', label, args, extraInputs, scope, depth);

    // In-place operators (`torch.add_`, `torch.append(xs, x)`) change their first argument.
    const first = args.positional[0];
    const operator = label.slice(label.lastIndexOf('.') + 1);
    const mutates = MUTATING_OPERATORS.has(operator) || (operator.endsWith('_') && !operator.endsWith('__'));
    if (mutates && first?.type === 'identifier' && scope.env.get(first.text)?.kind === 'data') scope.env.set(first.text, result);

    return result;
  }

  private callNode(call: Node, kind: GraphNodeKind, label: string, args: CallArguments, extraInputs: readonly string[], scope: Scope, depth: number): DataValue {
    const inputs = args.all.map((argument) => this.evaluate(argument, scope, depth + 1));
    const id = this.addNode(scope, call, { id: this.nodeId(scope, kind, call), kind, label });
    this.builder.addEdges(extraInputs, id);
    this.builder.addEdges(unionOfData(inputs).producers, id);
    return dataOf([id]);
  }

  private operatorNode(expression: Node, label: string, scope: Scope, depth: number): DataValue {
    return this.callNode(expression, 'op', label, { positional: [], keywords: [], all: expression.namedChildren }, [], scope, depth);
  }

  private literal(expression: Node, scope: Scope): DataValue {
    const id = this.addNode(scope, expression, {
      id: this.nodeId(scope, 'constant', expression),
      kind: 'constant',
      label: truncate(expression.text),
      literal: true,
    });
    return dataOf([id]);
  }

  private tensorConstant(expression: Node, name: string, scope: Scope): DataValue {
    let id = scope.tensorConstants.get(name);
    if (id === undefined) {
      id = this.addNode(scope, expression, { id: `${scope.id ? `${scope.id}/` : ''}constant@${name}`, kind: 'constant', label: name });
      scope.tensorConstants.set(name, id);
    }
    return dataOf([id]);
  }

  // Helpers.

  /**
   * Returns the dotted name (`torch.add`, `ops.quantized.conv2d`, `CONSTANTS.c0`) when an
   * expression is a chain of names rooted at a global, that is a name that is neither a
   * local variable nor `self`.
   */
  private globalName(expression: Node, scope: Scope): string | undefined {
    const parts: string[] = [];
    let node: Node | null = expression;
    while (node?.type === 'attribute') {
      const attribute = node.childForFieldName('attribute');
      if (!attribute) return undefined;
      parts.push(attribute.text);
      node = node.childForFieldName('object');
    }
    if (node?.type !== 'identifier') return undefined;
    if (node.text === scope.selfName || scope.env.has(node.text)) return undefined;
    parts.push(node.text);
    return parts.reverse().join('.');
  }

  private parameterNodes(definition: Node): Node[] {
    return definition.childForFieldName('parameters')?.namedChildren ?? [];
  }

  private nodeId(scope: Scope, kind: GraphNodeKind, syntax: Node): string {
    const start = this.lineIndex(scope.record).positionAt(syntax.startIndex);
    return `${scope.id ? `${scope.id}/` : ''}${kind}@${start.line}:${start.character}`;
  }

  private addNode(scope: Scope, syntax: Node, node: Omit<GraphNode, 'group' | 'source'>): string {
    const full: GraphNode = { ...node };
    if (scope.group !== undefined) full.group = scope.group;
    full.source = { record: scope.record.record, range: this.rangeOf(scope.record, syntax) };
    return this.builder.addNode(full);
  }

  private rangeOf(record: ParsedRecord, syntax: Node): Range {
    return this.lineIndex(record).rangeAt(syntax.startIndex, syntax.endIndex);
  }

  private lineIndex(record: ParsedRecord): LineIndex {
    let lines = this.lineIndexes.get(record);
    if (!lines) {
      lines = new LineIndex(record.text);
      this.lineIndexes.set(record, lines);
    }
    return lines;
  }
}

function splitArguments(argumentList: Node | null): CallArguments {
  const args: CallArguments = { positional: [], keywords: [], all: [] };
  for (const argument of argumentList?.namedChildren ?? []) {
    if (argument.type === 'comment') continue;
    args.all.push(argument);
    if (argument.type === 'keyword_argument') {
      const name = argument.childForFieldName('name')?.text;
      const value = argument.childForFieldName('value');
      if (name !== undefined && value) args.keywords.push({ name, value });
    } else {
      args.positional.push(argument);
    }
  }
  return args;
}

/** Returns the name a parameter binds: `x`, `x: Tensor`, `x=1`, `x: int=1`. */
function parameterName(parameter: Node): string | undefined {
  if (parameter.type === 'identifier') return parameter.text;
  const named = parameter.childForFieldName('name') ?? parameter.namedChild(0);
  return named?.type === 'identifier' ? named.text : undefined;
}

/**
 * True for an attribute type that names a class under `__torch__` missing from the code
 * records, other than TorchBind classes (`__torch__.torch.classes.…`), which hold data.
 * Such an attribute is treated as a module so that calls on it become module nodes.
 */
function isUnresolvedModuleType(index: CodeIndex, typeName: string | undefined): boolean {
  if (typeName === undefined || !typeName.startsWith('__torch__.')) return false;
  if (typeName.startsWith('__torch__.torch.classes.')) return false;
  return !index.classes.has(typeName);
}

function joinPath(path: string, attribute: string): string {
  return path ? `${path}.${attribute}` : attribute;
}

function truncate(text: string): string {
  return text.length <= MAX_LABEL_LENGTH ? text : `${text.slice(0, MAX_LABEL_LENGTH - 1)}…`;
}
