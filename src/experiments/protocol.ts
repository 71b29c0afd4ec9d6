import { evaluate, type Evaluation } from '../metrics/evaluate.ts';
import type { ModelSpec } from '../models/spec.ts';
import type { Classifier } from '../models/types.ts';
import { ATTACK_NAMES, enumOf, type AttackName } from '../spec/names.ts';
import type { TrainConfig } from '../train/loop.ts';
import { makeRng } from '../util/rng.ts';
import { modelKeyParts, selectData, trainedModel, trainingKey, type DataSelection, type SelectedData } from './trained-models.ts';
import type { Curves, EvaluationParams, PlannedTraining, RunContext } from './types.ts';

/**
 * The train-and-evaluate protocol the experiment kinds share: what an evaluation measures
 * (its params, schema and metric names), how a model is trained and evaluated under it,
 * and the few numbers derived from its metrics. Kinds import this module, never each other.
 */

export type { EvaluationParams } from './types.ts';

export const evaluationSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['eps', 'attacks', 'batchSize', 'curveSubset'],
  properties: {
    eps: { type: 'number', minimum: 0 },
    attacks: { type: 'array', minItems: 1, uniqueItems: true, items: enumOf(ATTACK_NAMES) },
    iterative: {
      type: 'object',
      additionalProperties: false,
      required: ['steps', 'stepSize'],
      properties: { steps: { type: 'integer', minimum: 1 }, stepSize: { type: 'number', exclusiveMinimum: 0 } },
    },
    epsSweep: { type: 'array', minItems: 2, items: { type: 'number', minimum: 0 } },
    batchSize: { type: 'integer', minimum: 1 },
    curveSubset: { type: 'integer', minimum: 0 },
    curveBim: { type: 'boolean' },
  },
} as const;

/** Metric names use `_` for `-` (attack and dataset names) so they read as identifiers. */
export const metricName = (s: string) => s.replace(/-/g, '_');

/**
 * The small ε (pixel units) at which every evaluation reports the loss along the sign of the
 * clean true-label gradient, `loss_eps_1`: to first order it is above the clean loss for any
 * model, leaking or not, so a precondition can tell a working attack direction from a no-op
 * or a flipped one. Where the ε-sweep has this point already, it is the sweep's.
 */
export const SMALL_EPS = 1;

const smallEpsExtra = (ev: EvaluationParams): number[] => (ev.epsSweep?.includes(SMALL_EPS) ? [] : [SMALL_EPS]);

export function evaluationMetricNames(ev: EvaluationParams): string[] {
  const names = ['clean_acc', 'clean_loss'];
  for (const a of ev.attacks) names.push(`adv_acc_${metricName(a)}`, `adv_loss_${metricName(a)}`, `adv_linf_${metricName(a)}`);
  if (ev.epsSweep) {
    for (const e of ev.epsSweep) names.push(`loss_eps_${e}`, `acc_eps_${e}`);
    names.push('loss_peak', 'loss_peak_eps', 'loss_rise', 'loss_fall');
  }
  for (const e of smallEpsExtra(ev)) names.push(`loss_eps_${e}`);
  return names;
}

/** Flattens an evaluation into named metrics; the loss curve's shape becomes numbers assertions can test. */
export function evaluationMetrics(ev: Evaluation): Record<string, number> {
  const m: Record<string, number> = { clean_acc: ev.cleanAcc, clean_loss: ev.cleanLoss };
  for (const [a, r] of Object.entries(ev.adversarial)) {
    m[`adv_acc_${metricName(a)}`] = r.acc;
    m[`adv_loss_${metricName(a)}`] = r.loss;
  }
  for (const [a, size] of Object.entries(ev.perturbation ?? {})) m[`adv_linf_${metricName(a)}`] = size;
  for (const p of ev.alongSign ?? []) m[`loss_eps_${p.eps}`] = p.loss;
  const curve = ev.lossVsEps;
  if (curve && curve.length > 0) {
    for (const p of curve) {
      m[`loss_eps_${p.eps}`] = p.loss;
      m[`acc_eps_${p.eps}`] = p.acc;
    }
    const peak = curve.reduce((best, p) => (p.loss > best.loss ? p : best));
    m.loss_peak = peak.loss;
    m.loss_peak_eps = peak.eps;
    // How far the curve climbs above its start, and how far it falls from its peak by the end.
    m.loss_rise = peak.loss - curve[0].loss;
    m.loss_fall = peak.loss - curve[curve.length - 1].loss;
  }
  return m;
}

/** Per-epoch clean and FGSM (and with `curveBim`, BIM) accuracy on a fixed test subset, for the accuracy-over-epochs plot. */
function epochCurve(data: SelectedData, ev: EvaluationParams, seed: number) {
  if (ev.curveSubset <= 0) return undefined;
  const subset = { ...data.test, count: Math.min(ev.curveSubset, data.test.count) };
  return (model: Classifier) => async (epoch: number) => {
    const r = await evaluate(model, subset, {
      batchSize: ev.batchSize,
      // FGSM first: it draws nothing, so adding BIM after it leaves the FGSM numbers as they were.
      attacks: [{ attack: 'fgsm', eps: ev.eps }, ...(ev.curveBim ? [{ attack: 'bim' as const, eps: ev.eps, ...ev.iterative }] : [])],
      rng: makeRng(seed, `curve/${epoch}`),
    });
    return { cleanAcc: r.cleanAcc, advAcc: r.adversarial.fgsm.acc, ...(ev.curveBim ? { bimAcc: r.adversarial.bim.acc } : {}) };
  };
}

/** Curve settings are part of what a cached model is (its per-epoch points are kept with it). */
// `bim` only when asked for, so the keys (and checkpoints) of curves without it stay as they were.
export const curveOf = (ev: EvaluationParams) => ({ eps: ev.eps, subset: ev.curveSubset, batchSize: ev.batchSize, ...(ev.curveBim ? { bim: true, iterative: ev.iterative } : {}) });

/** What trainAndEvaluate(sel, model, training, ev, role) trains and evaluates, for `run --dry-run`. */
export function plannedTraining(sel: DataSelection, model: ModelSpec, training: TrainConfig, ev: EvaluationParams, role: string): PlannedTraining {
  const { dataset, trainSubset, testSubset } = sel;
  return {
    role,
    dataset,
    trainSubset,
    testSubset,
    model,
    training,
    evaluation: ev,
    shareKey: trainingKey(modelKeyParts({ data: sel, model, training, curve: curveOf(ev) })),
  };
}

/** Trains (or re-uses) one model and evaluates it: the protocol every training kind shares. */
export async function trainAndEvaluate(
  sel: DataSelection,
  model: ModelSpec,
  training: TrainConfig,
  ev: EvaluationParams,
  role: string,
  ctx: RunContext,
): Promise<{ metrics: Record<string, number>; curves: Curves; imagesPerSecond: number }> {
  const data = await selectData(sel, ctx.seed, ctx.dataDir);
  const trained = await trainedModel({ data: sel, model, training, role, curve: curveOf(ev) }, data, ctx, epochCurve(data, ev, ctx.seed));
  const result = await evaluate(trained.model, data.test, {
    batchSize: ev.batchSize,
    attacks: ev.attacks.map((attack) => ({ attack, eps: ev.eps, ...ev.iterative })),
    epsSweep: ev.epsSweep,
    alongSign: smallEpsExtra(ev),
    perturbationSize: true,
    rng: makeRng(ctx.seed, `eval/${role}`),
  });
  const curves: Curves = { epochs: trained.epochs };
  if (result.lossVsEps) curves.lossVsEps = result.lossVsEps;
  return { metrics: evaluationMetrics(result), curves, imagesPerSecond: trained.imagesPerSecond };
}

/**
 * The write-up's label-leaking gap: accuracy on FGSM examples minus clean accuracy (positive:
 * the attack helps). Undefined when FGSM was not evaluated.
 */
export function leakGap(metrics: Record<string, number>): number | undefined {
  return metrics.adv_acc_fgsm === undefined ? undefined : metrics.adv_acc_fgsm - metrics.clean_acc;
}

/** Mean training throughput over the parts that trained (undefined when none did). */
export function meanThroughput(rates: (number | undefined)[]): number | undefined {
  const trained = rates.filter((r): r is number => r !== undefined && r > 0);
  return trained.length > 0 ? trained.reduce((a, b) => a + b) / trained.length : undefined;
}
