import * as tf from '@tensorflow/tfjs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BackendInfo } from '../../src/backend/info.ts';
import { difficultySweep, type DifficultySweepParams } from '../../src/experiments/difficulty-sweep.ts';
import { plannedTraining, trainAndEvaluate } from '../../src/experiments/protocol.ts';
import { clearTrainedModels } from '../../src/experiments/trained-models.ts';
import type { RunContext } from '../../src/experiments/types.ts';
import { silentProgress } from '../../src/train/progress.ts';

/**
 * The difficulty sweep is the protocol applied per dataset: each of its numbers is checked
 * against trainAndEvaluate on the same dataset (the cached model, evaluated again), so a metric
 * taken from the wrong place, or a gap of the wrong sign, shows.
 */

const backend: BackendInfo = { name: 'cpu', version: tf.version_core, threads: 1, device: 'cpu', reason: 'test' };
const ctx = (seed: number, more: Partial<RunContext> = {}): RunContext => ({ seed, dataDir: 'fixtures/data', backend, progress: silentProgress, ...more });
const params: DifficultySweepParams = {
  datasets: [
    { dataset: 'mnist', trainSubset: 60, testSubset: 40 },
    { dataset: 'fashion-mnist', trainSubset: 60, testSubset: 40 },
  ],
  model: { kind: 'mlp', hidden: [] },
  training: { epochs: 1, batchSize: 20, lr: { base: 0.1, milestones: [], gamma: 1 }, momentum: 0.9, nesterov: false, weightDecay: 0, adversarial: { attack: 'fgsm', fraction: 0.5, epsSigma: 12, lossWeight: 1 } },
  evaluation: { eps: 6, attacks: ['fgsm', 'step-ll'], batchSize: 50, curveSubset: 20 },
};

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});
afterAll(() => clearTrainedModels());

describe('the difficulty sweep', () => {
  it('reports per dataset the protocol’s clean and FGSM accuracy, their gap (FGSM − clean) and the precondition metrics', async () => {
    clearTrainedModels();
    const roles: string[] = [];
    const out = await difficultySweep.run(structuredClone(params), ctx(3, { onTrained: async (_, info) => void roles.push(info.role) }));
    expect(roles).toEqual(['sweep-mnist', 'sweep-fashion-mnist']);
    const expected: Record<string, number> = {};
    const curves: Record<string, unknown> = {};
    const rates: number[] = [];
    for (const sel of params.datasets) {
      // The model trained above, from the cache: only the evaluation runs again.
      const r = await trainAndEvaluate(sel, params.model, params.training, params.evaluation, `sweep-${sel.dataset}`, ctx(3));
      const ds = sel.dataset.replace('-', '_');
      const m = r.metrics;
      Object.assign(expected, {
        [`clean_acc_${ds}`]: m.clean_acc,
        [`adv_acc_fgsm_${ds}`]: m.adv_acc_fgsm,
        [`gap_${ds}`]: m.adv_acc_fgsm - m.clean_acc,
        [`clean_loss_${ds}`]: m.clean_loss,
        [`loss_eps_1_${ds}`]: m.loss_eps_1,
        [`adv_linf_fgsm_${ds}`]: m.adv_linf_fgsm,
      });
      curves[`${sel.dataset}:epochs`] = r.curves.epochs;
      rates.push(r.imagesPerSecond);
    }
    expect(out.metrics).toEqual(expected);
    // Different datasets, different numbers: a metric read from one dataset for both would show.
    expect(out.metrics.clean_loss_mnist).not.toBe(out.metrics.clean_loss_fashion_mnist);
    expect(out.curves).toEqual(curves);
    expect(out.imagesPerSecond).toBe((rates[0] + rates[1]) / 2);
  });

  it('without FGSM in the evaluation, the gap and FGSM’s step size are NaN (the runner reports an error)', async () => {
    const out = await difficultySweep.run({ ...structuredClone(params), evaluation: { ...params.evaluation, attacks: ['step-ll'] } }, ctx(3));
    expect(out.metrics.gap_mnist).toBeNaN();
    expect(out.metrics.adv_linf_fgsm_fashion_mnist).toBeNaN();
    expect(Number.isFinite(out.metrics.loss_eps_1_mnist)).toBe(true);
  });

  it('names six metrics per dataset, suffixed with the dataset (_ for -)', () => {
    const per = ['clean_acc', 'adv_acc_fgsm', 'gap', 'clean_loss', 'loss_eps_1', 'adv_linf_fgsm'];
    expect(difficultySweep.metricNames(params)).toEqual([...per.map((m) => `${m}_mnist`), ...per.map((m) => `${m}_fashion_mnist`)]);
  });

  it('plans one training per dataset, as the protocol plans it, with the role sweep-<dataset>', () => {
    expect(difficultySweep.trainings!(params)).toEqual(
      params.datasets.map((sel) => plannedTraining(sel, params.model, params.training, params.evaluation, `sweep-${sel.dataset}`)),
    );
    expect(difficultySweep.trainings!(params)!.map((t) => t.role)).toEqual(['sweep-mnist', 'sweep-fashion-mnist']);
  });

  describe('its params schema', () => {
    // Compiled in each test, not while the file is collected: a mutant that breaks the schema must fail a test
    // (StrykerJS's vitest runner counts a file that fails to collect as 0 tests run, and the mutant as survived).
    let validate: ValidateFunction;
    beforeEach(() => {
      validate = new Ajv2020({ strict: true, allErrors: true }).compile(difficultySweep.paramsSchema);
    });
    const valid = (): Record<string, any> => JSON.parse(JSON.stringify(params));

    it('admits the params above', () => {
      expect(validate(valid()), JSON.stringify(validate.errors)).toBe(true);
    });

    const broken: [string, (p: Record<string, any>) => void][] = [
      ...['datasets', 'model', 'training', 'evaluation'].map((f): [string, (p: Record<string, any>) => void] => [`no ${f}`, (p) => delete p[f]]),
      ['a field besides those', (p) => (p.note = 'x')],
      ['one dataset only', (p) => p.datasets.pop()],
      ['a dataset entry without its dataset', (p) => delete p.datasets[0].dataset],
      ['a dataset entry with a field besides the selection', (p) => (p.datasets[0].model = {})],
      ['an unknown dataset', (p) => (p.datasets[1].dataset = 'svhn')],
      ['an evaluation without attacks', (p) => delete p.evaluation.attacks],
      ['a model of an unknown kind', (p) => (p.model = { kind: 'x' })],
      ['a training without a learning rate', (p) => delete p.training.lr],
    ];
    for (const [what, breakIt] of broken) {
      it(`refuses ${what}`, () => {
        const p = valid();
        breakIt(p);
        expect(validate(p)).toBe(false);
      });
    }
  });
});
