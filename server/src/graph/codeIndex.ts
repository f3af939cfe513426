import type { Node } from 'web-tree-sitter';

/** A code record with its syntax tree and the name it was passed in with. */
export interface ParsedRecord {
  record: string;
  text: string;
  root: Node;
}

/** A `def` inside a code record. */
export interface FunctionInfo {
  /** Qualified name: `__torch__.torch.nn.functional.batch_norm` or `__torch__.Net.forward`. */
  qualifiedName: string;
  name: string;
  record: ParsedRecord;
  definition: Node;
}

/** A `class` inside a code record, with what the graph needs of its body. */
export interface ClassInfo {
  /** Qualified name as TorchScript prints types: `__torch__.torch.nn.modules.conv.Conv2d`. */
  qualifiedName: string;
  name: string;
  record: ParsedRecord;
  /** True when the class derives from `Module`, as every TorchScript module class does. */
  isModule: boolean;
  /** Declared attribute types from the class body (`conv : __torch__.torch.nn.modules.conv.Conv2d`), as written. */
  attributeTypes: Map<string, string>;
  methods: Map<string, FunctionInfo>;
}

/** Every class and top-level function of an archive's code records, by qualified name. */
export interface CodeIndex {
  classes: Map<string, ClassInfo>;
  /** Classes in record order, then in the order they appear in their record. */
  classOrder: ClassInfo[];
  functions: Map<string, FunctionInfo>;
}

/**
 * Returns the Python module a code record defines: `code/__torch__/torch/nn/modules/conv.py`
 * defines `__torch__.torch.nn.modules.conv`. A top folder before `code/` (as in zip entry
 * names) is ignored.
 */
export function moduleNameOfRecord(record: string): string {
  let relative = record.replace(/\\/g, '/');
  if (relative.startsWith('code/')) {
    relative = relative.slice('code/'.length);
  } else {
    const codeFolder = relative.indexOf('/code/');
    if (codeFolder >= 0) relative = relative.slice(codeFolder + '/code/'.length);
  }
  return relative.replace(/\.py$/, '').split('/').filter((part) => part.length > 0).join('.');
}

/** Builds the index of classes and functions from parsed code records. */
export function buildCodeIndex(records: ParsedRecord[]): CodeIndex {
  const index: CodeIndex = { classes: new Map(), classOrder: [], functions: new Map() };

  for (const record of records) {
    const moduleName = moduleNameOfRecord(record.record);
    for (const statement of record.root.namedChildren) {
      const definition = unwrapDecorated(statement);
      if (definition.type === 'class_definition') {
        const info = readClass(definition, moduleName, record);
        if (info && !index.classes.has(info.qualifiedName)) {
          index.classes.set(info.qualifiedName, info);
          index.classOrder.push(info);
        }
      } else if (definition.type === 'function_definition') {
        const name = definition.childForFieldName('name')?.text;
        if (name === undefined) continue;
        const qualifiedName = `${moduleName}.${name}`;
        if (!index.functions.has(qualifiedName)) {
          index.functions.set(qualifiedName, { qualifiedName, name, record, definition });
        }
      }
    }
  }

  return index;
}

function unwrapDecorated(node: Node): Node {
  return node.type === 'decorated_definition' ? (node.childForFieldName('definition') ?? node) : node;
}

function readClass(definition: Node, moduleName: string, record: ParsedRecord): ClassInfo | undefined {
  const name = definition.childForFieldName('name')?.text;
  if (name === undefined) return undefined;
  const qualifiedName = `${moduleName}.${name}`;

  const superclasses = definition.childForFieldName('superclasses')?.namedChildren ?? [];
  const isModule = superclasses.some((superclass) => superclass.text === 'Module');

  const info: ClassInfo = {
    qualifiedName,
    name,
    record,
    isModule,
    attributeTypes: new Map(),
    methods: new Map(),
  };

  const body = definition.childForFieldName('body');
  for (const member of body?.namedChildren ?? []) {
    const memberDefinition = unwrapDecorated(member);
    if (memberDefinition.type === 'function_definition') {
      const methodName = memberDefinition.childForFieldName('name')?.text;
      if (methodName !== undefined && !info.methods.has(methodName)) {
        info.methods.set(methodName, {
          qualifiedName: `${qualifiedName}.${methodName}`,
          name: methodName,
          record,
          definition: memberDefinition,
        });
      }
      continue;
    }

    // Attribute declarations print as `name : Type` statements in the class body.
    const assignment = member.type === 'expression_statement' ? member.namedChild(0) : null;
    const target = assignment?.type === 'assignment' ? assignment.childForFieldName('left') : null;
    const type = assignment?.childForFieldName('type');
    if (target?.type === 'identifier' && type) info.attributeTypes.set(target.text, type.text);
  }

  return info;
}

/** Returns the module class an attribute holds, or undefined when the attribute is data (a tensor, a number, a custom class). */
export function submoduleClass(index: CodeIndex, owner: ClassInfo, attribute: string): ClassInfo | undefined {
  const typeName = owner.attributeTypes.get(attribute);
  if (typeName === undefined) return undefined;
  const target = index.classes.get(typeName);
  return target?.isModule ? target : undefined;
}

/**
 * Chooses the root module class: the one named `rootClass` (qualified like
 * `__torch__.Net`, or a bare class name), otherwise the first module class with a
 * `forward` that no other class declares as a submodule, otherwise the first class.
 */
export function findRootClass(index: CodeIndex, rootClass?: string): ClassInfo | undefined {
  if (rootClass !== undefined) {
    const exact = index.classes.get(rootClass);
    if (exact) return exact;
    const byName = index.classOrder.find((info) => info.name === rootClass || info.qualifiedName.endsWith(`.${rootClass}`));
    if (byName) return byName;
  }

  const referenced = new Set<string>();
  for (const info of index.classOrder) {
    for (const typeName of info.attributeTypes.values()) referenced.add(typeName);
  }

  const candidates = index.classOrder.filter((info) => !referenced.has(info.qualifiedName));
  return (
    candidates.find((info) => info.isModule && info.methods.has('forward')) ??
    candidates.find((info) => info.methods.has('forward')) ??
    candidates.find((info) => info.isModule && info.methods.size > 0) ??
    index.classOrder[0]
  );
}
