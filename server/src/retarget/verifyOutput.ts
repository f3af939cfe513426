import { scanArchive, type ArchiveScan } from '../analysis/archiveScan';
import type { Device } from '../device';
import { EngineError } from '../errors';
import { planRetarget, type RetargetPlan } from './planEdits';

/**
 * Reads a written archive back before it replaces anything: the records must be those of
 * the input in the same order, and planning the same retarget on the output must find
 * nothing left to change.
 */
export async function verifyRetargeted(outputPath: string, input: ArchiveScan, plan: RetargetPlan, target: Device): Promise<void> {
  let output: ArchiveScan;
  try {
    output = await scanArchive(outputPath);
  } catch (error) {
    throw new EngineError(`the written archive could not be read back (${(error as Error).message}); nothing was replaced`, { file: input.path }, { cause: error });
  }

  const inputNames = input.entries.map((entry) => entry.name);
  const outputNames = output.entries.map((entry) => entry.name);
  if (inputNames.length !== outputNames.length || inputNames.some((name, index) => name !== outputNames[index])) {
    throw new EngineError('the written archive does not list the same records as the input; nothing was replaced', { file: input.path });
  }

  const again = planRetarget(output, target);
  if (again.changes.length > 0) {
    const first = again.changes[0];
    throw new EngineError(
      `the written archive still contains ${first.oldDevice} in ${first.record} (${first.target}); nothing was replaced. Please report this with the model file.`,
      { file: input.path, record: first.record },
    );
  }
  if (again.skipped.length !== plan.skipped.length) {
    throw new EngineError('the written archive differs from the plan in devices that cannot be rewritten; nothing was replaced', { file: input.path });
  }
}
