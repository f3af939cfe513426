/**
 * Quick fixes and code lenses for device diagnostics: "Retarget to <device>" for each
 * quick-fix target that differs from a device the diagnostic found, and "Choose device...".
 * They run the client command that writes a retargeted archive beside the original.
 */
import * as l10n from '@vscode/l10n';
import { CodeAction, CodeActionKind, CodeLens, Command, type Diagnostic, Range } from 'vscode-languageserver';
import { parseDevice } from '../device';
import { Commands, DIAGNOSTIC_SOURCE, QUICK_FIX_DEVICES, type DeviceDiagnosticData, type RetargetCommandArguments } from './protocol';

/** Reads the data the server attached to its own diagnostic; undefined for any other diagnostic. */
export function deviceDiagnosticData(diagnostic: Diagnostic): DeviceDiagnosticData | undefined {
  if (diagnostic.source !== DIAGNOSTIC_SOURCE) return undefined;
  const data = diagnostic.data as Partial<DeviceDiagnosticData> | undefined;
  if (typeof data?.archive !== 'string' || !Array.isArray(data.devices)) return undefined;
  return { archive: data.archive, devices: data.devices.filter((device) => typeof device === 'string'), retargetable: data.retargetable === true };
}

function pinsOneCard(device: string): boolean {
  const parsed = parseDevice(device);
  return parsed?.type === 'cuda' && parsed.index !== undefined && parsed.index > 0;
}

/**
 * Returns the quick fixes for the diagnostics of a code action request. Diagnostics of the
 * same archive share their actions, so a line with two findings offers each target once.
 * `lookup` supplies the data when the client dropped a diagnostic's `data` field.
 */
export function retargetCodeActions(diagnostics: Diagnostic[], lookup: (diagnostic: Diagnostic) => DeviceDiagnosticData | undefined): CodeAction[] {
  const actions = new Map<string, CodeAction>();

  const addAction = (key: string, title: string, diagnostic: Diagnostic, args: RetargetCommandArguments, preferred: boolean) => {
    let action = actions.get(key);
    if (!action) {
      action = CodeAction.create(title, Command.create(title, Commands.retarget, args), CodeActionKind.QuickFix);
      action.diagnostics = [];
      actions.set(key, action);
    }
    action.diagnostics!.push(diagnostic);
    if (preferred) action.isPreferred = true;
  };

  for (const diagnostic of diagnostics) {
    const data = deviceDiagnosticData(diagnostic) ?? (diagnostic.source === DIAGNOSTIC_SOURCE ? lookup(diagnostic) : undefined);
    if (!data?.retargetable || data.devices.length === 0) continue;

    for (const target of QUICK_FIX_DEVICES) {
      if (data.devices.every((device) => device === target)) continue;
      const preferred = target === 'cuda' && data.devices.some(pinsOneCard);
      addAction(`${data.archive}\n${target}`, l10n.t('Retarget to {0}', target), diagnostic, { archive: data.archive, device: target }, preferred);
    }
    addAction(`${data.archive}\n`, l10n.t('Choose device...'), diagnostic, { archive: data.archive }, false);
  }

  return [...actions.values()];
}

/**
 * Returns code lenses for the first line of a code record: the number of devices its
 * diagnostics report, then one retarget command per target. VS Code offers quick fixes only
 * in writable editors, and code records are read-only, so the lenses put the same commands
 * in the editor.
 */
export function retargetCodeLenses(diagnostics: Diagnostic[]): CodeLens[] {
  const found = diagnostics.map(deviceDiagnosticData).filter((data): data is DeviceDiagnosticData => data?.retargetable === true);
  if (found.length === 0) return [];

  const archive = found[0].archive;
  const devices = [...new Set(found.flatMap((data) => data.devices))];
  const top = Range.create(0, 0, 0, 0);
  const lens = (command: Command): CodeLens => ({ range: top, command });

  const summary = found.length === 1 ? l10n.t('1 hard-coded device ({0})', devices.join(', ')) : l10n.t('{0} hard-coded devices ({1})', found.length, devices.join(', '));
  // VS Code shows a lens whose command id is empty as plain text.
  const lenses = [lens(Command.create(summary, ''))];
  for (const target of QUICK_FIX_DEVICES) {
    if (devices.every((device) => device === target)) continue;
    const args: RetargetCommandArguments = { archive, device: target };
    lenses.push(lens(Command.create(l10n.t('Retarget to {0}', target), Commands.retarget, args)));
  }
  const chooseArgs: RetargetCommandArguments = { archive };
  lenses.push(lens(Command.create(l10n.t('Choose device...'), Commands.retarget, chooseArgs)));
  return lenses;
}
