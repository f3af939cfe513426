/** A replacement of the bytes [start, end) of a buffer. */
export interface ByteEdit {
  start: number;
  end: number;
  bytes: Buffer;
}

/** Returns a copy of `data` with the edits applied; the edits must be sorted and must not overlap. */
export function applyByteEdits(data: Buffer, sortedEdits: readonly ByteEdit[]): Buffer {
  const pieces: Buffer[] = [];
  let position = 0;
  for (const edit of sortedEdits) {
    pieces.push(data.subarray(position, edit.start), edit.bytes);
    position = edit.end;
  }
  pieces.push(data.subarray(position));
  return Buffer.concat(pieces);
}
