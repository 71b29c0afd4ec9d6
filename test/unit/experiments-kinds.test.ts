import * as tf from '@tensorflow/tfjs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackendInfo } from '../../src/backend/info.ts';
import { experiments as kinds } from '../../src/experiments/registry.ts';
import { clearTrainedModels } from '../../src/experiments/trained-models.ts';
import type { RunContext, SeedOutcome } from '../../src/experiments/types.ts';
import { silentProgress } from '../../src/train/progress.ts';

/**
 * The contract every experiment kind keeps, checked on the synthetic fixture datasets in a
 * few seconds (the claim suite checks the science at scale): its params schema admits the
 * fixture params; `metricNames(params)` names exactly the metrics `run` returns; the same
 * seed gives the same metrics; a composite's metrics are its parts', prefixed.
 */

const training = (adversarial: unknown) => ({
  epochs: 1,
  batchSize: 20,
  lr: { base: 0.1, milestones: [], gamma: 0.1 },
  momentum: 0.9,
  nesterov: false,
  weightDecay: 0,
  adversarial,
});
const fgsmTraining = training({ attack: 'fgsm', fraction: 0.5, epsSigma: 12, lossWeight: 1 });
const model = { kind: 'mlp', hidden: [8] };
const evaluation = { eps: 6, attacks: ['fgsm', 'step-ll'], epsSweep: [0, 4, 8], batchSize: 50, curveSubset: 20 };
const adversarial = { dataset: 'mnist', trainSubset: 60, testSubset: 40, model, training: fgsmTraining, evaluation, control: true, epochMetrics: true };
const probe = { dataset: 'mnist', trainSubset: 60, testSubset: 40, sourceModel: model, features: ['true', 'random'], probe: training(null), batchSize: 20 };

/** Params for each kind; a kind added to the registry without an entry here fails the first test. */
const FIXTURE_PARAMS: Record<string, unknown> = {
  'adversarial-training': adversarial,
  'gradient-sign-probe': probe,
  'difficulty-sweep': {
    datasets: [
      { dataset: 'mnist', trainSubset: 60, testSubset: 40 },
      { dataset: 'fashion-mnist', trainSubset: 60, testSubset: 40 },
    ],
    model,
    training: fgsmTraining,
    evaluation: { ...evaluation, epsSweep: undefined },
  },
  composite: {
    parts: {
      probe: { experiment: 'gradient-sign-probe', params: probe },
      'adv-training': { experiment: 'adversarial-training', params: adversarial },
    },
  },
  sweep: {
    experiment: 'adversarial-training',
    params: { ...adversarial, control: false },
    axes: [{ name: 'eps', path: 'evaluation.eps', values: [2, 6] }],
  },
};

const backend: BackendInfo = { name: 'cpu', version: tf.version_core, threads: 1, device: 'cpu', reason: 'test' };
const context = (seed: number): RunContext => ({ seed, dataDir: 'fixtures/data', backend, progress: silentProgress });

/** Runs a kind with no trained model cached: a re-run would otherwise re-use the first run's model and prove nothing. */
async function runFresh(kind: string, params: unknown, seed: number): Promise<SeedOutcome> {
  clearTrainedModels();
  return kinds[kind].run(structuredClone(params), context(seed));
}

const clean = (params: unknown) => JSON.parse(JSON.stringify(params)) as unknown;

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

afterAll(() => clearTrainedModels());

describe('every experiment kind', () => {
  it('has fixture params here, which its params schema admits', () => {
    expect(Object.keys(FIXTURE_PARAMS).sort()).toEqual(Object.keys(kinds).sort());
    for (const [name, kind] of Object.entries(kinds)) {
      const validate = new Ajv2020({ strict: true, allErrors: true }).compile(kind.paramsSchema);
      expect(validate(clean(FIXTURE_PARAMS[name])), `${name}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });

  for (const name of Object.keys(FIXTURE_PARAMS)) {
    it(`${name}: metricNames(params) names exactly what run returns, and the same seed gives the same metrics`, { timeout: 120_000 }, async () => {
      const params = clean(FIXTURE_PARAMS[name]);
      const first = await runFresh(name, params, 3);
      expect(Object.keys(first.metrics).sort()).toEqual([...kinds[name].metricNames(params)].sort());
      expect(Object.values(first.metrics).every(Number.isFinite)).toBe(true);
      const again = await runFresh(name, params, 3);
      expect(again.metrics).toEqual(first.metrics);
    });
  }

  it("composite: its metrics are its parts' own, each prefixed with the part's name", { timeout: 120_000 }, async () => {
    const params = clean(FIXTURE_PARAMS.composite) as { parts: Record<string, { experiment: string; params: unknown }> };
    const whole = await runFresh('composite', params, 5);
    const expected: Record<string, number> = {};
    for (const [part, { experiment, params: p }] of Object.entries(params.parts)) {
      for (const [k, v] of Object.entries((await runFresh(experiment, p, 5)).metrics)) expected[`${part}.${k}`] = v;
    }
    expect(whole.metrics).toEqual(expected);
  });
});
