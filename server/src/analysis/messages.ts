import { parseDevice } from '../device';
import type { FindingCode } from './types';

/**
 * Explains what a hard-coded device does at run time and what the user can do about it.
 * `where` names the op or attribute that contains the device, for example `torch.ones`.
 */
export function findingMessage(code: FindingCode, device: string, where?: string): string {
  const text = baseMessage(code, device, where);
  return `${text}${pinnedCardAdvice(device)}`;
}

function baseMessage(code: FindingCode, device: string, where?: string): string {
  const shown = device === '' ? 'a device' : `"${device}"`;
  const user = where ? ` (${where})` : '';
  const usedIn = where ? ` in ${where}` : '';
  switch (code) {
    case 'code-device-literal':
      return `torch.device(${shown}) is hard-coded${usedIn}: this op runs on ${device} wherever the model is moved, because module.to() moves only parameters and buffers. Retarget the archive to the device you deploy on.`;
    case 'code-device-two-argument':
      return `torch.device with a type and an index (${device}) is hard-coded${usedIn}: this op runs on ${device} wherever the model is moved. Retarget the archive to write a single device in its place.`;
    case 'code-device-from-attribute':
      return `torch.device is built from the attribute ${where ?? ''}${device ? `, which holds "${device}"` : ''}: the op runs on that device wherever the model is moved. Retarget the archive to rewrite the attribute.`;
    case 'code-device-move-by-name':
      return `The code moves a tensor with torch.${device}(...)${usedIn}, which always targets ${device}. Retarget cannot rewrite this call; change it in the model's source and export again.`;
    case 'constant-storage-location':
      return `Tensor constants are stored on ${device}${user}. module.to() never moves tensor constants; torch.jit.load(map_location=...) or a retarget does.`;
    case 'parameter-storage-location':
      return `Parameters or buffers are stored on ${device}${user}. Loading without map_location fails on a machine without ${device}; module.to() or a retarget moves it.`;
    case 'traced-input-storage-location':
      return `Traced example inputs are stored on ${device}${user}. Loading without map_location fails on a machine without ${device}; a retarget rewrites it.`;
    case 'bytecode-storage-location':
      return `Tensors of the mobile bytecode are stored on ${device}${user}. The lite interpreter loads it there; a retarget rewrites it.`;
    case 'bytecode-device-constant':
      return `The mobile bytecode contains the device constant "${device}"${user}: the lite interpreter runs that op on ${device} wherever the model is moved. Retarget the archive to the device you deploy on.`;
    case 'device-attribute':
      return `The Device attribute${user} holds "${device}". Neither module.to() nor map_location changes it; a retarget does.`;
    case 'device-string-attribute':
      return `The str attribute${user} contains the device name "${device}". Neither module.to() nor map_location changes it; a retarget does when the code uses it as a device.`;
    case 'checkpoint-storage-location':
      return `Tensors of this checkpoint are stored on ${device}${user}. Load it with torch.load(..., map_location=...) to choose the device.`;
  }
}

/** Advice for `cuda:N` with N > 0, which pins one card for every process. */
function pinnedCardAdvice(device: string): string {
  const parsed = parseDevice(device);
  if (!parsed || parsed.type !== 'cuda' || parsed.index === undefined || parsed.index === 0) return '';
  return ` ${device} pins GPU ${parsed.index} in every process: retarget to "cuda" (or "cuda:0") so that torch.cuda.set_device(rank) chooses the card per process, as one-process-per-GPU inference needs.`;
}
