import type { ModelGraph } from '../../../server/src/graph/graphTypes';

/**
 * Number of device colours; graph.css defines `device-color-0` … `device-color-5` from
 * the theme's chart colours. Devices beyond that reuse colours in order.
 */
export const DEVICE_COLOR_COUNT = 6;

/** Assigns each device found in the graph a colour index, in sorted order so that colours do not depend on node order. */
export function assignDeviceColors(graph: ModelGraph): Map<string, number> {
  const devices = new Set<string>();
  for (const node of graph.nodes) {
    if (node.kind === 'device' && node.device !== undefined) devices.add(node.device);
  }
  const colors = new Map<string, number>();
  [...devices].sort().forEach((device, index) => colors.set(device, index % DEVICE_COLOR_COUNT));
  return colors;
}

export function deviceColorClass(colors: ReadonlyMap<string, number>, device: string): string {
  return `device-color-${colors.get(device) ?? 0}`;
}
