import * as tf from '@tensorflow/tfjs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BackendInfo } from '../../src/backend/info.ts';
import { adversarialTraining, epochBimMetrics, epochLeakMetrics, type AdversarialTrainingParams } from '../../src/experiments/adversarial-training.ts';
import { plannedTraining, trainAndEvaluate } from '../../src/experiments/protocol.ts';
import { clearTrainedModels } from '../../src/experiments/trained-models.ts';
import type { RunContext, TrainedModelInfo } from '../../src/experiments/types.ts';
import { silentProgress } from '../../src/train/progress.ts';

/**
 * The adversarial-training kind is the protocol run once adversarially and, with `control`, once
 * without: each of its numbers is checked against trainAndEvaluate (the cached models, evaluated
 * again) and the epoch functions (worked by hand in experiments-epoch-metrics.test.ts).
 */

const backend: BackendInfo = { name: 'cpu', version: tf.version_core, threads: 1, device: 'cpu', reason: 'test' };
const ctx = (seed: number, more: Partial<RunContext> = {}): RunContext => ({ seed, dataDir: 'fixtures/data', backend, progress: silentProgress, ...more });
const training = { epochs: 2, batchSize: 20, lr: { base: 0.1, milestones: [], gamma: 1 }, momentum: 0.9, nesterov: false, weightDecay: 0, adversarial: { attack: 'fgsm' as const, fraction: 0.5, epsSigma: 12, lossWeight: 1 } };
const params: AdversarialTrainingParams = {
  dataset: 'mnist',
  trainSubset: 60,
  testSubset: 40,
  model: { kind: 'mlp', hidden: [] },
  training,
  evaluation: { eps: 6, attacks: ['fgsm'], epsSweep: [0, 4], batchSize: 50, curveSubset: 20, curveBim: true, iterative: { steps: 2, stepSize: 3 } },
  control: true,
  epochMetrics: true,
};

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});
afterAll(() => clearTrainedModels());

describe('the adversarial-training kind', () => {
  it('with control and epoch metrics: the adversarial model’s metrics, its leak gap and epoch metrics, and the same with control_ for the model trained without adversarial examples', async () => {
    clearTrainedModels();
    const told: TrainedModelInfo[] = [];
    const out = await adversarialTraining.run(structuredClone(params), ctx(3, { onTrained: async (_, info) => void told.push(info) }));
    expect(told.map((i) => [i.role, i.training])).toEqual([
      ['adversarial', training],
      ['control', { ...training, adversarial: null }],
    ]);
    // The two models trained above, from the cache: only their evaluations run again.
    const main = await trainAndEvaluate(params, params.model, training, params.evaluation, 'adversarial', ctx(3));
    const plain = await trainAndEvaluate(params, params.model, { ...training, adversarial: null }, params.evaluation, 'control', ctx(3));
    const derived = (r: typeof main) => ({
      ...r.metrics,
      leak_gap_fgsm: r.metrics.adv_acc_fgsm - r.metrics.clean_acc,
      ...epochLeakMetrics(r.curves.epochs!),
      ...epochBimMetrics(r.curves.epochs!),
    });
    const control = Object.fromEntries(Object.entries(derived(plain)).map(([k, v]) => [`control_${k}`, v]));
    expect(out.metrics).toEqual({ ...derived(main), ...control });
    // Two different models: a control metric read from the adversarial model would show.
    expect(out.metrics.control_clean_loss).not.toBe(out.metrics.clean_loss);
    expect(out.curves).toEqual({ epochs: main.curves.epochs, lossVsEps: main.curves.lossVsEps, 'control:epochs': plain.curves.epochs, 'control:lossVsEps': plain.curves.lossVsEps });
    expect(out.imagesPerSecond).toBe(main.imagesPerSecond);
    expect(Object.keys(out.metrics).sort()).toEqual(adversarialTraining.metricNames(params).sort());
  });

  it('without control or epoch metrics: the adversarial model’s metrics and leak gap only; without FGSM, no leak gap', async () => {
    const p = { ...structuredClone(params), control: false, epochMetrics: false };
    const out = await adversarialTraining.run(p, ctx(3));
    const main = await trainAndEvaluate(params, params.model, training, params.evaluation, 'adversarial', ctx(3));
    expect(out.metrics).toEqual({ ...main.metrics, leak_gap_fgsm: main.metrics.adv_acc_fgsm - main.metrics.clean_acc });
    expect(Object.keys(out.curves)).toEqual(['epochs', 'lossVsEps']);
    const noFgsm = { ...p, evaluation: { ...p.evaluation, attacks: ['step-ll' as const] } };
    const other = await adversarialTraining.run(noFgsm, ctx(3));
    expect(Object.keys(other.metrics)).not.toContain('leak_gap_fgsm');
    expect(Object.keys(other.metrics).sort()).toEqual(adversarialTraining.metricNames(noFgsm).sort());
  });

  it('with control but without epoch metrics, neither model gets epoch metrics, though both have per-epoch curves', async () => {
    const p = { ...structuredClone(params), epochMetrics: false };
    const out = await adversarialTraining.run(p, ctx(3));
    expect(out.curves['control:epochs']).toBeDefined();
    expect(Object.keys(out.metrics).sort()).toEqual(adversarialTraining.metricNames(p).sort());
  });

  it('names the evaluation’s metrics, the leak gap with FGSM, the epoch metrics (BIM’s with curveBim), each again with control_', () => {
    const ev = { eps: 6, attacks: ['fgsm' as const], batchSize: 10, curveSubset: 10 };
    const base = { ...params, evaluation: ev, control: false, epochMetrics: false };
    const evalNames = ['clean_acc', 'clean_loss', 'adv_acc_fgsm', 'adv_loss_fgsm', 'adv_linf_fgsm', 'loss_eps_1'];
    expect(adversarialTraining.metricNames(base)).toEqual([...evalNames, 'leak_gap_fgsm']);
    expect(adversarialTraining.metricNames({ ...base, evaluation: { ...ev, attacks: ['step-ll'] } })).toEqual(['clean_acc', 'clean_loss', 'adv_acc_step_ll', 'adv_loss_step_ll', 'adv_linf_step_ll', 'loss_eps_1']);
    const leak = ['epoch_first_leak', 'epoch_leak_count', 'epoch_max_leak_gap'];
    expect(adversarialTraining.metricNames({ ...base, epochMetrics: true })).toEqual([...evalNames, 'leak_gap_fgsm', ...leak]);
    const all = [...evalNames, 'leak_gap_fgsm', ...leak, 'epoch_bim_collapse', 'epoch_max_fgsm_bim_gap'];
    expect(adversarialTraining.metricNames({ ...base, epochMetrics: true, evaluation: { ...ev, curveBim: true } })).toEqual(all);
    expect(adversarialTraining.metricNames({ ...base, control: true, epochMetrics: true, evaluation: { ...ev, curveBim: true } })).toEqual([...all, ...all.map((n) => `control_${n}`)]);
  });

  it('plans the adversarial training, and with control the same without adversarial examples', () => {
    const adv = plannedTraining(params, params.model, training, params.evaluation, 'adversarial');
    expect(adversarialTraining.trainings!(params)).toEqual([adv, plannedTraining(params, params.model, { ...training, adversarial: null }, params.evaluation, 'control')]);
    expect(adversarialTraining.trainings!({ ...params, control: false })).toEqual([adv]);
    expect(adv.role).toBe('adversarial');
  });

  describe('its params schema (and the protocol’s evaluation schema within it)', () => {
    // Compiled in each test, not while the file is collected: a mutant that breaks the schema must fail a test
    // (StrykerJS's vitest runner counts a file that fails to collect as 0 tests run, and the mutant as survived).
    let validate: ValidateFunction;
    beforeEach(() => {
      validate = new Ajv2020({ strict: true, allErrors: true }).compile(adversarialTraining.paramsSchema);
    });
    const valid = (): Record<string, any> => JSON.parse(JSON.stringify(params));

    it('admits the params above, and an evaluation with only what it requires', () => {
      expect(validate(valid()), JSON.stringify(validate.errors)).toBe(true);
      const least = valid();
      least.evaluation = { eps: 0, attacks: ['bim'], batchSize: 1, curveSubset: 0 };
      delete least.control;
      delete least.epochMetrics;
      delete least.trainSubset;
      expect(validate(least), JSON.stringify(validate.errors)).toBe(true);
    });

    const broken: [string, (p: Record<string, any>) => void][] = [
      ...['dataset', 'model', 'training', 'evaluation'].map((f): [string, (p: Record<string, any>) => void] => [`no ${f}`, (p) => delete p[f]]),
      ['a field besides those', (p) => (p.note = 'x')],
      ['a control that is not a boolean', (p) => (p.control = 'yes')],
      ['epochMetrics that is not a boolean', (p) => (p.epochMetrics = 1)],
      ['a fractional train subset', (p) => (p.trainSubset = 1.5)],
      ...['eps', 'attacks', 'batchSize', 'curveSubset'].map((f): [string, (p: Record<string, any>) => void] => [`an evaluation without ${f}`, (p) => delete p.evaluation[f]]),
      ['an evaluation with a field besides its own', (p) => (p.evaluation.note = 'x')],
      ['a negative ε', (p) => (p.evaluation.eps = -1)],
      ['ε as a string', (p) => (p.evaluation.eps = '6')],
      ['no attack at all', (p) => (p.evaluation.attacks = [])],
      ['an attack twice', (p) => (p.evaluation.attacks = ['fgsm', 'fgsm'])],
      ['an unknown attack', (p) => (p.evaluation.attacks = ['cw'])],
      ['an iterative schedule without steps', (p) => delete p.evaluation.iterative.steps],
      ['an iterative schedule without a step size', (p) => delete p.evaluation.iterative.stepSize],
      ['an iterative schedule with a field besides those', (p) => (p.evaluation.iterative.decay = 1)],
      ['0 iterative steps', (p) => (p.evaluation.iterative.steps = 0)],
      ['a fractional number of iterative steps', (p) => (p.evaluation.iterative.steps = 1.5)],
      ['an iterative step size of 0', (p) => (p.evaluation.iterative.stepSize = 0)],
      ['an iterative step size as a string', (p) => (p.evaluation.iterative.stepSize = '1')],
      ['an iterative schedule that is not an object', (p) => (p.evaluation.iterative = 2)],
      ['an ε sweep of one point', (p) => (p.evaluation.epsSweep = [4])],
      ['a negative ε in the sweep', (p) => (p.evaluation.epsSweep = [0, -4])],
      ['an ε sweep that is not a list', (p) => (p.evaluation.epsSweep = 4)],
      ['an ε in the sweep as a string', (p) => (p.evaluation.epsSweep = [0, '4'])],
      ['an evaluation batch size of 0', (p) => (p.evaluation.batchSize = 0)],
      ['a fractional evaluation batch size', (p) => (p.evaluation.batchSize = 2.5)],
      ['a negative curve subset', (p) => (p.evaluation.curveSubset = -1)],
      ['a fractional curve subset', (p) => (p.evaluation.curveSubset = 0.5)],
      ['curveBim that is not a boolean', (p) => (p.evaluation.curveBim = 'yes')],
      ['an evaluation that is not an object', (p) => (p.evaluation = [])],
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
