/**
 * PyTorch's device grammar: `type` or `type:index`, where type is one of c10's DeviceType
 * names (c10/core/Device.cpp, `parse_type`) and index is a non-negative integer without
 * leading zeros.
 */
export const DEVICE_TYPES = [
  'cpu', 'cuda', 'ipu', 'xpu', 'mkldnn', 'opengl', 'opencl', 'ideep', 'hip', 've', 'fpga',
  'maia', 'xla', 'lazy', 'vulkan', 'mps', 'meta', 'hpu', 'mtia', 'privateuseone',
] as const;

export type DeviceType = (typeof DEVICE_TYPES)[number];

export interface Device {
  type: DeviceType;
  index?: number;
}

const DEVICE_PATTERN = /^([a-z]+)(?::(0|[1-9][0-9]{0,2}))?$/;

/** c10::DeviceIndex is an int8_t, so PyTorch wraps larger indices around to negative ones. */
const MAX_DEVICE_INDEX = 127;

/** Parses a device string such as `cuda:1`; returns undefined for anything PyTorch would reject. */
export function parseDevice(text: string): Device | undefined {
  const match = DEVICE_PATTERN.exec(text);
  if (!match) return undefined;
  const type = match[1] as DeviceType;
  if (!DEVICE_TYPES.includes(type)) return undefined;
  if (match[2] === undefined) return { type };
  const index = Number(match[2]);
  // c10::Device rejects a CPU index other than 0.
  if (index > MAX_DEVICE_INDEX || (type === 'cpu' && index !== 0)) return undefined;
  return { type, index };
}

export function formatDevice(device: Device): string {
  return device.index === undefined ? device.type : `${device.type}:${device.index}`;
}

export function isDeviceString(text: string): boolean {
  return parseDevice(text) !== undefined;
}

/** Formats the message shown when a requested target device does not parse. */
export function deviceSyntaxHelp(text: string): string {
  return `invalid device "${text}": expected a PyTorch device such as cpu, cuda, cuda:0, meta, mps or xpu:1 (one of ${DEVICE_TYPES.join(', ')}, optionally followed by ":" and an index from 0 to ${MAX_DEVICE_INDEX}; cpu takes only 0)`;
}
