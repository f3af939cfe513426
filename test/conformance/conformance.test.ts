/**
 * Conformance of the CLI against real PyTorch.
 *
 * For every archive of the generated corpus (generate_archives.py) and every real archive of
 * the shared fixtures (harness.ts, realFixturesDir), runs `node scripts/run-cli.mjs check FILE --json`
 * and `retarget FILE --device D -o OUT --json` as a user would. PyTorch 2.13 (oracle.py) then
 * checks that the findings cover every hard-coded device, and that each rewritten archive
 * loads, runs, contains only the target device and keeps PyTorch's zip layout.
 *
 * Needs .venv (scripts/setup-python.sh). The corpus is cached in .cache/conformance/<hash>
 * and the outputs of the last run stay in .cache/conformance/last-run-<pid>.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, test } from 'node:test';
import type { FileReport, Finding, FindingCode } from '../../server/src/analysis/types';
import {
  type CodeLiteral,
  type Corpus,
  type GroundTruth,
  type InspectReport,
  type ManifestArchive,
  type ProcessResult,
  type RunReport,
  type ZipcheckReport,
  parallelism,
  prepareCorpus,
  prepareRunDir,
  realFixtureFiles,
  repoRoot,
  runOracleJobs,
  runPool,
  runProcess,
} from './harness';

const CLI = path.join(repoRoot, 'scripts', 'run-cli.mjs');

const CODE_LITERAL_CODES: FindingCode[] = ['code-device-literal', 'code-device-two-argument'];
const CODE_CODES: FindingCode[] = [...CODE_LITERAL_CODES, 'code-device-from-attribute', 'code-device-move-by-name'];

/** Returns the finding code the engine gives a storage location in each pickle record. */
function storageCodeFor(record: string, kind: string): FindingCode {
  if (record === 'constants.pkl') return 'constant-storage-location';
  if (record === 'traced_inputs.pkl') return 'traced-input-storage-location';
  if (record === 'bytecode.pkl') return 'bytecode-storage-location';
  return kind === 'checkpoint' ? 'checkpoint-storage-location' : 'parameter-storage-location';
}

// ---------------------------------------------------------------------------
// Subjects and their results

interface Subject {
  /** `corpus/<name>` or `real/<file>`. */
  label: string;
  file: string;
  extension: string;
  kind: string;
  /** Set for archives of the generated corpus. */
  archive?: ManifestArchive;
  truth: GroundTruth;
  retargetDevices: string[];
}

interface CliRun {
  result: ProcessResult;
  json?: unknown;
  parseError?: string;
}

interface RetargetOutput {
  device: string;
  output: string;
  run: CliRun;
  inspect?: InspectReport;
  zipcheck?: ZipcheckReport;
  runOnCpu?: RunReport;
  runOnMeta?: RunReport;
  lite?: RunReport;
}

interface SubjectResults {
  check?: CliRun;
  checkExpectCuda?: CliRun;
  retargets: Map<string, RetargetOutput>;
}

interface RetargetJson {
  input: string;
  output: string;
  device: string;
  changes: { record: string; oldDevice: string; newDevice: string }[];
}

async function subjectsOf(corpus: Corpus, runDir: string): Promise<Subject[]> {
  const fromCorpus = corpus.manifest.archives.map((archive) => ({
    label: `corpus/${archive.name}`,
    file: path.join(corpus.dir, archive.file),
    extension: path.extname(archive.file),
    kind: archive.kind,
    archive,
    truth: archive.ground_truth,
    retargetDevices: archive.retarget_devices,
  }));

  const files = realFixtureFiles();
  const reports = await inspectRealFixtures(corpus, files, runDir);
  const real = files.map((file, index) => {
    const report = reports[index];
    if (!report.loads || Object.keys(report.pickle_errors ?? {}).length > 0) {
      throw new Error(`PyTorch cannot read the real archive ${file}: ${report.error ?? JSON.stringify(report.pickle_errors)}`);
    }
    // PyTorch 2.13 cannot load tensor constants on meta, and quantized packed parameters
    // rebuild their tensors at load time on the devices that their code names.
    const hasTensorConstants = (report.storage_locations?.['constants.pkl'] ?? []).length > 0;
    return {
      label: `real/${path.basename(file)}`,
      file,
      extension: path.extname(file),
      kind: report.kind ?? 'torchscript',
      truth: report as GroundTruth,
      retargetDevices: hasTensorConstants ? ['cpu', 'cuda'] : ['cpu', 'meta', 'cuda'],
    };
  });
  return [...fromCorpus, ...real];
}

/** Inspects the real archives with the oracle, caching the reports next to the corpus. */
async function inspectRealFixtures(corpus: Corpus, files: string[], runDir: string): Promise<InspectReport[]> {
  const hash = createHash('sha256');
  for (const file of files) hash.update(`${path.basename(file)} ${fs.statSync(file).size} ${fs.statSync(file).mtimeMs}\n`);
  const cacheFile = path.join(corpus.dir, `real-fixtures-${hash.digest('hex').slice(0, 16)}.json`);
  if (fs.existsSync(cacheFile)) return JSON.parse(fs.readFileSync(cacheFile, 'utf8')) as InspectReport[];

  const reports = (await runOracleJobs(
    files.map((file) => ['inspect', file, '--map-location', 'cpu']),
    runDir,
  )) as InspectReport[];
  fs.writeFileSync(cacheFile, JSON.stringify(reports));
  return reports;
}

async function runCli(args: string[]): Promise<CliRun> {
  const result = await runProcess(process.execPath, [CLI, ...args]);
  try {
    return { result, json: JSON.parse(result.stdout) as unknown };
  } catch (error) {
    return { result, parseError: (error as Error).message };
  }
}

function describeRun(run: CliRun): string {
  return `${run.result.command} exited ${run.result.status}; stdout: ${run.result.stdout.slice(0, 2000)}; stderr: ${run.result.stderr.slice(0, 2000)}`;
}

/** Fails unless the CLI printed `{"files": [report]}` for one file. Returns the report. */
function fileReportOf(run: CliRun): FileReport {
  assert.equal(run.parseError, undefined, `check did not print JSON: ${describeRun(run)}`);
  const files = (run.json as { files?: FileReport[] }).files;
  assert.ok(Array.isArray(files), `check JSON has no "files" array: ${describeRun(run)}`);
  assert.equal(files.length, 1, `check JSON lists ${files.length} files for one input`);
  return files[0];
}

async function runEverything(subjects: Subject[], runDir: string): Promise<Map<string, SubjectResults>> {
  // The first run builds dist/cli.js when it is stale. It runs alone so that parallel
  // runs do not all rebuild the bundle at once.
  const first = await runCli(['check', subjects[0].file, '--json']);
  if (first.parseError !== undefined && first.result.status === 2) {
    throw new Error(`the CLI failed before analysing anything: ${describeRun(first)}`);
  }

  const results = new Map<string, SubjectResults>();
  const tasks: (() => Promise<void>)[] = [];
  for (const subject of subjects) {
    const entry: SubjectResults = { retargets: new Map() };
    results.set(subject.label, entry);
    tasks.push(async () => {
      entry.check = await runCli(['check', subject.file, '--json']);
    });
    tasks.push(async () => {
      entry.checkExpectCuda = await runCli(['check', subject.file, '--json', '--expect', 'cuda']);
    });
    for (const device of subject.retargetDevices) {
      const output = path.join(runDir, `${subject.label.replace('/', '--')}.to-${device.replace(':', '-')}${subject.extension}`);
      tasks.push(async () => {
        const run = await runCli(['retarget', subject.file, '--device', device, '-o', output, '--json']);
        entry.retargets.set(device, { device, output, run });
      });
    }
  }
  await runPool(tasks, parallelism());

  // One oracle batch for everything PyTorch has to look at.
  const jobs: string[][] = [];
  const assign: ((report: unknown) => void)[] = [];
  function addJob(job: string[], apply: (report: unknown) => void): void {
    jobs.push(job);
    assign.push(apply);
  }

  for (const subject of subjects) {
    const entry = results.get(subject.label)!;
    for (const retarget of entry.retargets.values()) {
      if (retarget.run.result.status !== 0 || !fs.existsSync(retarget.output)) continue;
      const output = retarget.output;
      addJob(['inspect', output, '--map-location', 'cpu', '--print-graph'], (report) => {
        retarget.inspect = report as InspectReport;
      });
      addJob(['zipcheck', output, '--original', subject.file], (report) => {
        retarget.zipcheck = report as ZipcheckReport;
      });

      const archive = subject.archive;
      if (archive?.inputs === null || archive?.inputs === undefined) continue;
      const inputs = path.join(path.dirname(subject.file), archive.inputs);
      const expected = path.join(path.dirname(subject.file), archive.expected_outputs!);
      if (retarget.device === 'cpu' && archive.runs_on_cpu_after_retarget) {
        const job = ['run', output, '--device', 'cpu', '--inputs', inputs, '--expected', expected];
        if (archive.original.runs_on_cpu) job.push('--compare-with', subject.file);
        addJob(job, (report) => {
          retarget.runOnCpu = report as RunReport;
        });
      }
      if (retarget.device === 'cpu' && archive.lite_interpreter) {
        addJob(['lite', output, '--inputs', inputs, '--expected', expected, '--compare-with', subject.file], (report) => {
          retarget.lite = report as RunReport;
        });
      }
      if (retarget.device === 'meta' && archive.runs_on_meta_after_retarget) {
        addJob(['run', output, '--device', 'meta', '--inputs', inputs], (report) => {
          retarget.runOnMeta = report as RunReport;
        });
      }
    }
  }

  const reports = await runOracleJobs(jobs, runDir);
  reports.forEach((report, index) => assign[index](report));
  return results;
}

// ---------------------------------------------------------------------------
// Comparing multisets

/** Returns the items of `expected` that `actual` lacks, counting repeats. */
function missingItems(expected: string[], actual: string[]): string[] {
  const counts = new Map<string, number>();
  for (const item of actual) counts.set(item, (counts.get(item) ?? 0) + 1);
  const missing: string[] = [];
  for (const item of expected) {
    const count = counts.get(item) ?? 0;
    if (count > 0) counts.set(item, count - 1);
    else missing.push(item);
  }
  return missing;
}

/**
 * Tells whether a finding reports the literal at its line. A two-argument
 * `torch.device("cuda", 1)` may be reported as `cuda:1` or, following the Finding
 * type's documentation, as its type `cuda`.
 */
function literalMatches(finding: Finding, literal: CodeLiteral): boolean {
  if (finding.record !== literal.record || finding.range?.start.line !== literal.line) return false;
  if (!CODE_LITERAL_CODES.includes(finding.code)) return false;
  if (finding.device === literal.device) return true;
  return literal.form === 'two-argument' && finding.device === literal.device.split(':')[0];
}

function findingKey(finding: Finding): string {
  const line = finding.range === undefined ? '' : `:${finding.range.start.line}`;
  return `${finding.code} ${finding.record}${line} ${finding.device}`;
}

function hasRunnableForward(truth: GroundTruth): boolean {
  return truth.graph_devices !== undefined;
}

/**
 * Returns the storage locations `check` must report in a pickle record: each distinct
 * location once, as the engine reports one finding per device and record. A `cpu`
 * location is reported only for tensor constants, because module.to() moves
 * parameters, buffers and inputs loaded on the CPU but never moves tensor constants.
 */
function reportedLocations(record: string, locations: string[]): string[] {
  return [...new Set(locations)].filter((location) => record === 'constants.pkl' || location !== 'cpu');
}

/** Tells whether the ground truth contains a hard-coded device that `check` must report. */
function hasReportableDevice(truth: GroundTruth): boolean {
  const storages = Object.entries(truth.storage_locations).some(([record, locations]) => reportedLocations(record, locations).length > 0);
  const bytecodeDevices = (truth.pickle_devices['bytecode.pkl'] ?? []).length > 0;
  const attributes = truth.device_attributes.some((attribute) => attribute.used_as_device);
  return truth.code_device_literals.length > 0 || truth.code_moves_by_name.length > 0 || storages || bytecodeDevices || attributes;
}

/** Lists every device the ground truth pins that a retarget to `device` must rewrite. */
function pinnedDevicesOtherThan(truth: GroundTruth, device: string): string[] {
  const pinned = [
    ...truth.code_device_literals.map((literal) => `${literal.record}: ${literal.device}`),
    ...Object.entries(truth.storage_locations).flatMap(([record, locations]) => locations.map((location) => `${record}: ${location}`)),
    ...Object.entries(truth.pickle_devices).flatMap(([record, devices]) => devices.map((value) => `${record}: ${value}`)),
    ...truth.device_attributes.filter((attribute) => attribute.used_as_device).map((attribute) => `${attribute.path}: ${attribute.value}`),
  ];
  return pinned.filter((item) => !item.endsWith(`: ${device}`));
}

/** Tells whether the code creates tensors on another device than `device`, so the original cannot run there. */
function codePinsOtherThan(truth: GroundTruth, device: string): boolean {
  const literals = truth.code_device_literals.some((literal) => literal.device !== device);
  const calls = (truth.graph_device_calls ?? []).some((call) => call.device !== null && call.device !== device);
  const attributes = truth.device_attributes.some((attribute) => attribute.used_as_device && attribute.value !== device);
  return literals || calls || attributes || truth.code_moves_by_name.length > 0;
}

/** Lists the records a retarget to `device` may rewrite. Every other record must stay byte-identical. */
function recordsAllowedToChange(truth: GroundTruth, device: string): Set<string> {
  const allowed = new Set<string>(['.data/serialization_id']);
  for (const literal of truth.code_device_literals) {
    if (literal.device !== device) {
      allowed.add(literal.record);
      allowed.add(`${literal.record}.debug_pkl`);
    }
  }
  for (const [record, locations] of Object.entries(truth.storage_locations)) {
    if (locations.some((location) => location !== device)) allowed.add(record);
  }
  for (const [record, devices] of Object.entries(truth.pickle_devices)) {
    if (devices.some((value) => value !== device)) allowed.add(record);
  }
  for (const attribute of truth.device_attributes) {
    if (attribute.used_as_device && attribute.value !== device) allowed.add(attribute.record);
  }
  return allowed;
}

// ---------------------------------------------------------------------------
// Assertions shared by every subject

function assertCheckCoversGroundTruth(report: FileReport, truth: GroundTruth, kind: string): void {
  const findings = report.findings;
  const codeFindings = findings.filter((finding) => CODE_CODES.includes(finding.code));

  // Every torch.device literal in the code text, at its line.
  const unused = [...findings];
  const missingLiterals: string[] = [];
  for (const literal of truth.code_device_literals) {
    const index = unused.findIndex((finding) => literalMatches(finding, literal));
    if (index < 0) missingLiterals.push(`${literal.record}:${literal.line} ${literal.form} ${literal.device}`);
    else unused.splice(index, 1);
  }
  assert.deepEqual(missingLiterals, [], 'code device literals without a finding at their line');

  // Every Device constant PyTorch compiles from each code record.
  const missingConstants: string[] = [];
  for (const method of truth.method_graph_devices ?? []) {
    const reported = new Set(codeFindings.filter((finding) => finding.record === method.record).map((finding) => finding.device));
    for (const device of method.devices) {
      if (!reported.has(device)) missingConstants.push(`${method.class}.${method.method} (${method.record}): ${device}`);
    }
  }
  assert.deepEqual(missingConstants, [], 'Device constants of method graphs without a code finding in their record');

  const codeDevices = new Set(codeFindings.map((finding) => finding.device));
  const missingGraphDevices = [...new Set(truth.graph_devices ?? [])].filter((device) => !codeDevices.has(device));
  assert.deepEqual(missingGraphDevices, [], "Device constants of forward's inlined graph without a code finding");

  // torch.device("cuda", 1) with literal arguments, as PyTorch resolves it.
  const twoArgumentDevices = (truth.graph_device_calls ?? [])
    .filter((call) => call.source === 'literal' && call.arguments === 2)
    .map((call) => call.device!);
  const missingCalls = twoArgumentDevices.filter(
    (device) => !codeFindings.some((finding) => finding.device === device || finding.device === device.split(':')[0]),
  );
  assert.deepEqual(missingCalls, [], 'two-argument torch.device calls without a code finding');

  // .cuda() and .cpu(): reported, and not rewritable (the CLI's JSON may omit the field).
  const moves = findings.filter((finding) => finding.code === 'code-device-move-by-name');
  const missingMoves = missingItems(
    truth.code_moves_by_name.map((move) => `${move.record}:${move.line} ${move.op}`),
    moves.map((finding) => `${finding.record}:${finding.range?.start.line} ${finding.device}`),
  );
  assert.deepEqual(missingMoves, [], 'torch.cuda(x) / torch.cpu(x) calls without a code-device-move-by-name finding');
  for (const move of moves) assert.notEqual(move.rewritable, true, `${findingKey(move)} is marked rewritable`);

  // Storage locations, one finding per device and record.
  for (const [record, locations] of Object.entries(truth.storage_locations)) {
    const code = storageCodeFor(record, kind);
    const reported = new Set(findings.filter((finding) => finding.record === record && finding.code === code).map((finding) => finding.device));
    const missing = reportedLocations(record, locations).filter((location) => !reported.has(location));
    assert.deepEqual(missing, [], `storage locations in ${record} without a ${code} finding`);
  }

  // Device objects among the mobile bytecode constants.
  const bytecodeDevices = truth.pickle_devices['bytecode.pkl'] ?? [];
  const reportedBytecode = findings
    .filter((finding) => finding.record === 'bytecode.pkl' && finding.code === 'bytecode-device-constant')
    .map((finding) => finding.device);
  assert.deepEqual(missingItems(bytecodeDevices, reportedBytecode), [], 'bytecode.pkl device constants without a finding');

  // Device attributes and the str attributes that forward passes to torch.device.
  for (const attribute of truth.device_attributes.filter((item) => item.used_as_device)) {
    const code: FindingCode = attribute.type === 'Device' ? 'device-attribute' : 'device-string-attribute';
    const found = findings.some((finding) => finding.code === code && finding.record === attribute.record && finding.device === attribute.value);
    assert.ok(found, `attribute ${attribute.path} (${attribute.type} ${attribute.value}) has no ${code} finding`);
  }
  const attributeFindings = missingItems(
    truth.device_attributes.filter((item) => item.used_as_device).map((item) => item.value),
    findings.filter((finding) => finding.code === 'device-attribute' || finding.code === 'device-string-attribute').map((finding) => finding.device),
  );
  assert.deepEqual(attributeFindings, [], 'fewer attribute findings than device attributes');
}

function assertOnlyDevice(report: InspectReport, original: GroundTruth, device: string): void {
  assert.equal(report.loads, true, `PyTorch cannot load the retargeted archive: ${report.error}`);
  assert.deepEqual(report.pickle_errors ?? {}, {}, 'pickle records the oracle could not read');

  const wrong = (values: string[]): string[] => values.filter((value) => value !== device);
  if (hasRunnableForward(original)) {
    assert.deepEqual(wrong(report.graph_devices ?? []), [], `Device constants other than ${device} in the inlined graph`);
    const calls = (report.graph_device_calls ?? []).filter((call) => call.device !== null).map((call) => `${call.source} ${call.device}`);
    assert.deepEqual(calls.filter((call) => !call.endsWith(` ${device}`)), [], `torch.device calls resolving to another device than ${device}`);
  }
  for (const method of report.method_graph_devices ?? []) {
    assert.deepEqual(wrong(method.devices), [], `Device constants other than ${device} in ${method.class}.${method.method}`);
  }
  const literals = (report.code_device_literals ?? []).map((literal) => `${literal.record}:${literal.line} ${literal.device}`);
  assert.deepEqual(literals.filter((literal) => !literal.endsWith(` ${device}`)), [], `torch.device literals other than ${device} in the code`);

  for (const [record, locations] of Object.entries(report.storage_locations ?? {})) {
    assert.deepEqual(wrong(locations), [], `storage locations other than ${device} in ${record}`);
  }
  for (const [record, devices] of Object.entries(report.pickle_devices ?? {})) {
    assert.deepEqual(wrong(devices), [], `device objects other than ${device} in ${record}`);
  }

  const attributes = report.device_attributes ?? [];
  for (const before of original.device_attributes) {
    const after = attributes.find((attribute) => attribute.path === before.path && attribute.owner === before.owner);
    if (before.used_as_device) {
      assert.equal(after?.value, device, `attribute ${before.path} was ${before.value} and reads ${after?.value ?? '(missing)'}`);
    } else {
      assert.equal(after?.value, before.value, `str attribute ${before.path} is no device but changed from ${before.value}`);
    }
  }

  // A move by name cannot be rewritten, so it stays.
  assert.deepEqual(
    (report.code_moves_by_name ?? []).map((move) => `${move.record}:${move.line} ${move.op}`),
    original.code_moves_by_name.map((move) => `${move.record}:${move.line} ${move.op}`),
    'torch.cuda(x) / torch.cpu(x) calls changed',
  );
}

function assertZipLayout(zipcheck: ZipcheckReport, original: GroundTruth, device: string): void {
  assert.equal(zipcheck.error, undefined, `the zip cannot be read: ${zipcheck.error}`);
  assert.equal(zipcheck.crc_ok, true, `CRC mismatch in record ${zipcheck.bad_crc_record}`);
  assert.equal(zipcheck.single_top_folder, true, 'records are not all under one top folder');
  assert.deepEqual(zipcheck.misaligned, [], 'records whose data does not start at a multiple of 64 bytes');
  assert.deepEqual(zipcheck.only_in_original, [], 'records dropped by the retarget');
  assert.deepEqual(zipcheck.only_in_file, [], 'records added by the retarget');
  assert.deepEqual(zipcheck.records, zipcheck.original_records, 'record order differs from the original');

  const allowed = recordsAllowedToChange(original, device);
  const unexpected = (zipcheck.changed ?? []).filter((record) => !allowed.has(record));
  assert.deepEqual(unexpected, [], `records without a device other than ${device} are not byte-identical to the original`);
}

// ---------------------------------------------------------------------------
// Tests

describe('conformance with PyTorch', async () => {
  const corpus = await prepareCorpus();
  const runDir = prepareRunDir();
  const subjects = await subjectsOf(corpus, runDir);
  let results = new Map<string, SubjectResults>();

  before(async () => {
    results = await runEverything(subjects, runDir);
  });

  function resultsOf(subject: Subject): SubjectResults {
    const entry = results.get(subject.label);
    assert.ok(entry, `no CLI results for ${subject.label}`);
    return entry;
  }

  function checkRunOf(subject: Subject, option: 'plain' | 'expect-cuda'): CliRun {
    const entry = resultsOf(subject);
    const run = option === 'plain' ? entry.check : entry.checkExpectCuda;
    assert.ok(run, `check (${option}) did not run`);
    return run;
  }

  function retargetOf(subject: Subject, device: string): RetargetOutput {
    const retarget = resultsOf(subject).retargets.get(device);
    assert.ok(retarget, `retarget to ${device} did not run`);
    assert.equal(retarget.run.result.status, 0, `retarget failed: ${describeRun(retarget.run)}`);
    assert.ok(fs.existsSync(retarget.output), `retarget exited 0 but wrote no ${retarget.output}`);
    return retarget;
  }

  test('corpus built with torch 2.13', () => {
    assert.match(corpus.manifest.torch_version, /^2\.13\./);
    assert.ok(corpus.manifest.archives.length >= 15, `only ${corpus.manifest.archives.length} archives in the corpus`);
  });

  test('check exits 2 for unreadable files', async () => {
    const text = path.join(runDir, 'not-an-archive.pt');
    fs.writeFileSync(text, 'this is not a PyTorch archive\n');
    const classic = subjects.find((subject) => subject.label === 'corpus/classic-traced-cpu')!;
    const truncated = path.join(runDir, 'truncated.pt');
    const bytes = fs.readFileSync(classic.file);
    fs.writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));

    for (const file of [text, truncated]) {
      const run = await runCli(['check', file, '--json']);
      assert.equal(run.result.status, 2, `expected exit 2 for ${path.basename(file)}: ${describeRun(run)}`);
      const report = fileReportOf(run);
      assert.ok(report.error, `no error in the report for ${path.basename(file)}`);
      assert.deepEqual(report.findings, []);
    }

    const mixed = await runCli(['check', classic.file, text, '--json']);
    assert.equal(mixed.result.status, 2, `one unreadable file among several must give exit 2: ${describeRun(mixed)}`);
  });

  for (const subject of subjects) {
    describe(subject.label, () => {
      test('check reports no file error', () => {
        const report = fileReportOf(checkRunOf(subject, 'plain'));
        assert.equal(report.error, undefined, `check could not analyse the file: ${report.error}`);
      });

      test('check covers the ground truth', () => {
        const report = fileReportOf(checkRunOf(subject, 'plain'));
        assertCheckCoversGroundTruth(report, subject.truth, subject.kind);
      });

      test('check exit status', () => {
        const run = checkRunOf(subject, 'plain');
        const required = hasReportableDevice(subject.truth);
        assert.equal(run.result.status, required ? 1 : 0, `${required ? 'devices' : 'no device'} to report: ${describeRun(run)}`);
        if (!required) assert.deepEqual(fileReportOf(run).findings.map(findingKey), [], 'findings for a file without pinned devices');
      });

      test('check --expect cuda hides cuda only', () => {
        const all = fileReportOf(checkRunOf(subject, 'plain')).findings;
        const filtered = fileReportOf(checkRunOf(subject, 'expect-cuda')).findings;
        assert.deepEqual(filtered.filter((finding) => finding.device === 'cuda').map(findingKey), [], 'findings for cuda despite --expect cuda');
        assert.deepEqual(
          missingItems(all.filter((finding) => finding.device !== 'cuda').map(findingKey), filtered.map(findingKey)),
          [],
          'findings for other devices hidden by --expect cuda',
        );
      });

      for (const device of subject.retargetDevices) {
        describe(`retarget to ${device}`, () => {
          test('writes the output', () => {
            const retarget = retargetOf(subject, device);
            assert.equal(retarget.run.parseError, undefined, `retarget --json did not print JSON: ${describeRun(retarget.run)}`);
            const json = retarget.run.json as RetargetJson;
            assert.equal(path.resolve(repoRoot, json.output), retarget.output);
            assert.equal(json.device, device);
            assert.ok(Array.isArray(json.changes), 'retarget JSON has no "changes" array');
            assert.deepEqual(json.changes.filter((change) => change.newDevice !== device), [], `changes to another device than ${device}`);
            const pinned = pinnedDevicesOtherThan(subject.truth, device);
            if (pinned.length === 0) assert.deepEqual(json.changes, [], 'changes listed although every device already reads the target');
            else assert.ok(json.changes.length > 0, `no changes listed, but these devices differ from ${device}: ${pinned.join(', ')}`);
          });

          test(`PyTorch finds only ${device}`, () => {
            const retarget = retargetOf(subject, device);
            assert.ok(retarget.inspect, 'no oracle report for the output');
            assertOnlyDevice(retarget.inspect, subject.truth, device);
          });

          test('zip layout and unchanged records', () => {
            const retarget = retargetOf(subject, device);
            assert.ok(retarget.zipcheck, 'no zipcheck report for the output');
            assertZipLayout(retarget.zipcheck, subject.truth, device);
          });

          const archive = subject.archive;
          if (device === 'cpu' && archive?.runs_on_cpu_after_retarget) {
            test('runs on CPU with the expected outputs', () => {
              const run = retargetOf(subject, device).runOnCpu;
              assert.ok(run, 'no oracle run report');
              assert.equal(run.ok, true, `forward on CPU failed: ${run.error}`);
              if (archive.original.runs_on_cpu) {
                assert.equal(run.equal_to_original, true, 'outputs differ from the original archive on the same inputs');
              }
              assert.equal(run.allclose_to_expected, true, 'outputs differ from the expected outputs');
            });
          }

          if (device === 'cpu' && archive?.lite_interpreter) {
            test('runs in the lite interpreter', () => {
              const run = retargetOf(subject, device).lite;
              assert.ok(run, 'no oracle lite report');
              assert.equal(run.loads, true, `_load_for_lite_interpreter failed: ${run.error}`);
              assert.equal(run.ok, true, `forward in the lite interpreter failed: ${run.error}`);
              assert.equal(run.equal_to_original, true, 'outputs differ from the original archive');
            });
          }

          if (device === 'meta' && archive?.runs_on_meta_after_retarget) {
            test('runs on meta inputs', () => {
              if (codePinsOtherThan(archive.ground_truth, 'meta')) {
                assert.equal(archive.original.runs_on_meta, false, 'the original was expected to fail on meta inputs');
              }
              const run = retargetOf(subject, device).runOnMeta;
              assert.ok(run, 'no oracle run report');
              assert.equal(run.ok, true, `forward on meta failed: ${run.error}`);
              for (const output of run.outputs ?? []) {
                if (output.device !== undefined) assert.equal(output.device, 'meta');
              }
            });
          }

          if (device === 'cuda' && subject.label === 'corpus/classic-traced-cpu') {
            test('aten::ones reads cuda', () => {
              const report = retargetOf(subject, device).inspect;
              assert.ok(report, 'no oracle report for the output');
              const ones = (report.device_uses ?? []).filter((use) => use.op === 'aten::ones');
              assert.deepEqual(ones.map((use) => use.device), ['cuda'], 'device argument of aten::ones in the inlined graph');
              assert.match((report as { graph?: string }).graph ?? '', /Device = prim::Constant\[value="cuda"\]/);
            });
          }
        });
      }
    });
  }
});
