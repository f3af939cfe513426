/**
 * Quick fixes for device diagnostics: "Retarget to <device>" for each quick-fix target that
 * differs from a device the diagnostic found, and "Choose device...". They run the client
 * command that writes a retargeted archive beside the original.
 */
import * as l10n from '@vscode/l10n';
import { CodeAction, CodeActionKind, Command, type Diagnostic } from 'vscode-languageserver';
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
