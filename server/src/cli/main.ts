/** The `torchscript-device` command line: check, retarget and graph, over the same engine as the language server. */
import { analyzeFile, buildGraph, retargetFile } from '../engine';
import { EngineError } from '../errors';
import { graphToDot } from '../graph/graphDot';
import { parseArgs, USAGE, UsageError, type CliCommand } from './args';
import { checkJson, checkText, graphText, retargetText } from './format';

/** Exit statuses: 0 clean, 1 devices reported, 2 a file could not be analysed or written. */
const EXIT_CLEAN = 0;
const EXIT_FINDINGS = 1;
const EXIT_FAILED = 2;

async function run(command: CliCommand): Promise<number> {
  switch (command.command) {
    case 'help':
      process.stdout.write(`${USAGE}\n`);
      return EXIT_CLEAN;
    case 'version':
      process.stdout.write(`${VERSION}\n`);
      return EXIT_CLEAN;
    case 'check': {
      const reports = [];
      for (const file of command.files) reports.push(await analyzeFile(file, { expectedDevice: command.expect }));
      process.stdout.write(`${command.json ? checkJson(reports) : checkText(reports)}\n`);
      if (reports.some((report) => report.error !== undefined)) return EXIT_FAILED;
      return reports.some((report) => report.findings.length > 0) ? EXIT_FINDINGS : EXIT_CLEAN;
    }
    case 'retarget': {
      const controller = new AbortController();
      const result = await retargetFile(command.file, command.device, {
        output: command.output,
        inPlace: command.inPlace,
        force: command.force,
        signal: controller.signal,
      });
      process.stdout.write(`${command.json ? JSON.stringify(result, null, 2) : retargetText(result)}\n`);
      return EXIT_CLEAN;
    }
    case 'graph': {
      const graph = await buildGraph(command.file);
      const text = command.format === 'json' ? JSON.stringify(graph, null, 2) : command.format === 'dot' ? graphToDot(graph) : graphText(graph);
      process.stdout.write(`${text}\n`);
      return EXIT_CLEAN;
    }
  }
}

declare const __VERSION__: string | undefined;
const VERSION = typeof __VERSION__ === 'string' ? __VERSION__ : 'development';

async function main(): Promise<void> {
  // An interrupt exits through process.exit, so the engine's exit handler removes any partial output.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => process.exit(signal === 'SIGINT' ? 130 : 143));
  }

  let status: number;
  let command: CliCommand | undefined;
  try {
    command = parseArgs(process.argv.slice(2));
    status = await run(command);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`torchscript-device: ${error.message}\nRun "torchscript-device --help" for the usage.\n`);
      status = EXIT_FAILED;
    } else if (error instanceof EngineError) {
      process.stderr.write(`torchscript-device: ${error.message}\n`);
      // A --json caller reads stdout, so the error goes there as a document too.
      if (command && 'json' in command && command.json) process.stdout.write(`${JSON.stringify({ error: error.message, file: error.file, record: error.record }, null, 2)}\n`);
      status = EXIT_FAILED;
    } else {
      process.stderr.write(`torchscript-device: internal error: ${(error as Error)?.stack ?? String(error)}\nPlease report this with the command and the model file.\n`);
      status = EXIT_FAILED;
    }
  }
  process.exitCode = status;
}

void main();
