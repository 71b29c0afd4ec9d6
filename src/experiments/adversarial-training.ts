import { modelSpecSchema, type ModelSpec } from '../models/spec.ts';
import { dataSelectionProperties, trainConfigSchema } from '../train/config-schema.ts';
import type { TrainConfig } from '../train/loop.ts';
import { evaluationMetricNames, evaluationSchema, leakGap, plannedTraining, trainAndEvaluate, type EvaluationParams } from './protocol.ts';
import type { DataSelection } from './trained-models.ts';
import type { Curves, ExperimentKind, SeedOutcome } from './types.ts';

export interface AdversarialTrainingParams extends DataSelection {
  model: ModelSpec;
  training: TrainConfig;
  evaluation: EvaluationParams;
  /** Also train the same model without adversarial examples; its metrics get a `control_` prefix. */
  control?: boolean;
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
    },
  },
  metricNames(p) {
    const names = evaluationMetricNames(p.evaluation);
    if (p.evaluation.attacks.includes('fgsm')) names.push('leak_gap_fgsm');
    return p.control ? [...names, ...names.map((n) => `control_${n}`)] : names;
  },
  trainings: (p) => [
    plannedTraining(p, p.model, p.training, p.evaluation, 'adversarial'),
    ...(p.control ? [plannedTraining(p, p.model, { ...p.training, adversarial: null }, p.evaluation, 'control')] : []),
  ],
  async run(p, ctx): Promise<SeedOutcome> {
    const main = await trainAndEvaluate(p, p.model, p.training, p.evaluation, 'adversarial', ctx);
    const metrics = withLeakGap(main.metrics);
    const curves: Curves = { ...main.curves };
    if (p.control) {
      const plain = await trainAndEvaluate(p, p.model, { ...p.training, adversarial: null }, p.evaluation, 'control', ctx);
      for (const [k, v] of Object.entries(withLeakGap(plain.metrics))) metrics[`control_${k}`] = v;
      for (const [k, v] of Object.entries(plain.curves)) curves[`control:${k}`] = v;
    }
    return { metrics, curves, imagesPerSecond: main.imagesPerSecond };
  },
};
