/** The kind of a file, as recognised from its container and records. */
export type ArchiveKind =
  | 'torchscript'
  | 'mobile'
  | 'checkpoint'
  | 'torch-package'
  | 'legacy-model-json'
  | 'raw-pickle'
  | 'exported-program'
  | 'not-pytorch';

/** A position in a code record: 0-based line and UTF-16 character, as in LSP. */
export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

export type Severity = 'error' | 'warning' | 'information' | 'hint';

/**
 * Stable identifiers of finding kinds. They appear in `--json` output and as diagnostic
 * codes, so renaming one is a breaking change.
 */
export type FindingCode =
  | 'code-device-literal'
  | 'code-device-two-argument'
  | 'code-device-from-attribute'
  | 'code-device-move-by-name'
  | 'constant-storage-location'
  | 'parameter-storage-location'
  | 'traced-input-storage-location'
  | 'bytecode-storage-location'
  | 'bytecode-device-constant'
  | 'device-attribute'
  | 'device-string-attribute'
  | 'checkpoint-storage-location';

/** A byte range in the decompressed record that a rewrite would change. */
export interface ByteSpan {
  start: number;
  end: number;
}

/** One hard-coded device in an archive. */
export interface Finding {
  code: FindingCode;
  severity: Severity;
  /** The device as written in the archive, for example `cuda:1`, or `cuda` for a two-argument form. */
  device: string;
  /** Record name without the top folder, for example `code/__torch__.py` or `constants.pkl`. */
  record: string;
  /** Present for code records. */
  range?: Range;
  message: string;
  /** For tensor constants: the code lines that use `CONSTANTS.cN`, as record and range. */
  related?: { record: string; range: Range; message: string }[];
  /** False where the retarget cannot rewrite this site (for example `torch.cuda(x)`). */
  rewritable: boolean;
}

/** The result of analysing one file. */
export interface FileReport {
  path: string;
  kind: ArchiveKind;
  /** Present when the file could not be analysed; then `findings` is empty. */
  error?: string;
  /** Summary facts shown by the custom editor. */
  info?: {
    topFolder?: string;
    formatVersion?: number;
    recordCount?: number;
    sizeBytes?: number;
    codeRecords?: string[];
    /** Storage counts per pickle record and location, including CPU storages that are not findings. */
    storageLocations?: { record: string; device: string; count: number }[];
  };
  findings: Finding[];
}
