import type { Range } from '../analysis/types';

/**
 * The dataflow graph of a TorchScript module's `forward`, as plain JSON. It is the
 * output of `graph --json` and the message the graph webview receives, so renaming a
 * field is a breaking change.
 */
export interface ModelGraph {
  /** Qualified name of the root module's class, for example `__torch__.Net`. */
  root?: string;
  nodes: GraphNode[];
  edges: GraphEdge[];
  /** Inlined calls (submodule `forward`s, other methods, functions), parents before children. */
  groups: GraphGroup[];
}

export type GraphNodeKind = 'input' | 'op' | 'module' | 'constant' | 'device' | 'attribute' | 'output';

export interface GraphNode {
  /**
   * Unique and stable for the same archive: `<scope>/<kind>@<line>:<character>` with the
   * scope being the group id (no scope and no slash at the root), or `input@<name>` and
   * `constant@CONSTANTS.cN` for parameters and tensor constants.
   */
  id: string;
  kind: GraphNodeKind;
  /**
   * The operator (`torch.add`, `ops.quantized.conv2d`), the module path of a submodule
   * call, the parameter name of an input, the text of a constant, the device of a device
   * node, or the module path and name of an attribute (`block1.conv.weight`).
   */
  label: string;
  /** The variable the value is assigned to, prefixed by the scope inside a group (`block1.input0`). */
  name?: string;
  /** For device nodes: the device as written in the code, for example `cpu` or `cuda:1`. */
  device?: string;
  /** For constant nodes: true for a literal in the code, absent for a tensor constant `CONSTANTS.cN`. */
  literal?: true;
  /** The innermost group the node belongs to, absent at the root. */
  group?: string;
  /** The node's origin: a code record (named as passed to extractGraph) and an LSP range in its text. */
  source?: { record: string; range: Range };
}

/** Dataflow from the node that defines a value to a node that uses it. */
export interface GraphEdge {
  from: string;
  to: string;
}

/**
 * An inlined call. While collapsed, its members (every node whose group is this group or
 * one of its descendants) are shown as the single node `node`. Edges never touch `node`
 * itself. They connect the members, so a viewer reroutes them to `node` when collapsing.
 */
export interface GraphGroup {
  id: string;
  /** The module path and class (`block1: Block`), or the method or function name. */
  label: string;
  parent?: string;
  /** The node at the call site that represents the group while it is collapsed. */
  node: string;
  /** Groups start collapsed, and a viewer keeps its own expanded state. */
  collapsed: true;
}
