import type { ExperimentKind } from '../../src/experiments/types.ts';
import type { TrainConfig } from '../../src/train/loop.ts';

/**
 * An experiment kind whose one metric, curve and throughput are its params, and which plans one
 * training: for the tests of kinds made of others (composite, sweep), so every number they return
 * can be traced to the part or cell it came from. No tfjs, no data.
 */
export interface FixedParams {
  value: number;
  /** Images per second it reports; absent: it trained nothing. */
  rate?: number;
}

export const fixedTraining: TrainConfig = { epochs: 1, batchSize: 10, lr: { base: 0.1, milestones: [], gamma: 1 }, momentum: 0, nesterov: false, weightDecay: 0, adversarial: null };

export const fixed: ExperimentKind<FixedParams> = {
  name: 'fixed',
  paramsSchema: { type: 'object', additionalProperties: false, required: ['value'], properties: { value: { type: 'number' }, rate: { type: 'number' } } },
  metricNames: () => ['m'],
  // trainSubset carries the value, so a planned training shows which part or cell planned it; a
  // negative value stands for params the kind cannot plan (undefined, as ExperimentKind allows).
  trainings: (p) => (p.value < 0 ? undefined : [{ role: 'main', dataset: 'mnist', trainSubset: p.value, model: { kind: 'mlp', hidden: [] }, training: fixedTraining }]),
  async run(p) {
    return { metrics: { m: p.value }, curves: { epochs: [{ epoch: 1, trainLoss: p.value }] }, ...(p.rate === undefined ? {} : { imagesPerSecond: p.rate }) };
  },
};
