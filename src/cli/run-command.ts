import { Command, InvalidArgumentError, Option } from 'commander';
import { BackendUnavailableError, skippedBefore, startBackend } from '../backend/select.ts';
import { backendLine } from './backend-line.ts';
import { checkClaimData, ensureDatasets, skippedSummary, type SkippedClaim } from '../claims/datasets.ts';
import { findSpecs, loadAllSpecs } from '../claims/load.ts';
import { parseOverride, type Override } from '../claims/overrides.ts';
import { checkpointDir, checkRecordOnDisk, runClaim } from '../claims/runner.ts';
import { checkResumeCheckpoints } from '../claims/checkpoints.ts';
import { loadDataset } from '../data/registry.ts';
import { sourceFor } from '../data/mirror.ts';
import { BACKEND_NAMES, TIERS, type BackendName, type DatasetName, type Tier } from '../spec/names.ts';
import { dryRun, formatDryRun } from '../bench/dry-run.ts';
import { planClaims, planJobs, type ClaimsPlan, type PlannedClaim } from '../claims/plan.ts';
import { wasmRate } from '../bench/wasm-estimate.ts';
import { checkCheckpoints } from '../train/checkpoint.ts';
import { createProgress } from './progress.ts';
import { TEMP_SUFFIX, writeFileAtomic } from '../util/atomic-write.ts';
import { readRecord, recordPath, type ResultRecord } from '../results/record.ts';
import type { LoadedSpec } from '../claims/spec.ts';
import { ipcProgress, JOB_IPC_ENV, jobDisplay, resolveJobs, runJobs, type Job } from './jobs.ts';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { downloadProgress } from './download-progress.ts';
import { Interrupted } from '../train/errors.ts';
import { LockWaitAborted } from '../util/lock.ts';
import { oneSeed, seedList } from './seed-options.ts';
import { saveModelsTo } from './save-models.ts';
import { pathOption } from './path-option.ts';
import { checkWritableDir } from '../util/write-check.ts';
import { asExpected } from '../results/as-expected.ts';
import { SETTINGS } from '../util/env.ts';
import { claimLines, closingSummary, outcomeOf, resumeHint, type RunContext, type RunTally } from './summary.ts';

function collectOverride(value: string, previous: Override[]): Override[] {
  try {
    return [...previous, parseOverride(value)];
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a positive integer');
  return n;
}

function jobsValue(value: string): number | 'auto' {
  if (value === 'auto') return 'auto';
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a positive integer, or auto (one per core)');
  return n;
}

export function runCommand(): Command {
  return new Command('run')
    .description('run claims (all when none is named) and compare each verdict with the spec\'s expected one')
    .argument('[claims...]', 'claim ids (see `label-leak list`)')
    .addOption(new Option('--tier <tier>', 'spec parameters to use').choices(TIERS).default('fast'))
    .addOption(
      new Option('--backend <name>', 'tfjs backend').choices(BACKEND_NAMES).default('auto'),
    )
    .addOption(new Option('--seeds <list>', 'override the spec\'s seeds, e.g. 1,2,3').argParser(seedList).conflicts('seed'))
    .addOption(new Option('--seed <n>', 'run one seed only (one job of a GPU matrix)').argParser(oneSeed))
    .option('--claims <dir>', 'folder of claim specs', pathOption, 'claims')
    .option('--data-dir <dir>', `where datasets live and missing ones are downloaded to (else $${SETTINGS.dataDir.name}, else the cache folder)`, pathOption)
    .option('--offline', `never download: claims whose data is missing are skipped (also ${SETTINGS.offline.name}=1)`, false)
    .option('--results <dir>', 'where result records and checkpoints go', pathOption, 'results')
    .option('--resume', 're-use finished seeds and continue interrupted ones from their checkpoints', false)
    .option('--checkpoint-every <steps>', 'training steps between checkpoints', positiveInt, 200)
    .option('--threads <n>', 'wasm threads (per process, with --jobs)', positiveInt)
    .option(
      '--set <path=value>',
      'change one tier parameter for this run, e.g. --set training.epochs=5 (repeatable; recorded in the result)',
      collectOverride,
      [] as Override[],
    )
    .option('--jobs <n|auto>', 'run the jobs (claims of one seed that share a trained model together, as --dry-run prints them) as N processes at once, each with its own backend; auto (the default): one per core (cores ÷ --threads); 1: every claim in this one process', jobsValue)
    .option('--save-models <dir>', 'also save every trained model as a tfjs layers model (for `label-leak audit`) under <dir>/<tier>/<claim>/seed-<n>/', pathOption)
    .option('--verbose', 'also say why auto skipped the better backends (what to install)', false)
    .option('--json', 'print the result records as JSON instead of a summary', false)
    .option('--dry-run', 'print the jobs, their kernel counts and the estimated GPU wall time; train nothing', false)
    .action(async (ids: string[], o: RunOptions) => {
      const started = performance.now();
      const plan = planOf(ids, o);
      if (o.dryRun) return printDryRun(plan, o);
      const ctx: RunContext = { tier: o.tier, oneSeed: o.seed, overrides: o.set.map((s) => s.text) };
      const tally: RunTally = { finished: [], skipped: plan.lacking.map((s) => s.id) };
      // The closing summary goes where the per-claim lines go; with --json stdout is the JSON alone.
      const closing = () => {
        const lines = closingSummary(tally, { ...ctx, wallSeconds: (performance.now() - started) / 1000, resultsDir: o.results });
        (o.json ? console.error : console.log)(lines.join('\n'));
      };
      const ready = await prepareRun(plan, o);
      const summary = skippedSummary(ready.skipped);
      tally.skipped.push(...ready.skipped.map((s) => s.claim));
      if (ready.runnable.length === 0) {
        console.error(summary.join('\n'));
        closing();
        process.exitCode = 2;
        return;
      }
      const signal = stopOnSignals();
      const report = reporter(o, ctx, tally);

      // Both cores by default: one process per job, as many at once as the cores take. One job
      // (a single claim and seed, a GPU matrix entry) or --jobs 1 runs here, in this process.
      const parallel = resolveJobs(o.jobs ?? 'auto', o.threads);
      const jobs = parallel > 1 ? jobsOf(ready.runnable) : [];
      if (jobs.length > 1) {
        const code = await runAsJobs(jobs, parallel, ready.runnable, o, signal, report);
        if (summary.length > 0) console.error(summary.join('\n'));
        tally.unfinished = ready.runnable.map((x) => x.spec.id).filter((id) => !tally.finished.some((f) => f.id === id));
        if (code !== 130) closing();
        process.exitCode = code === 0 && ready.skipped.length > 0 ? 2 : code;
        return;
      }
      const mismatches = await runHere(ready.runnable, o, signal, report);
      if (summary.length > 0) console.error(summary.join('\n'));
      closing();
      // A skipped claim was not checked at all: scripts must notice (2) even when the rest agree.
      const code = ready.skipped.length > 0 ? 2 : mismatches > 0 ? 1 : 0;
      // The threaded wasm build's worker threads keep the event loop alive after the last
      // claim, so the process would never end: leave with the verdict's code once the output is out.
      await new Promise<void>((resolve) => process.stdout.write('', () => process.stderr.write('', () => resolve())));
      process.exit(code);
    });
}

/** `run`'s options as commander parses them. */
interface RunOptions {
  tier: Tier;
  backend: BackendName;
  seeds?: number[];
  seed?: number[];
  claims: string;
  dataDir?: string;
  offline: boolean;
  results: string;
  resume: boolean;
  checkpointEvery: number;
  threads?: number;
  set: Override[];
  jobs?: number | 'auto';
  saveModels?: string;
  json: boolean;
  verbose: boolean;
  dryRun: boolean;
}

/** The named claims (all when none is) as planClaims resolves them: tier, --set overrides, seeds. */
function planOf(ids: string[], o: RunOptions): ClaimsPlan {
  const all = ids.length > 0 ? findSpecs(ids, o.claims) : loadAllSpecs(o.claims);
  // Only some claims have some tiers (gpu: the CIFAR-10 claims). Named ones must have it;
  // of all claims, those without it are skipped by name.
  const plan = planClaims(all, {
    tier: o.tier,
    overrides: o.set,
    seeds: o.seed ?? o.seeds,
    named: ids.length > 0 ? { folder: () => loadAllSpecs(o.claims) } : undefined,
  });
  if (plan.lacking.length > 0) console.error(`skipped (no ${o.tier} tier): ${plan.lacking.map((s) => s.id).join(', ')}`);
  return plan;
}

/** `--dry-run`: the jobs, their kernel counts, this machine's wasm time when wasm would run, and GPU estimates; trains nothing. */
async function printDryRun(claims: ClaimsPlan, o: RunOptions): Promise<void> {
  // Kernels are counted on webgpu where it starts (SwiftShader counts what a GPU would
  // dispatch), else on cpu: no data, no training.
  const counter = await startBackend('webgpu', { allowSoftware: true }).catch(async (e: unknown) => {
    if (!(e instanceof BackendUnavailableError)) throw e;
    return startBackend('cpu');
  });
  const plan = await dryRun(claims);
  // Without a GPU adapter the run itself trains on wasm: say how long that takes here, first.
  const onWasm = o.backend === 'wasm' || (o.backend === 'auto' && !(counter.name === 'webgpu' && !/software adapter/.test(counter.device)));
  const benchDir = join('results', 'bench');
  const wasm = onWasm ? { rate: await wasmRate(benchDir), parallel: resolveJobs(o.jobs ?? 'auto', o.threads), benchDir } : undefined;
  console.log(formatDryRun(plan, o.jobs === undefined ? [1, 4, 8, plan.jobs.length] : [resolveJobs(o.jobs, o.threads)], wasm));
}

/**
 * Before the backend starts: fetch what is missing (what cannot be had skips its claims
 * only); then fail when data is damaged or too small for a subset asked for, or a
 * checkpoint --resume would load is damaged: each throws the error that names the file
 * or parameter and the fix (exit 2). Nothing runnable: the caller says so and exits 2.
 */
async function prepareRun(plan: ClaimsPlan, o: RunOptions): Promise<{ runnable: PlannedClaim[]; skipped: SkippedClaim[] }> {
  // A results folder that cannot take a file (read-only, full, a file) fails now, not after a seed.
  checkWritable(o.results, o.tier);
  if (o.saveModels) checkWritableDir(join(o.saveModels, o.tier), '--save-models');
  const downloads = downloadProgress(process.stderr);
  const data = await ensureDatasets(plan.claims.map((c) => c.spec), o.tier, {
    dataDir: o.dataDir,
    offline: o.offline,
    log: (line) => console.error(line),
    fetchOptions: { onProgress: downloads.onProgress, onNotice: downloads.onNotice },
    afterEach: () => downloads.stop(),
  });
  if (data.runnable.length === 0) return { runnable: [], skipped: data.skipped };
  await checkClaimData(data.runnable, o.tier, o.dataDir);
  const runnable = plan.claims.filter((c) => data.runnable.includes(c.spec));
  // What runClaim (or, with --jobs, every child) would refuse on reading a record or a
  // checkpoint is refused here, once, before any backend or child starts.
  for (const { spec } of runnable) checkRecordOnDisk(spec, { tier: o.tier, resultsDir: o.results, resume: o.resume, overrides: o.set.map((s: Override) => s.text) });
  if (o.resume) {
    const load = (name: DatasetName) => loadDataset(name, { dataDir: o.dataDir, source: sourceFor(name) });
    for (const { spec, seeds } of runnable) {
      for (const seed of seeds) checkCheckpoints(checkpointDir(o.results, o.tier, spec.id, seed));
      await checkResumeCheckpoints(spec, o.tier, o.results, seeds, o.backend, load);
    }
  }
  return { runnable, skipped: data.skipped };
}

/** First signal: finish cleanly with a checkpoint; a second one: leave at once. */
function stopOnSignals(): AbortSignal {
  const controller = new AbortController();
  const stop = (sig: string) => {
    if (controller.signal.aborted) process.exit(130);
    console.error(`\n${sig}: writing a checkpoint, then stopping (again to quit at once)`);
    controller.abort();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  return controller.signal;
}

type Report = (spec: LoadedSpec, record: ResultRecord) => boolean;

/** Prints a record (unless --json), counts it for the closing summary and says whether it came out as expected. */
function reporter(o: RunOptions, ctx: RunContext, tally: RunTally): Report {
  return (spec, record) => {
    // One seed of a job matrix cannot reach a verdict on its own (the report merges the
    // seeds): only its own seeds' errors count against it.
    const ok = o.seed
      ? record.outcomes.filter((x) => o.seed!.includes(x.seed)).every((x) => x.status === 'ok')
      : asExpected(record);
    if (!o.json) printRecord(spec, record, ctx);
    // One seed: whether it ran is all it can say; the record's verdict covers other jobs' seeds too.
    tally.finished.push({ id: spec.id, outcome: o.seed ? (ok ? 'as expected' : 'error') : outcomeOf(record) });
    return ok;
  };
}

/** Every claim in this process, one after another, on one backend; returns how many were not as expected. */
async function runHere(claims: PlannedClaim[], o: RunOptions, signal: AbortSignal, report: Report): Promise<number> {
  const backend = await startBackend(o.backend, { threads: o.threads });
  if (!o.json) console.error(backendLine(backend, skippedBefore(backend), o.verbose));
  // A job of `run --jobs`: progress goes to the parent, which draws it with the others'.
  const ipc = process.env[JOB_IPC_ENV] && process.send ? process.send.bind(process) : undefined;
  process.channel?.unref();
  const progress = ipc ? ipcProgress((m) => ipc(m)) : createProgress(process.stderr);

  const records = [];
  let mismatches = 0;
  for (const { spec, seeds } of claims) {
    try {
      const record = await runClaim(spec, {
        tier: o.tier,
        seeds,
        backend,
        dataDir: o.dataDir,
        resultsDir: o.results,
        resume: o.resume,
        checkpointEvery: o.checkpointEvery,
        overrides: o.set.map((s: Override) => s.text),
        progress,
        signal,
        onTrained: o.saveModels ? saveModelsTo(o.saveModels, (line) => console.error(line)) : undefined,
      });
      records.push(record);
      if (!report(spec, record)) mismatches++;
    } catch (err) {
      if (err instanceof Interrupted || err instanceof LockWaitAborted) {
        console.error(err instanceof Interrupted && !ipc ? resumeHint(process.argv.slice(2), o.results) : err.message);
        process.exit(130);
      }
      throw err;
    }
  }
  if (o.json) console.log(JSON.stringify(records, null, 2));
  return mismatches;
}

function printRecord(spec: LoadedSpec, record: ResultRecord, ctx: RunContext): void {
  for (const line of claimLines(spec.id, record, ctx)) console.log(line);
}

/** The results folder must take a file before any training: a read-only or full one fails now, not after the first seed. */
function checkWritable(results: string, tier: string): void {
  const probe = join(results, tier, `.write-probe-${process.pid}${TEMP_SUFFIX}`);
  writeFileAtomic(probe, 'probe\n');
  rmSync(probe, { force: true });
}

/** The jobs of `planJobs` (what `--dry-run` prints): the claims of one seed that share a trained model go together. */
function jobsOf(claims: PlannedClaim[]): Job[] {
  // A kind that cannot say what it trains shares nothing: its claim runs alone per seed.
  const planned = claims.map((c) => ({ id: c.spec.id, trainings: c.spec.kind.trainings?.(c.tier.params) ?? [] }));
  const seeds = new Map(claims.map((c) => [c.spec.id, c.seeds]));
  return planJobs(planned, (id) => seeds.get(id)!).map((j) => ({ claims: j.claims, seeds: [j.seed] }));
}

/**
 * `--jobs N` (default: one per core): the jobs, each a `label-leak run <claim>… --seed <s>
 * --jobs 1` process with this run's options: the claims of one seed that share a trained
 * model run in one process, whose trained-model cache trains that model once. The children
 * merge their seeds into the shared records (under the record lock), so when they are done
 * the records on disk are this run's result.
 */
async function runAsJobs(
  jobs: Job[],
  parallel: number,
  claims: PlannedClaim[],
  o: RunOptions,
  signal: AbortSignal,
  report: Report,
): Promise<number> {
  const shared = [
    // A child is one job: it must not split itself again.
    '--jobs', '1',
    '--tier', o.tier, '--backend', o.backend, '--claims', o.claims, '--results', o.results,
    '--checkpoint-every', String(o.checkpointEvery),
    ...(o.dataDir ? ['--data-dir', o.dataDir] : []),
    ...(o.resume ? ['--resume'] : []),
    ...(o.offline ? ['--offline'] : []),
    ...(o.saveModels ? ['--save-models', o.saveModels] : []),
    ...(o.threads ? ['--threads', String(o.threads)] : []),
    ...(o.verbose ? ['--verbose'] : []),
    ...o.set.flatMap((s: Override) => ['--set', s.text]),
  ];
  if (!o.json) console.error(`${jobs.length} job${jobs.length === 1 ? '' : 's'} (claim × seed; claims sharing a trained model together), ${Math.min(parallel, jobs.length)} at a time, each its own process and backend`);
  const results = await runJobs({
    jobs,
    parallel,
    argsFor: (j) => [...j.claims, '--seed', String(j.seeds[0]), ...shared],
    display: jobDisplay(process.stderr, jobs.length),
    signal,
  });
  for (const r of results) {
    if (r.code === 0 || r.code === 1) continue;
    const tail = r.stderr.trim().split('\n').filter((l) => !/^\s*$/.test(l)).slice(-3).join('\n    ');
    console.error(`${r.job.claims.join(' + ')} seed ${r.job.seeds.join(',')}: exit ${r.code ?? r.signal}${tail ? `\n    ${tail}` : ''}`);
  }
  if (signal.aborted || results.some((r) => r.code === 130 || r.signal !== null)) {
    console.error(resumeHint(process.argv.slice(2), o.results));
    return 130;
  }
  const usage = results.some((r) => r.code === 2);
  let mismatches = 0;
  const records: ResultRecord[] = [];
  for (const { spec } of claims) {
    const file = recordPath(o.results, o.tier, spec.id);
    if (!existsSync(file)) continue;
    const record = readRecord(file);
    records.push(record);
    if (!report(spec, record)) mismatches++;
  }
  if (o.json) console.log(JSON.stringify(records, null, 2));
  return usage ? 2 : mismatches > 0 ? 1 : 0;
}
