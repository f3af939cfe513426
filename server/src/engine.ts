/**
 * The engine's public entry points, shared by the CLI, the language server and the tests:
 * archive -> records -> (code, pickles) -> findings -> edits -> written archive.
 */
import { readCodeTexts, scanArchive, UnsupportedKindError } from './analysis/archiveScan';
import { deviceFindings, type FindingOptions } from './analysis/deviceFindings';
import { storageSummary } from './analysis/storageSummary';
import type { FileReport } from './analysis/types';
import { findConstantUses } from './code/constantUses';
import { findDeviceSites } from './code/deviceSites';
import { getPythonParser } from './code/parser';
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

/** A traced forward as PyTorch prints it, for warming up the code analysis. */
const WARM_UP_CODE = `class Model(Module):
  def forward(self: __torch__.Model,
    x: Tensor) -> Tensor:
    _0 = torch.ones([2, 3], dtype=None, layout=None, device=torch.device("cpu"), pin_memory=False)
    _1 = torch.to(CONSTANTS.c0, torch.device("cuda", 1), 6, False, False, None)
    return torch.add(torch.add(x, _0), _1)
`;

/**
 * Loads the Python grammar and runs the code analysis once on a small sample, so that a
 * long-running process (the language server) serves its first request without paying
 * for compiling the grammar and the analysis code.
 */
export async function warmUpEngine(): Promise<void> {
  await getPythonParser();
  await findDeviceSites(WARM_UP_CODE);
  await findConstantUses(WARM_UP_CODE);
}
