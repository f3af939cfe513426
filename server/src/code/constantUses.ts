import type { Range } from '../analysis/types';
import { LineIndex } from './codeText';
import { parsePython } from './parser';

/** One reference to a tensor constant, `CONSTANTS.c<index>`, in a code record. */
export interface ConstantUse {
  /** The attribute name, for example 'c0'. */
  name: string;
  /** The position of the tensor in `constants.pkl`. */
  index: number;
  /** The whole `CONSTANTS.c0` expression. */
  range: Range;
}

const CONSTANT_NAME = /^c(0|[1-9][0-9]*)$/;

/**
 * Finds every `CONSTANTS.cN` reference in the text of one code record. The code printer
 * names the N-th tensor of `constants.pkl` this way, so a finding about a tensor constant
 * can point at the lines that use it. Returned in text order.
 */
export async function findConstantUses(text: string): Promise<ConstantUse[]> {
  const tree = await parsePython(text);
  try {
    const lines = new LineIndex(text);
    const uses: ConstantUse[] = [];
    for (const attribute of tree.rootNode.descendantsOfType('attribute')) {
      if (!attribute) continue;
      const object = attribute.childForFieldName('object');
      const name = attribute.childForFieldName('attribute')?.text;
      if (object?.type !== 'identifier' || object.text !== 'CONSTANTS' || name === undefined) continue;
      const match = CONSTANT_NAME.exec(name);
      if (!match) continue;
      uses.push({ name, index: Number(match[1]), range: lines.rangeAt(attribute.startIndex, attribute.endIndex) });
    }
    uses.sort((a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character);
    return uses;
  } finally {
    tree.delete();
  }
}
