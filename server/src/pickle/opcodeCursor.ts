/**
 * Iteration over the opcodes of a pickle: decodes each opcode byte and the bounds of its
 * argument, checks that every declared length fits in the data and that no opcode crosses
 * the end of a protocol 4 frame. It interprets nothing, because the stack machine does that.
 */
import { EngineError } from '../errors';
import { opcodeForByte, type OpcodeInfo } from './opcodes';
import type { PickleLocation } from './pickleValues';

/** The decoded argument of one opcode. */
export type OpcodeArgument =
  | { form: 'none' }
  /** A fixed-size integer argument (uint1, uint2, int4, uint4, uint8). */
  | { form: 'int'; value: number }
  | { form: 'float'; value: number }
  /** A payload in the data: the bytes of a length-prefixed argument, or a text line without its newline. */
  | { form: 'payload'; start: number; end: number }
  /** The two text lines of GLOBAL and INST, without newlines. */
  | { form: 'two-lines'; first: { start: number; end: number }; second: { start: number; end: number } };

export interface DecodedOpcode {
  info: OpcodeInfo;
  start: number;
  end: number;
  argument: OpcodeArgument;
}

const NEWLINE = 0x0a;

const FIXED_SIZES = { uint1: 1, uint2: 2, int4: 4, uint4: 4, float8: 8 } as const;

export class OpcodeCursor {
  private position = 0;
  private frameEnd: number | undefined;

  constructor(
    private readonly data: Buffer,
    private readonly where: PickleLocation,
  ) {}

  /** Decodes the opcode at the current position and moves past it. */
  next(): DecodedOpcode {
    const start = this.position;
    if (start >= this.data.length) {
      this.fail('the pickle ends without a STOP opcode; the record is truncated, export the model again', start);
    }

    const byte = this.data[start];
    const info = opcodeForByte(byte);
    if (info === undefined) {
      this.fail(`unknown pickle opcode 0x${byte.toString(16).padStart(2, '0')}; the record is corrupt or is not a pickle`, start);
    }

    const argument = this.readArgument(info, start);
    const end = this.position;

    if (this.frameEnd !== undefined && start < this.frameEnd && end > this.frameEnd) {
      this.fail(`the ${info.name} opcode crosses the end of the frame at offset ${this.frameEnd}; the record is corrupt`, start);
    }
    if (info.name === 'FRAME' && argument.form === 'int') this.openFrame(start, end, argument.value);

    return { info, start, end, argument };
  }

  private openFrame(start: number, end: number, length: number): void {
    if (this.frameEnd !== undefined && start < this.frameEnd) {
      this.fail(`a FRAME opcode starts before the frame that ends at offset ${this.frameEnd} is complete; the record is corrupt`, start);
    }
    if (length > this.data.length - end) {
      this.fail(`the FRAME opcode declares ${length} bytes but only ${this.data.length - end} remain; the record is truncated`, start);
    }
    this.frameEnd = end + length;
  }

  private readArgument(info: OpcodeInfo, start: number): OpcodeArgument {
    this.position = start + 1;

    switch (info.argument) {
      case 'none':
        return { form: 'none' };
      case 'uint1': case 'uint2': case 'int4': case 'uint4':
        return { form: 'int', value: this.readFixed(info, info.argument) };
      case 'uint8':
        return { form: 'int', value: this.readLength8(info, start) };
      case 'float8':
        return { form: 'float', value: this.readFixed(info, 'float8') };
      case 'line':
        return { form: 'payload', ...this.readLine(info, start) };
      case 'two-lines': {
        const first = this.readLine(info, start);
        const second = this.readLine(info, start);
        return { form: 'two-lines', first, second };
      }
      case 'bytes1':
        return this.readPayload(info, start, this.readFixed(info, 'uint1'));
      case 'bytes4':
        return this.readPayload(info, start, this.readFixed(info, 'uint4'));
      case 'bytes4-signed': {
        const length = this.readFixed(info, 'int4');
        if (length < 0) this.fail(`the ${info.name} opcode declares a negative length ${length}; the record is corrupt`, start);
        return this.readPayload(info, start, length);
      }
      case 'bytes8':
        return this.readPayload(info, start, this.readLength8(info, start));
    }
  }

  private readFixed(info: OpcodeInfo, form: 'uint1' | 'uint2' | 'int4' | 'uint4' | 'float8'): number {
    const at = this.position;
    const size = FIXED_SIZES[form];
    if (at + size > this.data.length) {
      this.fail(`the pickle ends inside the argument of the ${info.name} opcode; the record is truncated`, at - 1);
    }
    this.position = at + size;

    switch (form) {
      case 'uint1': return this.data[at];
      case 'uint2': return this.data.readUInt16LE(at);
      case 'int4': return this.data.readInt32LE(at);
      case 'uint4': return this.data.readUInt32LE(at);
      case 'float8': return this.data.readDoubleBE(at);
    }
  }

  /** Reads a uint64 length, which must fit in the data that follows it. */
  private readLength8(info: OpcodeInfo, start: number): number {
    if (this.position + 8 > this.data.length) {
      this.fail(`the pickle ends inside the argument of the ${info.name} opcode; the record is truncated`, start);
    }
    const length = this.data.readBigUInt64LE(this.position);
    this.position += 8;
    const remaining = this.data.length - this.position;
    if (length > BigInt(remaining)) {
      this.fail(`the ${info.name} opcode declares ${length} bytes but only ${remaining} remain; the record is truncated or corrupt`, start);
    }
    return Number(length);
  }

  private readPayload(info: OpcodeInfo, start: number, length: number): OpcodeArgument {
    const payloadStart = this.position;
    const remaining = this.data.length - payloadStart;
    if (length > remaining) {
      this.fail(`the ${info.name} opcode declares ${length} bytes but only ${remaining} remain; the record is truncated or corrupt`, start);
    }
    this.position = payloadStart + length;
    return { form: 'payload', start: payloadStart, end: this.position };
  }

  private readLine(info: OpcodeInfo, start: number): { start: number; end: number } {
    const lineStart = this.position;
    const newline = this.data.indexOf(NEWLINE, lineStart);
    if (newline < 0) {
      this.fail(`the pickle ends inside the text argument of the ${info.name} opcode; the record is truncated`, start);
    }
    this.position = newline + 1;
    return { start: lineStart, end: newline };
  }

  private fail(message: string, offset: number): never {
    throw new EngineError(message, { ...this.where, offset });
  }
}
