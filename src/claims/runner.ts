import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { removeEmptyCheckpointFolders } from './checkpoint-folders.ts';
import { dirname, join } from 'node:path';
import type { BackendInfo } from '../backend/info.ts';
import type { Curves, SeedOutcome, TrainedModelInfo } from '../experiments/types.ts';
import type { Classifier } from '../models/types.ts';
import { collectEnvironment } from '../results/environment.ts';
import { describeDataUsed } from '../data/provenance.ts';
import { dataDiffers } from '../results/oracle.ts';
import { readRecord, recordPath, writeRecord, RECORD_FORMAT, type DataUsed, type Environment, type ResultRecord, type SeedResult, type StoredPoint } from '../results/record.ts';
import { Interrupted } from '../train/errors.ts';
import type { ProgressSink } from '../train/progress.ts';
import { assess } from './assess.ts';
import { claimChecks } from './checks.ts';
import { canonicalJson, contentHash } from './hash.ts';
import { datasetsOf } from './datasets.ts';
import { checkLockPath, withLock } from '../util/lock.ts';
import { WriteError } from '../util/write-error.ts';
import { requireTier, type Assertion, type PlainPrecondition } from '../spec/claim.ts';
import type { Tier } from '../spec/names.ts';
import type { LoadedSpec } from './spec.ts';

export interface RunClaimOptions {
  tier: Tier;
  /** Overrides the tier's seeds (e.g. one seed per job of a GPU matrix). */
  seeds?: number[];
  backend: BackendInfo;
  dataDir?: string;
  resultsDir: string;
  /** Re-use finished seeds of an earlier record of the same spec version and params, and resume checkpoints. */
  resume: boolean;
  progress: ProgressSink;
  signal?: AbortSignal;
  /** `--set` overrides already applied to the spec, kept in the record. */
  overrides?: string[];
  /** Training steps between checkpoints, handed to the experiment. */
  checkpointEvery?: number;
  /** Called with every model a seed trains, with the claim, tier and seed it belongs to. */
  onTrained?: (model: Classifier, info: TrainedModelInfo & { claim: string; tier: Tier; seed: number }) => Promise<void>;
  /** One-line notices (a record set aside, a seed another process runs); default: stderr. */
  notice?: (line: string) => void;
  /** Injected by tests; gathered from the machine otherwise. */
  environment?: Environment;
  now?: () => Date;
}

/** `--resume` found a record it must not mix with this run. The CLI exits 2 on it. */
export class ResumeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ResumeError';
  }
}

export function checkpointDir(resultsDir: string, tier: Tier, claimId: string, seed: number): string {
  return join(resultsDir, 'checkpoints', tier, claimId, `seed-${seed}`);
}

/** Curves as stored: JSON has no NaN or Infinity, so a diverged value is kept as null. */
function storeCurves(curves: Curves): Record<string, StoredPoint[]> {
  const out: Record<string, StoredPoint[]> = {};
  for (const [name, points] of Object.entries(curves)) {
    if (!points) continue;
    out[name] = points.map((p) =>
      Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined).map(([k, v]) => [k, Number.isFinite(v) ? (v as number) : null])),
    );
  }
  return out;
}

/** Why an outcome cannot count: a non-finite metric, or an asserted metric it did not produce. */
function outcomeProblem(outcome: SeedOutcome, needed: string[]): { name: string; message: string } | undefined {
  const bad = Object.entries(outcome.metrics).filter(([, v]) => !Number.isFinite(v));
  if (bad.length > 0) return { name: 'NonFiniteError', message: `non-finite metrics: ${bad.map(([k, v]) => `${k}=${v}`).join(', ')}` };
  const missing = needed.filter((m) => !(m in outcome.metrics));
  if (missing.length > 0) return { name: 'MissingMetricError', message: `the experiment did not report asserted metrics: ${missing.join(', ')}` };
  return undefined;
}

function labelled(progress: ProgressSink, prefix: string): ProgressSink {
  return {
    start: (label, total) => progress.start(`${prefix} ${label}`, total),
    tick: (done, info) => progress.tick(done, info),
    stop: () => progress.stop(),
  };
}

/** Earlier outcomes `--resume` may keep, or a ResumeError saying why the record cannot be mixed with this run. */

/** What a record on disk is to this run: absent, one it can merge with, or one made by other settings. */
type OnDisk = { kind: 'none' } | { kind: 'same'; record: ResultRecord } | { kind: 'other'; record: ResultRecord; why: string };

function onDisk(file: string, spec: LoadedSpec, tier: Tier, paramsHash: string, overrides: string[], data: DataUsed[] | undefined): OnDisk {
  if (!existsSync(file)) return { kind: 'none' };
  const old = readRecord(file);
  if (old.claim.id !== spec.id || old.tier !== tier) throw new ResumeError(`${file} holds ${old.claim.id} [${old.tier}], not ${spec.id} [${tier}]; move it away`);
  if (old.claim.version !== spec.version) {
    return {
      kind: 'other',
      record: old,
      why: `was made by version ${old.claim.version} of spec ${spec.id}, which is now version ${spec.version}; its seeds cannot be resumed — run without --resume (the old record is then moved to ${tier}/superseded/)`,
    };
  }
  if (old.paramsHash !== paramsHash) {
    const was = old.overrides ?? [];
    const sets = (list: string[]) => (list.length > 0 ? list.map((o) => `--set ${o}`).join(' ') : 'no --set');
    // An override is this run's choice, not the spec's: the fix is to repeat it, not to bump the version.
    const why =
      canonicalJson(was) !== canonicalJson(overrides)
        ? `was made with ${sets(was)}, this run has ${sets(overrides)} (params hash ${old.paramsHash}, now ${paramsHash}); ` +
          `its seeds cannot be resumed — repeat the record's --set values, or give this run its own --results folder`
        : `was made with different ${tier} params under the same spec version ${spec.version} (hash ${old.paramsHash}, now ${paramsHash}); ` +
          `bump the spec's version when its params change, and run without --resume`;
    return { kind: 'other', record: old, why };
  }
  // Seeds run on other data files give other numbers: never mixed into one record.
  const differs = old.data && data ? dataDiffers(old.data, data, 'the record') : undefined;
  if (differs) {
    return { kind: 'other', record: old, why: `was made with other data files (${differs}); its seeds cannot be resumed — point --data-dir at the data it used, or give this run its own --results folder` };
  }
  return { kind: 'same', record: old };
}

/**
 * What `runClaim` would refuse on reading the record, checked before any backend or job
 * starts: a record of another claim or tier under this one's name, and with `resume` one made
 * by other settings. Throws the ResumeError runClaim would.
 */
export function checkRecordOnDisk(spec: LoadedSpec, opts: Pick<RunClaimOptions, 'tier' | 'resultsDir' | 'resume' | 'overrides'>): void {
  const { tier } = opts;
  const file = recordPath(opts.resultsDir, tier, spec.id);
  checkLockPath(file);
  // The data files' digests are checked when the claim runs (digesting them here would read every file twice).
  const disk = onDisk(file, spec, tier, contentHash(requireTier(spec, tier).params), opts.overrides ?? [], undefined);
  if (disk.kind === 'other' && opts.resume) throw new ResumeError(`${file} ${disk.why}`);
}

/** Where a record made by other settings is moved when a fresh run replaces it: kept, but out of the report's way. */
export function supersededPath(resultsDir: string, tier: Tier, claimId: string, finishedAt: string): string {
  return join(resultsDir, tier, 'superseded', `${claimId}.${finishedAt.replace(/[:.]/g, '-')}.json`);
}

/** Stale after a minute unrefreshed: the holder refreshes every 20 s between training steps. */
const SEED_LOCK_STALE_MS = 60_000;


/** What one run of a spec at a tier is asked to do, fixed before any seed runs. */
interface RunPlan {
  spec: LoadedSpec;
  tier: Tier;
  seeds: number[];
  params: Record<string, unknown>;
  paramsHash: string;
  /** The tier's assertions, cell assertions expanded into one plain assertion per cell. */
  assertions: Assertion[];
  /** The tier's preconditions, one per metric (cells expanded): checked in every seed. */
  preconditions: PlainPrecondition[];
  /** Metrics the assertions read: a seed that lacks one cannot count. */
  needed: string[];
  file: string;
  /** The data files the seeds read (digested once per process); undefined when they could not be read (the seeds then fail on it). */
  data?: DataUsed[];
}

function planRun(spec: LoadedSpec, opts: RunClaimOptions): RunPlan {
  const { tier } = opts;
  const params = requireTier(spec, tier).params;
  const { assertions, preconditions } = claimChecks(spec, tier, params);
  return {
    spec,
    tier,
    seeds: [...new Set(opts.seeds ?? requireTier(spec, tier).seeds)],
    params,
    paramsHash: contentHash(params),
    assertions,
    preconditions,
    needed: [...new Set(assertions.flatMap((a) => (a.minus ? [a.metric, a.minus] : [a.metric])))],
    file: recordPath(opts.resultsDir, tier, spec.id),
  };
}

/**
 * The record of a run so far, merged with the record on disk (`disk`, of the same settings):
 * its seeds this run does not run are kept, this run's replace theirs; statistics and verdict
 * over them all. This run's own seed order when it holds them all; ascending once merged.
 */
function recordOf(plan: RunPlan, ours: Map<number, SeedResult>, disk: ResultRecord | undefined, opts: RunClaimOptions, environment: Environment, started: Date, finished: Date): ResultRecord {
  const { spec, tier, seeds } = plan;
  const all = new Map<number, SeedResult>((disk?.outcomes ?? []).map((o) => [o.seed, o]));
  for (const [seed, o] of ours) all.set(seed, o);
  const union = [...new Set([...seeds, ...(disk?.seeds ?? [])])];
  const seedList = union.length === seeds.length ? seeds : union.sort((a, b) => a - b);
  const list = seedList.filter((s) => all.has(s)).map((s) => all.get(s)!);
  // Seeds kept from a record that named no data came from unknown files: the merge cannot name them either.
  const unknownData = disk !== undefined && disk.data === undefined && disk.outcomes.some((o) => !ours.has(o.seed));
  const first = disk && disk.startedAt < started.toISOString() ? disk.startedAt : started.toISOString();
  return {
    format: RECORD_FORMAT,
    claim: {
      id: spec.id,
      version: spec.version,
      hash: spec.hash,
      title: spec.title,
      statement: spec.statement,
      experiment: spec.experiment,
      writeUpFigure: spec.writeUpFigure,
      assertions: plan.assertions,
      ...(plan.preconditions.length > 0 ? { preconditions: plan.preconditions } : {}),
      ...(spec.controlOf ? { controlOf: spec.controlOf } : {}),
    },
    tier,
    params: plan.params,
    paramsHash: plan.paramsHash,
    ...(opts.overrides && opts.overrides.length > 0 ? { overrides: opts.overrides } : {}),
    expected: requireTier(spec, tier).expected,
    seeds: seedList,
    pendingSeeds: seedList.filter((s) => !all.has(s)),
    outcomes: list,
    ...assess(plan.assertions, list, plan.preconditions),
    backend: opts.backend,
    environment,
    ...(plan.data && !unknownData ? { data: plan.data } : {}),
    startedAt: first,
    finishedAt: finished.toISOString(),
    wallSeconds: Math.max(0, (finished.getTime() - started.getTime()) / 1000),
  };
}

/** The seed's outcome as stored: finite metrics only, curves JSON-safe, an error where it cannot count. */
function seedResult(seed: number, outcome: SeedOutcome, needed: string[], t0: Date, t1: Date): SeedResult {
  const problem = outcomeProblem(outcome, needed);
  return {
    seed,
    status: problem ? 'error' : 'ok',
    metrics: Object.fromEntries(Object.entries(outcome.metrics).filter(([, v]) => Number.isFinite(v))),
    curves: storeCurves(outcome.curves),
    wallSeconds: (t1.getTime() - t0.getTime()) / 1000,
    ...(outcome.imagesPerSecond !== undefined && Number.isFinite(outcome.imagesPerSecond) ? { imagesPerSecond: outcome.imagesPerSecond } : {}),
    ...(problem ? { error: problem } : {}),
    startedAt: t0.toISOString(),
    finishedAt: t1.toISOString(),
  };
}

function failedSeed(seed: number, e: unknown, t0: Date, t1: Date): SeedResult {
  const err = e instanceof Error ? e : new Error(String(e));
  return {
    seed,
    status: 'error',
    metrics: {},
    curves: {},
    wallSeconds: (t1.getTime() - t0.getTime()) / 1000,
    error: { name: err.name, message: err.message },
    startedAt: t0.toISOString(),
    finishedAt: t1.toISOString(),
  };
}

/**
 * The data the params name, as the experiment will find it, digested (once per process per
 * file). Data that cannot be read gives undefined: the seeds then fail with the loader's own
 * error, which says more.
 */
async function dataUsed(params: Record<string, unknown>, dataDir: string | undefined): Promise<DataUsed[] | undefined> {
  try {
    return await Promise.all(datasetsOf(params).map((d) => describeDataUsed(d, { dataDir })));
  } catch {
    return undefined;
  }
}

/** Runs one seed; an exception becomes an errored seed, except `Interrupted`, which propagates. */
async function runSeed(plan: RunPlan, seed: number, label: string, opts: RunClaimOptions, now: () => Date): Promise<SeedResult> {
  const { spec, tier } = plan;
  const dir = checkpointDir(opts.resultsDir, tier, spec.id, seed);
  // A fresh run must not pick up a checkpoint an earlier, unrelated run left behind.
  if (!opts.resume) rmSync(dir, { recursive: true, force: true });
  const t0 = now();
  let result: SeedResult;
  try {
    const outcome = await spec.kind.run(plan.params, {
      seed,
      dataDir: opts.dataDir,
      backend: opts.backend,
      progress: labelled(opts.progress, label),
      checkpointDir: dir,
      checkpointEvery: opts.checkpointEvery,
      signal: opts.signal,
      onTrained: opts.onTrained && ((model, info) => opts.onTrained!(model, { ...info, claim: spec.id, tier, seed })),
    });
    result = seedResult(seed, outcome, plan.needed, t0, now());
  } catch (e) {
    if (e instanceof Interrupted) throw e;
    result = failedSeed(seed, e, t0, now());
  }
  if (result.status === 'ok') rmSync(dir, { recursive: true, force: true });
  return result;
}

/**
 * Runs one spec at one tier, once per seed, and returns its record. The record is written
 * after every seed, so an interruption loses at most the seed in flight (and that one
 * resumes from its checkpoint with `resume`). A seed that throws or produces NaN/Inf is
 * kept as an error and the verdict is `error`; `Interrupted` is re-thrown once the
 * finished seeds are saved.
 *
 * The record is shared: every write happens under a lock on it and merges what is on disk
 * (seeds of earlier runs, or of processes running now) with this run's seeds, so no
 * finished seed is ever dropped. Each seed runs under a lock on its checkpoint folder, so
 * two processes never train one (claim, seed) at once; the second waits, then takes the
 * first one's result.
 */
export async function runClaim(spec: LoadedSpec, opts: RunClaimOptions): Promise<ResultRecord> {
  const now = opts.now ?? (() => new Date());
  const started = now();
  const plan = planRun(spec, opts);
  plan.data = await dataUsed(plan.params, opts.dataDir);
  const { tier, file, paramsHash } = plan;
  const overrides = opts.overrides ?? [];
  const environment = opts.environment ?? (await collectEnvironment());
  const notice = opts.notice ?? ((line: string) => process.stderr.write(`${line}\n`));
  /** Outcomes this run produced, or adopted from the record. */
  const ours = new Map<number, SeedResult>();

  /** The record on disk this run may merge with; a record of other settings is refused (resume) or set aside (fresh run). */
  const mergeable = (): ResultRecord | undefined => {
    const disk = onDisk(file, spec, tier, paramsHash, overrides, plan.data);
    if (disk.kind === 'none') return undefined;
    if (disk.kind === 'same') return disk.record;
    const finished = disk.record.outcomes.filter((o) => o.status === 'ok').map((o) => o.seed);
    if (opts.resume) throw new ResumeError(`${file} ${disk.why}`);
    if (finished.length === 0) return undefined; // nothing finished to keep
    const aside = supersededPath(opts.resultsDir, tier, spec.id, disk.record.finishedAt);
    mkdirSync(dirname(aside), { recursive: true });
    renameSync(file, aside);
    notice(`${file} ${disk.why}; its finished seeds (${finished.join(', ')}) were moved to ${aside}`);
    return undefined;
  };
  const save = () =>
    withLock(
      file,
      () => {
        const r = recordOf(plan, ours, mergeable(), opts, environment, started, now());
        writeRecord(file, r);
        return r;
      },
      { what: `${spec.id} [${tier}] record`, busy: 'another process is writing it', onWait: notice, signal: opts.signal },
    );
  /** A finished copy of `seed` in the record: with --resume any; without, one finished since this run began. */
  const finishedElsewhere = (seed: number): SeedResult | undefined => {
    const disk = onDisk(file, spec, tier, paramsHash, overrides, plan.data);
    if (disk.kind !== 'same') return undefined;
    const o = disk.record.outcomes.find((x) => x.seed === seed && x.status === 'ok');
    return o && (opts.resume || o.finishedAt >= started.toISOString()) ? o : undefined;
  };

  await save();
  for (const [i, seed] of plan.seeds.entries()) {
    if (opts.signal?.aborted) {
      await save();
      throw new Interrupted();
    }
    const label = `${spec.id} [${tier}] seed ${seed} (${i + 1}/${plan.seeds.length})`;
    await withLock(
      checkpointDir(opts.resultsDir, tier, spec.id, seed),
      async () => {
        const done = finishedElsewhere(seed);
        if (done) {
          ours.set(seed, done);
          // Named, so a run that trains nothing does not look like a fast one. Its models were
          // trained by an earlier run and not kept: nothing to hand to onTrained.
          notice(`${label}: re-used, finished ${done.finishedAt} (in ${file}), not trained again${opts.onTrained ? '; no model of it is saved — run it without --resume to save its models' : ''}`);
          return;
        }
        try {
          ours.set(seed, await runSeed(plan, seed, label, opts, now));
        } catch (e) {
          if (e instanceof Interrupted) await save();
          throw e;
        }
        await save();
        // A full or read-only disk fails every later seed too: stop, the failure recorded.
        const result = ours.get(seed)!;
        if (result.status === 'error' && result.error?.name === 'WriteError') throw new WriteError(file, result.error.message);
      },
      { staleMs: SEED_LOCK_STALE_MS, what: `${spec.id} [${tier}] seed ${seed}`, busy: 'another process is running it', onWait: notice, signal: opts.signal },
    );
  }
  const record = await save();
  // A finished run leaves no empty checkpoint folders behind (a failed seed keeps its checkpoint).
  removeEmptyCheckpointFolders(opts.resultsDir, tier, spec.id);
  return record;
}
