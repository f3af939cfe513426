import { SVG_NAMESPACE, svgElement } from './dom';

/** Presentation properties copied from the view's computed styles, because the exported file has no theme variables. */
const STYLE_PROPERTIES = [
  'fill',
  'fill-opacity',
  'stroke',
  'stroke-width',
  'stroke-dasharray',
  'stroke-opacity',
  'opacity',
  'font-family',
  'font-size',
  'font-weight',
  'font-style',
];

const MARGIN = 20;

/**
 * Serializes the drawn graph as a standalone SVG document: the whole layout at 1:1,
 * with the current theme's colours written into each element, and without the expand
 * and collapse buttons.
 */
export function buildSvgExport(svg: SVGSVGElement, content: SVGGElement, width: number, height: number): string {
  const exported = svgElement('svg', {
    width: Math.ceil(width + 2 * MARGIN),
    height: Math.ceil(height + 2 * MARGIN),
    viewBox: `${-MARGIN} ${-MARGIN} ${Math.ceil(width + 2 * MARGIN)} ${Math.ceil(height + 2 * MARGIN)}`,
  });
  exported.setAttribute('xmlns', SVG_NAMESPACE);

  const background = getComputedStyle(svg).backgroundColor;
  exported.append(svgElement('rect', { x: -MARGIN, y: -MARGIN, width: '100%', height: '100%', fill: background || 'white' }));

  const defs = svg.querySelector('defs');
  if (defs) exported.append(cloneWithStyles(defs));

  const drawn = cloneWithStyles(content);
  drawn.removeAttribute('transform');
  drawn.removeAttribute('visibility');
  exported.append(drawn);

  return new XMLSerializer().serializeToString(exported);
}

function cloneWithStyles<T extends Element>(original: T): T {
  const clone = original.cloneNode(true) as T;
  const originals = [original, ...Array.from(original.querySelectorAll('*'))];
  const clones = [clone, ...Array.from(clone.querySelectorAll('*'))];

  originals.forEach((element, index) => {
    const computed = getComputedStyle(element);
    const declarations: string[] = [];
    for (const property of STYLE_PROPERTIES) {
      const value = computed.getPropertyValue(property);
      if (value) declarations.push(`${property}:${value}`);
    }
    clones[index].setAttribute('style', declarations.join(';'));
    clones[index].removeAttribute('class');
  });

  // Expand and collapse buttons mean nothing outside the view.
  originals.forEach((element, index) => {
    if (element.classList.contains('toggle')) clones[index].remove();
  });

  return clone;
}
