import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { BackendInfo } from '../backend/info.ts';
import type { Curves, SeedOutcome, TrainedModelInfo } from '../experiments/types.ts';
import type { Classifier } from '../models/types.ts';
import { collectEnvironment } from '../results/environment.ts';
import { readRecord, recordPath, writeRecord, RECORD_FORMAT, type Environment, type ResultRecord, type SeedResult, type StoredPoint } from '../results/record.ts';
import { Interrupted } from '../train/errors.ts';
import type { ProgressSink } from '../train/progress.ts';
import { assess } from './assess.ts';
import { expandAssertions } from './cells.ts';
import { contentHash } from './hash.ts';
import { assertionsFor, type Assertion } from '../spec/claim.ts';
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
function reusableOutcomes(file: string, spec: LoadedSpec, tier: Tier, paramsHash: string): SeedResult[] {
  if (!existsSync(file)) return [];
  const old = readRecord(file);
  if (old.claim.id !== spec.id || old.tier !== tier) throw new ResumeError(`${file} holds ${old.claim.id} [${old.tier}], not ${spec.id} [${tier}]`);
  if (old.claim.version !== spec.version) {
    throw new ResumeError(
      `${file} was made by version ${old.claim.version} of spec ${spec.id}, which is now version ${spec.version}; ` +
        `its seeds cannot be re-used — run without --resume (or move the old record away)`,
    );
  }
  if (old.paramsHash !== paramsHash) {
    throw new ResumeError(
      `${file} was made with different ${tier} params (hash ${old.paramsHash}, now ${paramsHash}) under the same spec version ${spec.version}; ` +
        `bump the spec's version when its params change, and run without --resume`,
    );
  }
  // Failed seeds run again: a crash may have been the machine's, not the claim's.
  return old.outcomes.filter((o) => o.status === 'ok');
}

/** What one run of a spec at a tier is asked to do, fixed before any seed runs. */
interface RunPlan {
  spec: LoadedSpec;
  tier: Tier;
  seeds: number[];
  params: Record<string, unknown>;
  paramsHash: string;
  /** The tier's assertions, cell assertions expanded into one plain assertion per cell. */
  assertions: Assertion[];
  /** Metrics the assertions read: a seed that lacks one cannot count. */
  needed: string[];
  file: string;
}

function planRun(spec: LoadedSpec, opts: RunClaimOptions): RunPlan {
  const { tier } = opts;
  const params = spec.tiers[tier].params;
  const assertions = expandAssertions(assertionsFor(spec.assertions, tier), spec.kind.metricNames(params));
  return {
    spec,
    tier,
    seeds: [...new Set(opts.seeds ?? spec.tiers[tier].seeds)],
    params,
    paramsHash: contentHash(params),
    assertions,
    needed: [...new Set(assertions.flatMap((a) => (a.minus ? [a.metric, a.minus] : [a.metric])))],
    file: recordPath(opts.resultsDir, tier, spec.id),
  };
}

/** The record of a run so far: finished seeds in the order asked, their statistics and verdict. */
function recordOf(plan: RunPlan, outcomes: Map<number, SeedResult>, opts: RunClaimOptions, environment: Environment, started: Date, finished: Date): ResultRecord {
  const { spec, tier, seeds } = plan;
  const list = seeds.filter((s) => outcomes.has(s)).map((s) => outcomes.get(s)!);
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
    },
    tier,
    params: plan.params,
    paramsHash: plan.paramsHash,
    ...(opts.overrides && opts.overrides.length > 0 ? { overrides: opts.overrides } : {}),
    expected: spec.tiers[tier].expected,
    seeds,
    pendingSeeds: seeds.filter((s) => !outcomes.has(s)),
    outcomes: list,
    ...assess(plan.assertions, list),
    backend: opts.backend,
    environment,
    startedAt: started.toISOString(),
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
 */
export async function runClaim(spec: LoadedSpec, opts: RunClaimOptions): Promise<ResultRecord> {
  const now = opts.now ?? (() => new Date());
  const started = now();
  const plan = planRun(spec, opts);
  const kept = opts.resume ? reusableOutcomes(plan.file, spec, plan.tier, plan.paramsHash).filter((o) => plan.seeds.includes(o.seed)) : [];
  const outcomes = new Map<number, SeedResult>(kept.map((o) => [o.seed, o]));
  const environment = opts.environment ?? (await collectEnvironment());
  const save = () => {
    const r = recordOf(plan, outcomes, opts, environment, started, now());
    writeRecord(plan.file, r);
    return r;
  };

  save();
  for (const [i, seed] of plan.seeds.entries()) {
    if (outcomes.has(seed)) continue;
    try {
      if (opts.signal?.aborted) throw new Interrupted();
      outcomes.set(seed, await runSeed(plan, seed, `${spec.id} [${plan.tier}] seed ${seed} (${i + 1}/${plan.seeds.length})`, opts, now));
    } catch (e) {
      if (e instanceof Interrupted) save();
      throw e;
    }
    save();
  }
  return save();
}
