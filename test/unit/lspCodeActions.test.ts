import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CodeActionKind, type Diagnostic, DiagnosticSeverity } from 'vscode-languageserver';
import { deviceDiagnosticData, retargetCodeActions, retargetCodeLenses } from '../../server/src/lsp/codeActions';
import { Commands, DIAGNOSTIC_SOURCE, type DeviceDiagnosticData, type RetargetCommandArguments } from '../../server/src/lsp/protocol';

const ARCHIVE = 'file:///home/user/models/detector.pt';
const OTHER_ARCHIVE = 'file:///home/user/models/other.pt';

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

describe('retargetCodeLenses', () => {
  it('summarizes and offers each target', () => {
    const lenses = retargetCodeLenses([deviceDiagnostic(['cpu'], { line: 4 }), deviceDiagnostic(['cpu'], { line: 9 })]);

    assert.deepEqual(
      lenses.map((lens) => lens.command?.title),
      ['2 hard-coded devices (cpu)', 'Retarget to cuda', 'Retarget to cuda:0', 'Choose device...'],
    );
    for (const lens of lenses) assert.deepEqual(lens.range, { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } });
    assert.equal(lenses[0].command?.command, '', 'the summary lens is text only');
    assert.deepEqual(lenses[1].command?.arguments, [{ archive: ARCHIVE, device: 'cuda' }]);
    assert.deepEqual(lenses[3].command?.arguments, [{ archive: ARCHIVE }]);
    assert.ok(lenses.slice(1).every((lens) => lens.command?.command === Commands.retarget));
  });

  it('lists every device found', () => {
    const lenses = retargetCodeLenses([deviceDiagnostic(['cuda:1']), deviceDiagnostic(['cuda:1']), deviceDiagnostic(['cpu'])]);
    assert.equal(lenses[0].command?.title, '3 hard-coded devices (cuda:1, cpu)');
    assert.equal(lenses.length, 5, 'no target equals every device found, so all three are offered');
  });

  it('offers nothing without retargetable findings', () => {
    assert.deepEqual(retargetCodeLenses([]), []);
    assert.deepEqual(retargetCodeLenses([deviceDiagnostic(['cpu'], { retargetable: false })]), []);
    assert.deepEqual(retargetCodeLenses([{ ...deviceDiagnostic(['cpu']), source: 'pylance' }]), []);
  });
});
