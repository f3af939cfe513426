import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CodeActionKind, type Diagnostic, DiagnosticSeverity } from 'vscode-languageserver';
import { deviceDiagnosticData, retargetCodeActions } from '../../server/src/lsp/codeActions';
import { Commands, DIAGNOSTIC_SOURCE, type DeviceDiagnosticData, type RetargetCommandArguments } from '../../server/src/lsp/protocol';

const ARCHIVE = 'file:///work/models/detector.pt';
const OTHER_ARCHIVE = 'file:///work/models/other.pt';

function deviceDiagnostic(devices: string[], options: { archive?: string; line?: number; retargetable?: boolean; data?: boolean } = {}): Diagnostic {
  const line = options.line ?? 4;
  const data: DeviceDiagnosticData = { archive: options.archive ?? ARCHIVE, devices, retargetable: options.retargetable ?? true };
  return {
    range: { start: { line, character: 8 }, end: { line, character: 29 } },
    message: `torch.device("${devices[0]}") is hard-coded`,
    severity: DiagnosticSeverity.Warning,
    code: 'code-device-literal',
    source: DIAGNOSTIC_SOURCE,
    data: options.data === false ? undefined : data,
  };
}

const noLookup = () => undefined;

function commandArguments(action: { command?: { arguments?: unknown[] } }): RetargetCommandArguments {
  return action.command!.arguments![0] as RetargetCommandArguments;
}

describe('retargetCodeActions', () => {
  it('skips the device already found', () => {
    const actions = retargetCodeActions([deviceDiagnostic(['cpu'])], noLookup);

    assert.deepEqual(
      actions.map((action) => action.title),
      ['Retarget to cuda', 'Retarget to cuda:0', 'Choose device...'],
    );
    for (const action of actions) {
      assert.equal(action.kind, CodeActionKind.QuickFix);
      assert.equal(action.command?.command, Commands.retarget);
      assert.equal(commandArguments(action).archive, ARCHIVE);
      assert.equal(action.diagnostics?.length, 1);
    }
    assert.equal(commandArguments(actions[0]).device, 'cuda');
    assert.equal(commandArguments(actions[1]).device, 'cuda:0');
    assert.equal(commandArguments(actions[2]).device, undefined);
    assert.ok(actions.every((action) => !action.isPreferred));
  });

  it('prefers plain cuda for cuda:N', () => {
    const actions = retargetCodeActions([deviceDiagnostic(['cuda:3'])], noLookup);

    assert.deepEqual(
      actions.map((action) => action.title),
      ['Retarget to cpu', 'Retarget to cuda', 'Retarget to cuda:0', 'Choose device...'],
    );
    assert.deepEqual(
      actions.filter((action) => action.isPreferred).map((action) => action.title),
      ['Retarget to cuda'],
    );
  });

  it('offers every target for a mixed summary', () => {
    const actions = retargetCodeActions([deviceDiagnostic(['cpu', 'cuda:0'])], noLookup);
    assert.deepEqual(
      actions.map((action) => action.title),
      ['Retarget to cpu', 'Retarget to cuda', 'Retarget to cuda:0', 'Choose device...'],
    );
  });

  it('merges diagnostics of one archive', () => {
    const first = deviceDiagnostic(['cpu'], { line: 4 });
    const second = deviceDiagnostic(['cpu'], { line: 5 });
    const actions = retargetCodeActions([first, second], noLookup);

    assert.equal(actions.length, 3);
    for (const action of actions) assert.deepEqual(action.diagnostics, [first, second]);
  });

  it('keeps archives apart', () => {
    const actions = retargetCodeActions([deviceDiagnostic(['cpu']), deviceDiagnostic(['cpu'], { archive: OTHER_ARCHIVE })], noLookup);
    assert.equal(actions.length, 6);
    assert.deepEqual(new Set(actions.map((action) => commandArguments(action).archive)), new Set([ARCHIVE, OTHER_ARCHIVE]));
  });

  it('offers nothing for archives retarget cannot write', () => {
    assert.deepEqual(retargetCodeActions([deviceDiagnostic(['cuda:0'], { retargetable: false })], noLookup), []);
  });

  it('ignores diagnostics of other sources', () => {
    const foreign = { ...deviceDiagnostic(['cpu']), source: 'pylance' };
    let lookups = 0;
    const actions = retargetCodeActions([foreign], () => {
      lookups++;
      return { archive: ARCHIVE, devices: ['cpu'], retargetable: true };
    });
    assert.deepEqual(actions, []);
    assert.equal(lookups, 0);
  });

  it('looks up data the client dropped', () => {
    const stripped = deviceDiagnostic(['cuda:1'], { data: false });
    const actions = retargetCodeActions([stripped], (diagnostic) => {
      assert.equal(diagnostic, stripped);
      return { archive: OTHER_ARCHIVE, devices: ['cuda:1'], retargetable: true };
    });
    assert.equal(actions.length, 4);
    assert.equal(commandArguments(actions[0]).archive, OTHER_ARCHIVE);
  });
});

describe('deviceDiagnosticData', () => {
  it('rejects malformed data', () => {
    assert.equal(deviceDiagnosticData({ ...deviceDiagnostic(['cpu']), data: { archive: 3, devices: ['cpu'] } }), undefined);
    assert.equal(deviceDiagnosticData({ ...deviceDiagnostic(['cpu']), data: { archive: ARCHIVE } }), undefined);
    assert.deepEqual(deviceDiagnosticData({ ...deviceDiagnostic(['cpu']), data: { archive: ARCHIVE, devices: ['cpu', 7] } }), {
      archive: ARCHIVE,
      devices: ['cpu'],
      retargetable: false,
    });
  });
});
