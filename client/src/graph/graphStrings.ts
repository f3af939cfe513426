// A type-only import: @vscode/l10n-dev collects `vscode.l10n.t(...)` calls only in files that
// import 'vscode', while this module must stay loadable outside VS Code for its tests.
import type * as vscode from 'vscode';
import type { GraphStrings } from '../../../media/src/graph/protocol';

/** The part of the `vscode` module this file uses; pass the `vscode` module itself. */
export interface Localizer {
  l10n: { t(message: string, ...args: string[]): string };
}

/**
 * Returns the graph webview's strings, localized. Placeholders are passed through as
 * arguments so that `{0}` and `{1}` survive translation for the webview to fill in.
 */
export function graphWebviewStrings(vscodeApi: Localizer): GraphStrings {
  // The parameter takes the import's name so that the calls read `vscode.l10n.t(...)` to the l10n tool.
  const vscode = vscodeApi;
  return {
    graphLabel: vscode.l10n.t('Model dataflow graph'),
    waiting: vscode.l10n.t('Waiting for the graph…'),
    searchLabel: vscode.l10n.t('Search nodes'),
    searchPlaceholder: vscode.l10n.t('Search by name or operator'),
    matchCount: vscode.l10n.t('{0} matches', '{0}'),
    noMatches: vscode.l10n.t('No matches'),
    zoomIn: vscode.l10n.t('Zoom in'),
    zoomOut: vscode.l10n.t('Zoom out'),
    fit: vscode.l10n.t('Fit'),
    expandAll: vscode.l10n.t('Expand all'),
    collapseAll: vscode.l10n.t('Collapse all'),
    exportSvg: vscode.l10n.t('Export SVG'),
    onlyPinnedPaths: vscode.l10n.t('Only paths through pinned devices'),
    showLiterals: vscode.l10n.t('Show literals'),
    legendTitle: vscode.l10n.t('Devices'),
    noDevices: vscode.l10n.t('no hard-coded devices'),
    layingOut: vscode.l10n.t('Laying out {0} nodes…', '{0}'),
    status: vscode.l10n.t('{0} nodes, {1} edges', '{0}', '{1}'),
    emptyGraph: vscode.l10n.t('The model has no forward method to show.'),
    noPinnedPaths: vscode.l10n.t('No path from an input to an output runs through a pinned device.'),
    layoutFailed: vscode.l10n.t('Layout failed: {0}', '{0}'),
    workerFailed: vscode.l10n.t('The layout worker could not start: {0}', '{0}'),
    exportFailed: vscode.l10n.t('Export failed: {0}', '{0}'),
    expandGroup: vscode.l10n.t('Expand {0}', '{0}'),
    collapseGroup: vscode.l10n.t('Collapse {0}', '{0}'),
    hiddenNodes: vscode.l10n.t('{0} nodes inside', '{0}'),
    sourceLocation: vscode.l10n.t('{0}, line {1}', '{0}', '{1}'),
    kindInput: vscode.l10n.t('Input'),
    kindOp: vscode.l10n.t('Operator'),
    kindModule: vscode.l10n.t('Module'),
    kindConstant: vscode.l10n.t('Constant'),
    kindDevice: vscode.l10n.t('Device'),
    kindAttribute: vscode.l10n.t('Attribute'),
    kindOutput: vscode.l10n.t('Output'),
  };
}
