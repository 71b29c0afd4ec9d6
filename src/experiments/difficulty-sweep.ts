import { modelSpecSchema, type ModelSpec } from '../models/spec.ts';
import { dataSelectionProperties, trainConfigSchema } from '../train/config-schema.ts';
import type { TrainConfig } from '../train/loop.ts';
import { type EvaluationParams, evaluationSchema, leakGap, meanThroughput, metricName, plannedTraining, SMALL_EPS, trainAndEvaluate } from './protocol.ts';
import type { DataSelection } from './trained-models.ts';
import type { Curves, ExperimentKind, SeedOutcome } from './types.ts';

/**
 * One protocol (model, schedule, attack, ε) applied to several datasets of different
 * difficulty, to ask whether the leaking gap grows as the clean problem gets harder.
 */
export interface DifficultySweepParams {
  datasets: DataSelection[];
  model: ModelSpec;
  training: TrainConfig;
  evaluation: EvaluationParams;
}

/** `clean_loss`, `loss_eps_1` and `adv_linf_fgsm` are there for preconditions (a working attack), not for assertions. */
const PER_DATASET = ['clean_acc', 'adv_acc_fgsm', 'gap', 'clean_loss', `loss_eps_${SMALL_EPS}`, 'adv_linf_fgsm'];

export const difficultySweep: ExperimentKind<DifficultySweepParams> = {
  name: 'difficulty-sweep',
  paramsSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['datasets', 'model', 'training', 'evaluation'],
    properties: {
      datasets: {
        type: 'array',
        minItems: 2,
        items: { type: 'object', additionalProperties: false, required: ['dataset'], properties: dataSelectionProperties },
      },
      model: modelSpecSchema,
      training: trainConfigSchema,
      evaluation: evaluationSchema,
    },
  },
  metricNames: (p) => p.datasets.flatMap((d) => PER_DATASET.map((m) => `${m}_${metricName(d.dataset)}`)),
  trainings: (p) => p.datasets.map((sel) => plannedTraining(sel, p.model, p.training, p.evaluation, `sweep-${sel.dataset}`)),
  async run(p, ctx): Promise<SeedOutcome> {
    const metrics: Record<string, number> = {};
    const curves: Curves = {};
    const rates: number[] = [];
    for (const sel of p.datasets) {
      const ds = metricName(sel.dataset);
      const r = await trainAndEvaluate(sel, p.model, p.training, p.evaluation, `sweep-${sel.dataset}`, ctx);
      metrics[`clean_acc_${ds}`] = r.metrics.clean_acc;
      metrics[`adv_acc_fgsm_${ds}`] = r.metrics.adv_acc_fgsm;
      // Without FGSM in the evaluation there is no gap: NaN, which the runner reports as an error.
      metrics[`gap_${ds}`] = leakGap(r.metrics) ?? Number.NaN;
      for (const m of PER_DATASET.slice(3)) metrics[`${m}_${ds}`] = r.metrics[m] ?? Number.NaN;
      curves[`${sel.dataset}:epochs`] = r.curves.epochs;
      rates.push(r.imagesPerSecond);
    }
    return { metrics, curves, imagesPerSecond: meanThroughput(rates) };
  },
};
