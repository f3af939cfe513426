/**
 * An error in a user's file or in the environment that the engine reports to the user.
 * It names the file, and where known the record and byte offset, so that every caller
 * (CLI, language server, tests) can show the same clear message.
 */
export class EngineError extends Error {
  readonly file: string;
  readonly record?: string;
  readonly offset?: number;
  /** The message without the location prefix. */
  readonly reason: string;

  constructor(message: string, where: { file: string; record?: string; offset?: number }, options?: { cause?: unknown }) {
    super(EngineError.format(message, where), options);
    this.name = 'EngineError';
    this.reason = message;
    this.file = where.file;
    this.record = where.record;
    this.offset = where.offset;
  }

  private static format(message: string, where: { file: string; record?: string; offset?: number }): string {
    let location = where.file;
    if (where.record !== undefined) location += `, record ${where.record}`;
    if (where.offset !== undefined) location += `, offset ${where.offset}`;
    return `${location}: ${message}`;
  }
}
