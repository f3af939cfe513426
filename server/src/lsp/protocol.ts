/**
 * The messages the extension client and the language server exchange beyond standard LSP.
 * Both sides import this module, so it must not import the engine.
 */
import { RequestType } from 'vscode-languageserver-protocol';
import type { ArchiveKind, FileReport } from '../analysis/types';
import type { ModelGraph } from '../graph/graphTypes';

/** URI scheme of the read-only documents that show an archive's code records. */
export const CODE_SCHEME = 'torchscript-code';

/** Language id of serialized TorchScript code (the code records). */
export const CODE_LANGUAGE_ID = 'torchscript';

/** File name extensions of archives the extension checks. */
export const ARCHIVE_EXTENSIONS = ['.pt', '.pth', '.ptl', '.torchscript'] as const;

/** Glob for the archives the client watches and the workspace check searches. */
export const ARCHIVE_GLOB = '**/*.{pt,pth,ptl,torchscript}';

/** Diagnostic source of every diagnostic this server publishes. */
export const DIAGNOSTIC_SOURCE = 'torchscript-device';

/** Targets offered as quick fixes, in this order. */
export const QUICK_FIX_DEVICES = ['cpu', 'cuda', 'cuda:0'] as const;

/** Whether the retarget command can rewrite files of this kind. */
export function isRetargetable(kind: ArchiveKind): boolean {
  return kind === 'torchscript' || kind === 'mobile' || kind === 'checkpoint';
}

/** Server command (`workspace/executeCommand`) that writes a retargeted archive. */
export const SERVER_RETARGET_COMMAND = 'torchscriptDevice.server.retarget';

/** Client commands; quick fixes and the custom editors call them. */
export const Commands = {
  retarget: 'torchscriptDevice.retarget',
  checkWorkspace: 'torchscriptDevice.checkWorkspace',
  showGraph: 'torchscriptDevice.showGraph',
} as const;

/** View types of the custom editors. */
export const ViewTypes = {
  archive: 'torchscriptDevice.archive',
  graph: 'torchscriptDevice.graph',
} as const;

/** Arguments of {@link SERVER_RETARGET_COMMAND}. URIs use the `file` scheme. */
export interface ServerRetargetArguments {
  input: string;
  device: string;
  /** Defaults to the sibling file named after the device. */
  output?: string;
  /** Overwrite an existing output file. */
  force?: boolean;
}

/**
 * Arguments of the client command {@link Commands.retarget}. Every field is optional. The
 * command prompts for a missing archive or device and confirms before overwriting a file.
 */
export interface RetargetCommandArguments {
  /** `file` URI of the archive. */
  archive?: string;
  device?: string;
  /** `file` URI of the output. Without it the command writes the sibling file named after the device. */
  output?: string;
  /** Show a save dialog for the output instead of using the sibling file. */
  chooseOutput?: boolean;
  /** Overwrite an existing output without asking. */
  force?: boolean;
}

export interface DocumentUriParams {
  uri: string;
}

/** Analyses an archive, publishes its diagnostics and returns the report (for the custom editor). */
export const DescribeRequest = new RequestType<DocumentUriParams, FileReport, void>('torchscript/describe');

export interface GraphParams extends DocumentUriParams {
  /** Qualified name of the class to start from; the archive's root module when absent. */
  rootClass?: string;
}

/** Returns the module graph of an archive for the graph custom editor. */
export const GraphRequest = new RequestType<GraphParams, ModelGraph, void>('torchscript/graph');

export interface DefaultOutputParams extends DocumentUriParams {
  device: string;
}

/** Returns the `file` URI a retarget writes when no output is given. */
export const DefaultOutputRequest = new RequestType<DefaultOutputParams, DocumentUriParams, void>('torchscript/defaultOutput');

/** Options the client sends in `initialize`. */
export interface InitializationOptions {
  /** File path of the client's l10n bundle for the display language; absent for English. */
  l10nBundlePath?: string;
}

/** Settings under the `torchscriptDevice` section that the server reads. */
export interface ServerSettings {
  /** Devices equal to this one are not reported; empty reports every device. */
  expectedDevice: string;
}

/** Contents of a diagnostic's `data` field, from which code actions learn the archive and devices. */
export interface DeviceDiagnosticData {
  /** `file` URI of the archive. */
  archive: string;
  /** Devices the diagnostic is about: one for a finding, every device found for the summary. */
  devices: string[];
  /** Whether the retarget command can rewrite this archive kind. */
  retargetable: boolean;
}
