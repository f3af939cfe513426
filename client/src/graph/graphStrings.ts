import type { GraphStrings } from '../../../media/src/graph/protocol';

/** The part of `vscode.l10n` this module uses; pass `vscode.l10n` itself. */
export interface Localizer {
  t(message: string, ...args: string[]): string;
}

/**
 * Returns the graph webview's strings, localized. Placeholders are passed through as
 * arguments so that `{0}` and `{1}` survive translation for the webview to fill in.
 */
export function graphWebviewStrings(l10n: Localizer): GraphStrings {
  return {
    graphLabel: l10n.t('Model dataflow graph'),
    waiting: l10n.t('Waiting for the graph…'),
    searchLabel: l10n.t('Search nodes'),
    searchPlaceholder: l10n.t('Search by name or operator'),
    matchCount: l10n.t('{0} matches', '{0}'),
    noMatches: l10n.t('No matches'),
    zoomIn: l10n.t('Zoom in'),
    zoomOut: l10n.t('Zoom out'),
    fit: l10n.t('Fit'),
    expandAll: l10n.t('Expand all'),
    collapseAll: l10n.t('Collapse all'),
    exportSvg: l10n.t('Export SVG'),
    onlyPinnedPaths: l10n.t('Only paths through pinned devices'),
    showLiterals: l10n.t('Show literals'),
    legendTitle: l10n.t('Devices'),
    noDevices: l10n.t('no hard-coded devices'),
    layingOut: l10n.t('Laying out {0} nodes…', '{0}'),
    status: l10n.t('{0} nodes, {1} edges', '{0}', '{1}'),
    emptyGraph: l10n.t('The model has no forward method to show.'),
    noPinnedPaths: l10n.t('No path from an input to an output runs through a pinned device.'),
    layoutFailed: l10n.t('Layout failed: {0}', '{0}'),
    workerFailed: l10n.t('The layout worker could not start: {0}', '{0}'),
    exportFailed: l10n.t('Export failed: {0}', '{0}'),
    expandGroup: l10n.t('Expand {0}', '{0}'),
    collapseGroup: l10n.t('Collapse {0}', '{0}'),
    hiddenNodes: l10n.t('{0} nodes inside', '{0}'),
    sourceLocation: l10n.t('{0}, line {1}', '{0}', '{1}'),
    kindInput: l10n.t('Input'),
    kindOp: l10n.t('Operator'),
    kindModule: l10n.t('Module'),
    kindConstant: l10n.t('Constant'),
    kindDevice: l10n.t('Device'),
    kindAttribute: l10n.t('Attribute'),
    kindOutput: l10n.t('Output'),
  };
}
