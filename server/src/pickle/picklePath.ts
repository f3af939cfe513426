import type { PathSegment } from './deviceScan';

/** Formats a path from a pickle's root as Python would write it: `conv1.weight`, `devs[1]`. */
export function formatPath(path: readonly PathSegment[]): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else text += text === '' ? segment : `.${segment}`;
  }
  return text;
}
