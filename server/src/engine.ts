/**
 * The engine's public entry points, shared by the CLI, the language server and the tests:
 * archive -> records -> (code, pickles) -> findings -> edits -> written archive.
 */
import { readCodeTexts, scanArchive, UnsupportedKindError } from './analysis/archiveScan';
import { deviceFindings, type FindingOptions } from './analysis/deviceFindings';
import { storageSummary } from './analysis/storageSummary';
import type { FileReport } from './analysis/types';
import { EngineError } from './errors';
import { extractGraph } from './graph/extractGraph';
import type { ModelGraph } from './graph/graphTypes';

export { defaultOutputPath, retargetFile, type RetargetChange, type RetargetOptions, type RetargetResult } from './retarget/retargetArchive';

/** Analyses one file. Never throws for a bad file: the report's `error` describes what went wrong. */
export async function analyzeFile(filePath: string, options: FindingOptions = {}): Promise<FileReport> {
  try {
    const scan = await scanArchive(filePath);
    return {
      path: filePath,
      kind: scan.kind,
      info: {
        topFolder: scan.topFolder,
        formatVersion: scan.formatVersion,
        recordCount: scan.entries.length,
        sizeBytes: scan.sizeBytes,
        codeRecords: scan.codeRecords.map((code) => code.record),
        storageLocations: storageSummary(scan),
      },
      findings: deviceFindings(scan, options),
    };
  } catch (error) {
    if (!(error instanceof EngineError)) throw error;
    const kind = error instanceof UnsupportedKindError ? error.kind : 'not-pytorch';
    return { path: filePath, kind, error: error.message, findings: [] };
  }
}

/** Returns the decoded code records of an archive, e.g. `code/__torch__.py`. Throws EngineError. */
export async function readCodeRecords(filePath: string): Promise<{ record: string; text: string }[]> {
  return readCodeTexts(filePath);
}

/** Extracts the dataflow graph of the model's forward method. Throws EngineError. */
export async function buildGraph(filePath: string): Promise<ModelGraph> {
  const scan = await scanArchive(filePath);
  if (scan.codeRecords.length === 0) {
    throw new EngineError(`a ${scan.kind} file has no code records, so it has no graph to show`, { file: filePath });
  }
  return extractGraph(scan.codeRecords.map(({ record, text }) => ({ record, text })), scan.rootClass);
}
