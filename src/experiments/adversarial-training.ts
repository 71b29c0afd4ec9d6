import type { AttackName } from '../attacks/index.ts';
import { evaluate, type Evaluation } from '../metrics/evaluate.ts';
import { modelSpecSchema, type ModelSpec } from '../models/spec.ts';
import type { Classifier } from '../models/types.ts';
import { dataSelectionProperties, trainConfigSchema } from '../train/config-schema.ts';
import type { TrainConfig } from '../train/loop.ts';
import { makeRng } from '../util/rng.ts';
import { selectData, trainedModel, type DataSelection, type SelectedData } from './trained-models.ts';
import type { Curves, ExperimentKind, RunContext, SeedOutcome } from './types.ts';

export interface EvaluationParams {
  /** ε of the adversarial test examples, 0–255 pixel units (the write-up: 6). */
  eps: number;
  /** Attacks whose accuracy is reported at `eps` (metric `adv_acc_<attack>`). */
  attacks: AttackName[];
  /** Iterative attacks' schedule; absent: Kurakin et al.'s defaults. */
  iterative?: { steps: number; stepSize: number };
  /** ε values of the loss-versus-ε curve (metrics `loss_eps_<ε>`, `loss_peak`, …). */
  epsSweep?: number[];
  batchSize: number;
  /** Test images used for the per-epoch accuracy curves (0: no curves). */
  curveSubset: number;
}

export interface AdversarialTrainingParams extends DataSelection {
  model: ModelSpec;
  training: TrainConfig;
  evaluation: EvaluationParams;
  /** Also train the same model without adversarial examples; its metrics get a `control_` prefix. */
  control?: boolean;
}

export const evaluationSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['eps', 'attacks', 'batchSize', 'curveSubset'],
  properties: {
    eps: { type: 'number', minimum: 0 },
    attacks: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: ['fgsm', 'fgsm-pred', 'step-ll', 'step-rand', 'bim', 'iter-ll', 'pgd'] } },
    iterative: {
      type: 'object',
      additionalProperties: false,
      required: ['steps', 'stepSize'],
      properties: { steps: { type: 'integer', minimum: 1 }, stepSize: { type: 'number', exclusiveMinimum: 0 } },
    },
    epsSweep: { type: 'array', minItems: 2, items: { type: 'number', minimum: 0 } },
    batchSize: { type: 'integer', minimum: 1 },
    curveSubset: { type: 'integer', minimum: 0 },
  },
} as const;

/** Metric names use `_` for `-` (attack and dataset names) so they read as identifiers. */
export const metricName = (s: string) => s.replace(/-/g, '_');

export function evaluationMetricNames(ev: EvaluationParams): string[] {
  const names = ['clean_acc', 'clean_loss'];
  for (const a of ev.attacks) names.push(`adv_acc_${metricName(a)}`, `adv_loss_${metricName(a)}`);
  if (ev.epsSweep) {
    for (const e of ev.epsSweep) names.push(`loss_eps_${e}`, `acc_eps_${e}`);
    names.push('loss_peak', 'loss_peak_eps', 'loss_rise', 'loss_fall');
  }
  return names;
}

/** Flattens an evaluation into named metrics; the loss curve's shape becomes numbers assertions can test. */
export function evaluationMetrics(ev: Evaluation): Record<string, number> {
  const m: Record<string, number> = { clean_acc: ev.cleanAcc, clean_loss: ev.cleanLoss };
  for (const [a, r] of Object.entries(ev.adversarial)) {
    m[`adv_acc_${metricName(a)}`] = r.acc;
    m[`adv_loss_${metricName(a)}`] = r.loss;
  }
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

/** Per-epoch clean and adversarial accuracy on a fixed test subset, for the accuracy-over-epochs plot. */
function epochCurve(data: SelectedData, ev: EvaluationParams, seed: number) {
  if (ev.curveSubset <= 0) return undefined;
  const subset = { ...data.test, count: Math.min(ev.curveSubset, data.test.count) };
  return (model: Classifier) => async (epoch: number) => {
    const r = await evaluate(model, subset, {
      batchSize: ev.batchSize,
      attacks: [{ attack: 'fgsm', eps: ev.eps }],
      rng: makeRng(seed, `curve/${epoch}`),
    });
    return { cleanAcc: r.cleanAcc, advAcc: r.adversarial.fgsm.acc };
  };
}

/** Trains (or re-uses) one model and evaluates it; shared with the difficulty sweep. */
export async function trainAndEvaluate(
  sel: DataSelection,
  model: ModelSpec,
  training: TrainConfig,
  ev: EvaluationParams,
  role: string,
  ctx: RunContext,
): Promise<{ metrics: Record<string, number>; curves: Curves; imagesPerSecond: number }> {
  const data = await selectData(sel, ctx.seed, ctx.dataDir);
  const curve = { eps: ev.eps, subset: ev.curveSubset, batchSize: ev.batchSize };
  const trained = await trainedModel({ data: sel, model, training, role, curve }, data, ctx, epochCurve(data, ev, ctx.seed));
  const result = await evaluate(trained.model, data.test, {
    batchSize: ev.batchSize,
    attacks: ev.attacks.map((attack) => ({ attack, eps: ev.eps, ...ev.iterative })),
    epsSweep: ev.epsSweep,
    rng: makeRng(ctx.seed, `eval/${role}`),
  });
  const curves: Curves = { epochs: trained.epochs };
  if (result.lossVsEps) curves.lossVsEps = result.lossVsEps;
  return { metrics: evaluationMetrics(result), curves, imagesPerSecond: trained.imagesPerSecond };
}

export const adversarialTraining: ExperimentKind<AdversarialTrainingParams> = {
  name: 'adversarial-training',
  paramsSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['dataset', 'model', 'training', 'evaluation'],
    properties: {
      ...dataSelectionProperties,
      model: modelSpecSchema,
      training: trainConfigSchema,
      evaluation: evaluationSchema,
      control: { type: 'boolean' },
    },
  },
  metricNames(p) {
    const names = evaluationMetricNames(p.evaluation);
    if (p.evaluation.attacks.includes('fgsm')) names.push('leak_gap_fgsm');
    return p.control ? [...names, ...names.map((n) => `control_${n}`)] : names;
  },
  async run(p, ctx): Promise<SeedOutcome> {
    const main = await trainAndEvaluate(p, p.model, p.training, p.evaluation, 'adversarial', ctx);
    const metrics = { ...main.metrics };
    if (metrics.adv_acc_fgsm !== undefined) metrics.leak_gap_fgsm = metrics.adv_acc_fgsm - metrics.clean_acc;
    const curves: Curves = { ...main.curves };
    if (p.control) {
      const plain = await trainAndEvaluate(p, p.model, { ...p.training, adversarial: null }, p.evaluation, 'control', ctx);
      const cm = { ...plain.metrics };
      if (cm.adv_acc_fgsm !== undefined) cm.leak_gap_fgsm = cm.adv_acc_fgsm - cm.clean_acc;
      for (const [k, v] of Object.entries(cm)) metrics[`control_${k}`] = v;
      for (const [k, v] of Object.entries(plain.curves)) curves[`control:${k}`] = v;
    }
    return { metrics, curves, imagesPerSecond: main.imagesPerSecond };
  },
};
