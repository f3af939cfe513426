import * as vscode from 'vscode';

/**
 * The extension's one log: the "TorchScript Device" output channel, whose level the user sets
 * with "Developer: Set Log Level". With `CI=true` every line is mirrored to the extension
 * host's console, so that test runs show it.
 */
export class Logger implements vscode.Disposable {
  readonly channel: vscode.LogOutputChannel;
  private readonly mirrorToConsole = process.env.CI === 'true';

  constructor(name: string) {
    this.channel = vscode.window.createOutputChannel(name, { log: true });
  }

  error(message: string, error?: unknown): void {
    const text = error === undefined ? message : `${message}: ${error instanceof Error ? error.message : String(error)}`;
    this.channel.error(text);
    if (this.mirrorToConsole) console.error(text);
  }

  warn(message: string): void {
    this.channel.warn(message);
    if (this.mirrorToConsole) console.warn(message);
  }

  info(message: string): void {
    this.channel.info(message);
    if (this.mirrorToConsole) console.info(message);
  }

  debug(message: string): void {
    this.channel.debug(message);
    if (this.mirrorToConsole) console.debug(message);
  }

  dispose(): void {
    this.channel.dispose();
  }
}
