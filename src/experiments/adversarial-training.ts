import { modelSpecSchema, type ModelSpec } from '../models/spec.ts';
import { dataSelectionProperties, trainConfigSchema } from '../train/config-schema.ts';
import type { TrainConfig } from '../train/loop.ts';
import { evaluationMetricNames, evaluationSchema, leakGap, plannedTraining, trainAndEvaluate, type EvaluationParams } from './protocol.ts';
import type { DataSelection } from './trained-models.ts';
import type { EpochPoint } from '../train/loop.ts';
import type { Curves, ExperimentKind, SeedOutcome } from './types.ts';

export interface AdversarialTrainingParams extends DataSelection {
  model: ModelSpec;
  training: TrainConfig;
  evaluation: EvaluationParams;
  /** Also train the same model without adversarial examples; its metrics get a `control_` prefix. */
  control?: boolean;
  /** Also derive the regime in time from the per-epoch curve (needs curveSubset > 0): see epochLeakMetrics. */
  epochMetrics?: boolean;
}

export const EPOCH_METRICS = ['epoch_first_leak', 'epoch_leak_count', 'epoch_max_leak_gap'] as const;
/** With `evaluation.curveBim`: the regime's other event, BIM breaking the one-step-trained model. */
export const EPOCH_BIM_METRICS = ['epoch_bim_collapse', 'epoch_max_fgsm_bim_gap'] as const;
/** BIM has collapsed in an epoch whose BIM accuracy is this far below FGSM's (iterative-beats-one-step's margin). */
export const BIM_COLLAPSE_GAP = 0.1;

/**
 * From the per-epoch FGSM and BIM accuracy: the first epoch whose BIM accuracy is more than
 * BIM_COLLAPSE_GAP below FGSM's (0 when none is), and the largest FGSM − BIM gap over epochs.
 */
export function epochBimMetrics(points: readonly EpochPoint[]): Record<(typeof EPOCH_BIM_METRICS)[number], number> {
  const gaps = points.filter((p) => p.advAcc !== undefined && p.bimAcc !== undefined).map((p) => ({ epoch: p.epoch, gap: p.advAcc! - p.bimAcc! }));
  if (gaps.length === 0) throw new Error('no per-epoch FGSM and BIM accuracy to derive BIM epoch metrics from (evaluation.curveBim must be true)');
  return {
    epoch_bim_collapse: gaps.find((g) => g.gap > BIM_COLLAPSE_GAP)?.epoch ?? 0,
    epoch_max_fgsm_bim_gap: Math.max(...gaps.map((g) => g.gap)),
  };
}

const epochMetricsOf = (p: AdversarialTrainingParams, points: readonly EpochPoint[]) =>
  p.evaluation.curveBim ? { ...epochLeakMetrics(points), ...epochBimMetrics(points) } : epochLeakMetrics(points);

/**
 * The leak as an event during training, from the per-epoch clean and FGSM accuracy on the
 * curve subset: the first epoch whose FGSM accuracy is above its clean accuracy (0 when none
 * is), how many epochs are, and the largest FGSM − clean gap over epochs. Read from the curve
 * training already records, so no random draw moves and no other metric changes.
 */
export function epochLeakMetrics(points: readonly EpochPoint[]): Record<(typeof EPOCH_METRICS)[number], number> {
  const gaps = points.filter((p) => p.cleanAcc !== undefined && p.advAcc !== undefined).map((p) => ({ epoch: p.epoch, gap: p.advAcc! - p.cleanAcc! }));
  if (gaps.length === 0) throw new Error('no per-epoch clean and FGSM accuracy to derive epoch metrics from (evaluation.curveSubset must be > 0)');
  const leaking = gaps.filter((g) => g.gap > 0);
  return {
    epoch_first_leak: leaking[0]?.epoch ?? 0,
    epoch_leak_count: leaking.length,
    epoch_max_leak_gap: Math.max(...gaps.map((g) => g.gap)),
  };
}

/** The metrics plus `leak_gap_fgsm` where FGSM was evaluated. */
function withLeakGap(metrics: Record<string, number>): Record<string, number> {
  const gap = leakGap(metrics);
  return gap === undefined ? { ...metrics } : { ...metrics, leak_gap_fgsm: gap };
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
      epochMetrics: { type: 'boolean' },
    },
  },
  problems: (p) => [
    ...(p.epochMetrics && p.evaluation.curveSubset <= 0 ? [{ pointer: '/evaluation/curveSubset', reason: 'epochMetrics reads the per-epoch curve: make curveSubset > 0' }] : []),
    ...(p.evaluation.curveBim && p.evaluation.curveSubset <= 0 ? [{ pointer: '/evaluation/curveBim', reason: 'curveBim measures BIM on the per-epoch curve subset: make curveSubset > 0' }] : []),
  ],
  metricNames(p) {
    const names = evaluationMetricNames(p.evaluation);
    if (p.evaluation.attacks.includes('fgsm')) names.push('leak_gap_fgsm');
    if (p.epochMetrics) names.push(...EPOCH_METRICS, ...(p.evaluation.curveBim ? EPOCH_BIM_METRICS : []));
    return p.control ? [...names, ...names.map((n) => `control_${n}`)] : names;
  },
  trainings: (p) => [
    plannedTraining(p, p.model, p.training, p.evaluation, 'adversarial'),
    ...(p.control ? [plannedTraining(p, p.model, { ...p.training, adversarial: null }, p.evaluation, 'control')] : []),
  ],
  async run(p, ctx): Promise<SeedOutcome> {
    const main = await trainAndEvaluate(p, p.model, p.training, p.evaluation, 'adversarial', ctx);
    const metrics = withLeakGap(main.metrics);
    if (p.epochMetrics) Object.assign(metrics, epochMetricsOf(p, main.curves.epochs ?? []));
    const curves: Curves = { ...main.curves };
    if (p.control) {
      const plain = await trainAndEvaluate(p, p.model, { ...p.training, adversarial: null }, p.evaluation, 'control', ctx);
      const plainMetrics = withLeakGap(plain.metrics);
      if (p.epochMetrics) Object.assign(plainMetrics, epochMetricsOf(p, plain.curves.epochs ?? []));
      for (const [k, v] of Object.entries(plainMetrics)) metrics[`control_${k}`] = v;
      for (const [k, v] of Object.entries(plain.curves)) curves[`control:${k}`] = v;
    }
    return { metrics, curves, imagesPerSecond: main.imagesPerSecond };
  },
};
