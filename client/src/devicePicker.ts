import * as vscode from 'vscode';
import { DEVICE_TYPES, isDeviceString } from '../../server/src/device';

interface DeviceItem extends vscode.QuickPickItem {
  /** The device to return; absent for the item that explains an invalid entry. */
  device?: string;
}

function suggestedDevices(): DeviceItem[] {
  return [
    { label: 'cpu', device: 'cpu', description: vscode.l10n.t('CPU') },
    { label: 'cuda', device: 'cuda', description: vscode.l10n.t('Current CUDA device: torch.cuda.set_device chooses the card per process') },
    { label: 'cuda:0', device: 'cuda:0', description: vscode.l10n.t('First CUDA device, or the card torch.cuda.set_device chose') },
    { label: 'meta', device: 'meta', description: vscode.l10n.t('No data: for shape checks and tests') },
    { label: 'mps', device: 'mps', description: vscode.l10n.t('Apple Metal') },
  ];
}

/** Explains the accepted device forms, shown when the typed text is not a device. */
export function deviceFormsHelp(text: string): string {
  return vscode.l10n.t(
    '"{0}" is not a PyTorch device. Type a device type, optionally followed by ":" and an index, for example cpu, cuda, cuda:1, meta, mps or xpu:1. Device types: {1}.',
    text,
    DEVICE_TYPES.join(', '),
  );
}

/** Asks for a device in an input box that shows the accepted forms while the text is invalid. */
async function inputDevice(title: string, value: string): Promise<string | undefined> {
  const device = await vscode.window.showInputBox({
    title,
    value,
    prompt: vscode.l10n.t('Type a PyTorch device, for example cuda:1 or xpu'),
    validateInput: (text) => (isDeviceString(text.trim()) ? undefined : { message: deviceFormsHelp(text.trim()), severity: vscode.InputBoxValidationSeverity.Error }),
  });
  return device?.trim();
}

/**
 * Asks for a target device: the common devices, or any device typed in the box. Typed text
 * is checked with PyTorch's device grammar. Accepting an invalid entry opens an input box
 * that shows the accepted forms until the text is a device. Returns undefined when the user
 * cancels.
 */
export async function pickDevice(title: string, exclude: readonly string[] = []): Promise<string | undefined> {
  const picker = vscode.window.createQuickPick<DeviceItem>();
  picker.title = title;
  picker.placeholder = vscode.l10n.t('Choose a device or type one, for example cuda:1 or xpu');
  picker.matchOnDescription = true;

  const suggestions = suggestedDevices().filter((item) => !exclude.includes(item.device!));
  picker.items = suggestions;

  const updateItems = () => {
    const typed = picker.value.trim();
    if (typed === '' || suggestions.some((item) => item.device === typed)) {
      picker.items = suggestions;
      return;
    }
    const typedItem: DeviceItem = isDeviceString(typed)
      ? { label: typed, device: typed, description: vscode.l10n.t('Typed device') }
      : { label: `$(error) ${typed}`, description: vscode.l10n.t('Not a PyTorch device'), detail: vscode.l10n.t('Press Enter to see the accepted forms'), alwaysShow: true };
    picker.items = [typedItem, ...suggestions];
  };

  const choice = await new Promise<{ device?: string; invalid?: string }>((resolve) => {
    let result: { device?: string; invalid?: string } = {};
    picker.onDidChangeValue(updateItems);
    picker.onDidAccept(() => {
      const selected = picker.selectedItems[0];
      if (!selected) return;
      result = selected.device !== undefined ? { device: selected.device } : { invalid: picker.value.trim() };
      picker.hide();
    });
    picker.onDidHide(() => {
      picker.dispose();
      resolve(result);
    });
    picker.show();
  });

  if (choice.invalid !== undefined) return inputDevice(title, choice.invalid);
  return choice.device;
}
