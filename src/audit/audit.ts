import { defaultIterations } from '../attacks/index.ts';
import { ATTACK_NAMES, type AttackName } from '../spec/names.ts';
import { assessAssertion } from '../claims/assess.ts';
import type { Assertion, Verdict } from '../spec/claim.ts';
import { seededSubset } from '../data/batches.ts';
import type { Dataset } from '../data/types.ts';
import { evaluationMetrics, metricName } from '../experiments/protocol.ts';
import { gradientFeatures, linearProbe } from '../experiments/gradient-sign-probe.ts';
import type { EpsPoint } from '../metrics/evaluate.ts';
import type { ProgressSink } from '../train/progress.ts';
import { evaluate, type AttackEval } from '../metrics/evaluate.ts';
import type { Classifier } from '../models/types.ts';
import type { AssertionResult, SeedResult } from '../results/record-types.ts';
import type { TrainConfig } from '../train/loop.ts';
import { makeRng } from '../util/rng.ts';

/**
 * Audits any classifier (one label-leak trained, or a tfjs model from elsewhere) for label
 * leaking and for the gradient masking a leak is often a symptom of. Each seed draws its own
 * test and probe images and PGD start; the flags are assertions judged like a claim's, on
 * the 95% Student's t interval across seeds.
 */

/**
 * Attacks the audit runs, when the attack list has them: FGSM with the true label (the one
 * that leaks), FGSM toward the model's own prediction (the remedy, which cannot leak), PGD
 * with a random start and BIM (the strong baselines that expose a one-step attack's weakness).
 */
const AUDIT_ATTACKS = ['fgsm', 'fgsm-pred', 'pgd', 'bim'] as const;

function auditAttacks(): AttackName[] {
  return AUDIT_ATTACKS.filter((a) => (ATTACK_NAMES as readonly string[]).includes(a)) as AttackName[];
}

export interface AuditOptions {
  /** ε of the attacks, 0–255 pixel units. */
  eps: number;
  /** ε values of the loss curve along the clean gradient's sign (pixel units, ascending, from 0). */
  epsSweep: number[];
  /** Test images per seed (a seeded, class-balanced subset). */
  testImages: number;
  /** Training images per seed for the gradient-sign probe; 0 skips the probe. */
  probeImages: number;
  batchSize: number;
  /** PGD's schedule; BIM keeps Kurakin et al.'s (1 pixel per step, min(ε + 4, 1.25ε) steps). */
  pgd: { steps: number; stepSize: number };
  probe: TrainConfig;
  /** Accuracy points (0–1) by which an iterative attack must beat its one-step twin to suggest masking. */
  maskingGap: number;
  /** Loss (nats) the curve must drop, from some ε to a larger one, to count as not monotone. */
  lossFall: number;
}

/** PGD after Madry et al. (2018): enough steps of 2.5ε/steps to cross the ball and come back. */
export function defaultPgd(eps: number): { steps: number; stepSize: number } {
  const steps = Math.max(10, defaultIterations(eps));
  return { steps, stepSize: (2.5 * eps) / steps };
}

const DEFAULT_PROBE: TrainConfig = {
  epochs: 3,
  batchSize: 64,
  lr: { base: 0.05, milestones: [], gamma: 1 },
  momentum: 0.9,
  nesterov: false,
  weightDecay: 0,
};

export function defaultAuditOptions(eps = 6): AuditOptions {
  return {
    eps,
    epsSweep: [0, 2, 4, 6, 8, 12, 16, 24, 32],
    testImages: 1000,
    probeImages: 2000,
    batchSize: 250,
    pgd: defaultPgd(eps),
    probe: DEFAULT_PROBE,
    maskingGap: 0.2,
    lossFall: 0.01,
  };
}

const acc = (a: string) => `adv_acc_${metricName(a)}`;

/** The flags' assertions, for the attacks this build has (a flag about an absent attack is left out, not failed). */
export function auditAssertions(opts: Pick<AuditOptions, 'maskingGap' | 'lossFall' | 'epsSweep'>, attacks = auditAttacks()): {
  leaking: Assertion[];
  masking: Assertion[];
} {
  const has = (a: string) => (attacks as readonly string[]).includes(a);
  const leaking: Assertion[] = has('fgsm')
    ? [{ name: 'label leaking: FGSM accuracy above clean accuracy', metric: acc('fgsm'), minus: 'clean_acc', op: 'above', threshold: 0, tolerance: 0 }]
    : [];
  const masking: Assertion[] = [];
  if (opts.epsSweep.length >= 2) {
    masking.push({
      name: 'loss along the gradient sign is not monotone: it drops somewhere as ε grows',
      metric: 'loss_drop',
      op: 'above',
      threshold: 0,
      tolerance: opts.lossFall,
    });
  }
  if (has('pgd') && has('fgsm-pred')) {
    masking.push({
      name: 'PGD far stronger than FGSM-pred: accuracy far below',
      metric: acc('fgsm-pred'),
      minus: acc('pgd'),
      op: 'above',
      threshold: opts.maskingGap,
      tolerance: 0,
    });
  }
  if (has('bim') && has('fgsm')) {
    masking.push({ name: 'BIM far stronger than FGSM: accuracy far below', metric: acc('fgsm'), minus: acc('bim'), op: 'above', threshold: opts.maskingGap, tolerance: 0 });
  }
  return { leaking, masking };
}

/**
 * The largest drop of the loss along the curve, from one ε to any larger one (0 when the
 * curve never falls). Unlike peak − last, it also sees a curve that dips and climbs again.
 */
export function largestDrop(curve: readonly Pick<EpsPoint, 'eps' | 'loss'>[]): { drop: number; from: number; to: number } {
  let best = { drop: 0, from: curve[0]?.eps ?? 0, to: curve[0]?.eps ?? 0 };
  let high = curve[0];
  for (const p of curve) {
    if (p.loss > high.loss) high = p;
    if (high.loss - p.loss > best.drop) best = { drop: high.loss - p.loss, from: high.eps, to: p.eps };
  }
  return best;
}

/** One seed: accuracies under attack, the loss curve along the sign, and the probe score. */
async function auditSeed(
  model: Classifier,
  data: Dataset,
  opts: AuditOptions,
  seed: number,
  progress: ProgressSink,
  attacks = auditAttacks(),
): Promise<{ metrics: Record<string, number>; lossVsEps: EpsPoint[] }> {
  const rng = makeRng(seed, 'audit');
  const test = seededSubset(data.test, Math.min(opts.testImages, data.test.count), rng.fork('test'), { stratified: true });
  const evals: AttackEval[] = attacks.map((attack) => ({ attack, eps: opts.eps, ...(attack === 'pgd' ? opts.pgd : {}) }));
  // Counted in images, batch by batch: a bar of one step sat silent for the whole attack (~30 s a seed).
  progress.start(`seed ${seed}: attacks on ${test.count} test images`, test.count);
  const ev = await evaluate(model, test, { batchSize: opts.batchSize, attacks: evals, epsSweep: opts.epsSweep, rng: rng.fork('attacks'), onBatch: (done) => progress.tick(done) });
  progress.stop();
  const metrics = evaluationMetrics(ev);
  if (ev.lossVsEps && ev.lossVsEps.length >= 2) metrics.loss_drop = largestDrop(ev.lossVsEps).drop;
  if (metrics[acc('fgsm')] !== undefined) metrics.leak_gap_fgsm = metrics[acc('fgsm')] - metrics.clean_acc;
  if (opts.probeImages > 0) {
    const train = seededSubset(data.train, Math.min(opts.probeImages, data.train.count), rng.fork('probe/train'), { stratified: true });
    const trainFeatures = await gradientFeatures(model, train, 'true', opts.batchSize, rng.fork('probe/labels/train'));
    const testFeatures = await gradientFeatures(model, test, 'true', opts.batchSize, rng.fork('probe/labels/test'));
    const probe = await linearProbe(trainFeatures, testFeatures, data.classes.length, opts.probe, opts.batchSize, 'audit', { seed, progress });
    metrics.probe_acc_true = probe.accuracy;
  }
  return { metrics, lossVsEps: ev.lossVsEps ?? [] };
}

export type Flag = 'yes' | 'no' | 'undecided';

/** Any assertion reproduced raises the flag; all refuted lowers it; otherwise the seeds cannot tell. */
export function flagOf(verdicts: Verdict[]): Flag {
  if (verdicts.some((v) => v === 'reproduced')) return 'yes';
  if (verdicts.length > 0 && verdicts.every((v) => v === 'refuted')) return 'no';
  return 'undecided';
}

export interface AuditResult {
  attacks: AttackName[];
  options: AuditOptions;
  seeds: number[];
  outcomes: SeedResult[];
  assertions: { leaking: AssertionResult[]; masking: AssertionResult[] };
  flags: { labelLeaking: Flag; gradientMasking: Flag };
}

export async function auditModel(
  model: Classifier,
  data: Dataset,
  opts: AuditOptions,
  seeds: number[],
  progress: ProgressSink,
  now: () => Date = () => new Date(),
): Promise<AuditResult> {
  if (model.numClasses !== data.classes.length) {
    throw new Error(`the model has ${model.numClasses} outputs but ${data.name} has ${data.classes.length} classes`);
  }
  const attacks = auditAttacks();
  const outcomes: SeedResult[] = [];
  for (const seed of seeds) {
    const t0 = now();
    const r = await auditSeed(model, data, opts, seed, progress, attacks);
    const t1 = now();
    const finite = Object.values(r.metrics).every(Number.isFinite);
    outcomes.push({
      seed,
      status: finite ? 'ok' : 'error',
      metrics: Object.fromEntries(Object.entries(r.metrics).filter(([, v]) => Number.isFinite(v))),
      curves: { lossVsEps: r.lossVsEps.map((p) => ({ ...p })) },
      wallSeconds: (t1.getTime() - t0.getTime()) / 1000,
      ...(finite ? {} : { error: { name: 'NonFiniteError', message: 'the model produced non-finite losses' } }),
      startedAt: t0.toISOString(),
      finishedAt: t1.toISOString(),
    });
  }
  const spec = auditAssertions(opts, attacks);
  const leaking = spec.leaking.map((a) => assessAssertion(a, outcomes));
  const masking = spec.masking.map((a) => assessAssertion(a, outcomes));
  return {
    attacks,
    options: opts,
    seeds,
    outcomes,
    assertions: { leaking, masking },
    flags: { labelLeaking: flagOf(leaking.map((a) => a.verdict)), gradientMasking: flagOf(masking.map((a) => a.verdict)) },
  };
}
