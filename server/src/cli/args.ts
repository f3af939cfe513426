/** Command-line parsing for the `torchscript-device` CLI. */
import { deviceSyntaxHelp, parseDevice } from '../device';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type CliCommand =
  | { command: 'check'; files: string[]; json: boolean; expect?: string }
  | { command: 'retarget'; file: string; device: string; output?: string; inPlace: boolean; force: boolean; json: boolean }
  | { command: 'graph'; file: string; format: 'text' | 'json' | 'dot' }
  | { command: 'help' }
  | { command: 'version' };

export const USAGE = `Usage:
  torchscript-device check FILE... [--json] [--expect DEVICE]
      Report every hard-coded device in TorchScript archives.
      --expect DEVICE  report only devices that differ from DEVICE (for example cuda)
      --json           print one JSON document instead of text
      Exit status: 0 nothing reported, 1 devices reported, 2 a file could not be analysed.

  torchscript-device retarget FILE --device DEVICE [-o OUT] [--in-place] [--force] [--json]
      Write a copy of FILE whose hard-coded devices all read DEVICE.
      --device DEVICE  target device: cpu, cuda, cuda:0, meta, mps, xpu:1, ...
      -o, --output OUT output file (default: FILE's name with the device before the extension)
      --in-place       replace FILE atomically instead of writing a new file
      --force          overwrite OUT if it exists
      --json           print the list of changes as JSON
      Exit status: 0 written, 2 failed (the input is never modified on failure).

  torchscript-device graph FILE [--json | --dot]
      Print the dataflow graph of the model's forward method.

  torchscript-device --help | --version`;

/** Parses argv (without the node and script paths) into a command, or throws UsageError. */
export function parseArgs(argv: string[]): CliCommand {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') return { command: 'help' };
  if (argv[0] === '--version' || argv[0] === '-V') return { command: 'version' };

  const [command, ...rest] = argv;
  const flags = new Map<string, string | true>();
  const positional: string[] = [];
  const valueFlags = new Set(['--expect', '--device', '--output', '-o']);
  const booleanFlags = new Set(['--json', '--dot', '--in-place', '--force']);

  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (arg === '--') {
      positional.push(...rest.slice(i + 1));
      break;
    }
    const equals = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = equals > 0 ? arg.slice(0, equals) : arg;
    if (valueFlags.has(name)) {
      const value = equals > 0 ? arg.slice(equals + 1) : rest[++i];
      if (value === undefined || value === '') throw new UsageError(`option ${name} needs a value`);
      flags.set(name === '-o' ? '--output' : name, value);
    } else if (booleanFlags.has(name)) {
      flags.set(name, true);
    } else if (arg.startsWith('-') && arg !== '-') {
      throw new UsageError(`unknown option ${arg}`);
    } else {
      positional.push(arg);
    }
  }

  const allowed: Record<string, string[]> = {
    check: ['--json', '--expect'],
    retarget: ['--device', '--output', '--in-place', '--force', '--json'],
    graph: ['--json', '--dot'],
  };
  if (!(command in allowed)) throw new UsageError(`unknown command "${command}"; expected check, retarget or graph`);
  for (const flag of flags.keys()) {
    if (!allowed[command].includes(flag)) throw new UsageError(`option ${flag} does not apply to ${command}`);
  }

  switch (command) {
    case 'check':
      if (positional.length === 0) throw new UsageError('check needs at least one FILE');
      checkDevice(flags.get('--expect'));
      return { command, files: positional, json: flags.has('--json'), expect: flags.get('--expect') as string | undefined };
    case 'retarget': {
      if (positional.length !== 1) throw new UsageError('retarget takes exactly one FILE');
      const device = flags.get('--device');
      if (typeof device !== 'string') throw new UsageError('retarget needs --device DEVICE (for example --device cuda)');
      checkDevice(device);
      if (flags.has('--in-place') && flags.has('--output')) throw new UsageError('--in-place and --output cannot be combined');
      return {
        command,
        file: positional[0],
        device,
        output: flags.get('--output') as string | undefined,
        inPlace: flags.has('--in-place'),
        force: flags.has('--force'),
        json: flags.has('--json'),
      };
    }
    default: {
      if (positional.length !== 1) throw new UsageError('graph takes exactly one FILE');
      if (flags.has('--json') && flags.has('--dot')) throw new UsageError('choose one of --json and --dot');
      const format = flags.has('--json') ? 'json' : flags.has('--dot') ? 'dot' : 'text';
      return { command: 'graph', file: positional[0], format };
    }
  }
}

function checkDevice(device: string | true | undefined): void {
  if (typeof device === 'string' && !parseDevice(device)) throw new UsageError(deviceSyntaxHelp(device));
}
