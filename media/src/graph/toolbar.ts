import { htmlElement } from './dom';
import type { GraphStrings } from './protocol';

/** The controls above the graph. */
export interface Toolbar {
  root: HTMLElement;
  search: HTMLInputElement;
  matchCount: HTMLElement;
  zoomIn: HTMLButtonElement;
  zoomOut: HTMLButtonElement;
  fit: HTMLButtonElement;
  expandAll: HTMLButtonElement;
  collapseAll: HTMLButtonElement;
  exportSvg: HTMLButtonElement;
  onlyPinnedPaths: HTMLInputElement;
  showLiterals: HTMLInputElement;
  legend: HTMLElement;
}

export function buildToolbar(strings: GraphStrings): Toolbar {
  const root = htmlElement('div', { class: 'toolbar', role: 'toolbar' });

  const search = htmlElement('input', { type: 'search', class: 'search', placeholder: strings.searchPlaceholder, 'aria-label': strings.searchLabel });
  const matchCount = htmlElement('span', { class: 'match-count', 'aria-live': 'polite' });
  const button = (label: string, text: string, className: string): HTMLButtonElement =>
    htmlElement('button', { type: 'button', class: className, title: label, 'aria-label': label }, text);
  const checkbox = (label: string, className: string): { wrapper: HTMLLabelElement; input: HTMLInputElement } => {
    const input = htmlElement('input', { type: 'checkbox', class: className });
    const wrapper = htmlElement('label', { class: 'option' });
    wrapper.append(input, document.createTextNode(label));
    return { wrapper, input };
  };

  const zoomIn = button(strings.zoomIn, '+', 'icon zoom-in');
  const zoomOut = button(strings.zoomOut, '−', 'icon zoom-out');
  const fit = button(strings.fit, strings.fit, 'fit');
  const expandAll = button(strings.expandAll, strings.expandAll, 'expand-all');
  const collapseAll = button(strings.collapseAll, strings.collapseAll, 'collapse-all');
  const exportSvg = button(strings.exportSvg, strings.exportSvg, 'export-svg');
  const pinned = checkbox(strings.onlyPinnedPaths, 'only-pinned-paths');
  const literals = checkbox(strings.showLiterals, 'show-literals');
  const legend = htmlElement('div', { class: 'legend', 'aria-label': strings.legendTitle });

  const searchGroup = htmlElement('div', { class: 'toolbar-group' });
  searchGroup.append(search, matchCount);
  const viewGroup = htmlElement('div', { class: 'toolbar-group' });
  viewGroup.append(zoomOut, zoomIn, fit, expandAll, collapseAll, exportSvg);
  const optionGroup = htmlElement('div', { class: 'toolbar-group' });
  optionGroup.append(pinned.wrapper, literals.wrapper);
  root.append(searchGroup, viewGroup, optionGroup, legend);

  return {
    root,
    search,
    matchCount,
    zoomIn,
    zoomOut,
    fit,
    expandAll,
    collapseAll,
    exportSvg,
    onlyPinnedPaths: pinned.input,
    showLiterals: literals.input,
    legend,
  };
}

/** Fills the device legend: one swatch per device, in the colour its nodes use. */
export function renderLegend(legend: HTMLElement, strings: GraphStrings, deviceColors: ReadonlyMap<string, number>): void {
  const title = htmlElement('span', { class: 'legend-title' }, `${strings.legendTitle}:`);
  const entries: HTMLElement[] = [title];
  if (deviceColors.size === 0) entries.push(htmlElement('span', { class: 'legend-empty' }, strings.noDevices));
  for (const [device, color] of [...deviceColors].sort(([a], [b]) => a.localeCompare(b))) {
    const entry = htmlElement('span', { class: 'legend-entry' });
    entry.append(htmlElement('span', { class: `swatch device-color-${color}` }), htmlElement('span', { class: 'legend-device' }, device));
    entries.push(entry);
  }
  legend.replaceChildren(...entries);
}
