import * as tf from '@tensorflow/tfjs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { trainConfigSchema } from '../../src/train/config-schema.ts';
import { Sgd } from '../../src/train/sgd.ts';
import { trainStep, type AdversarialTraining } from '../../src/train/step.ts';
import { makeRng } from '../../src/util/rng.ts';
import { makeClassifier } from '../helpers/linear-classifier.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

/** Runs two steps with `adv` on a small linear model; returns the `training` flag of every forward pass of the second, which must leave no tensor behind. */
async function forwardPasses(adv: AdversarialTraining): Promise<boolean[]> {
  const rng = makeRng(3, 'train-step');
  const d = 4;
  const model = makeClassifier({
    kind: 'linear', height: 2, width: 2, channels: 1, numClasses: 3,
    weights: Array.from({ length: d * 3 }, () => rng.normal()), bias: [0, 0, 0],
  });
  const sgd = new Sgd(model.trainable, { momentum: 0.9, nesterov: false, weightDecay: 0 });
  const x = tf.tensor4d(Array.from({ length: 8 * d }, () => rng.next()), [8, 2, 2, 1]);
  const y = tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32');
  try {
    await trainStep(model, sgd, { x, y }, adv, 0.01, rng); // the optimiser's slots appear on the first step
    model.calls.length = 0;
    const before = tf.memory().numTensors;
    const loss = await trainStep(model, sgd, { x, y }, adv, 0.01, rng);
    expect(Number.isFinite(loss)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    return model.calls;
  } finally {
    sgd.dispose();
    model.dispose();
    tf.dispose([x, y]);
  }
}

describe('adversarial batches with the attacks of issue 17', () => {
  const common = { fraction: 0.5, epsSigma: 8, lossWeight: 1 };

  it('crafts with fgsm-pred in one inference pass before the training pass', async () => {
    expect(await forwardPasses({ attack: 'fgsm-pred', ...common })).toEqual([false, true]);
  });

  it('crafts with PGD taking the configured steps (steps + 1 inference passes)', async () => {
    expect(await forwardPasses({ attack: 'pgd', steps: 3, stepSize: 2, ...common })).toEqual([false, false, false, false, true]);
  });

  it('refuses PGD without a step count, since each example draws its own ε', async () => {
    await expect(forwardPasses({ attack: 'pgd', ...common })).rejects.toThrow(/a per-example ε needs opts\.steps/);
  });
});

describe('the training config schema', () => {
  const validate = new Ajv2020({ strict: true, allErrors: true }).compile(trainConfigSchema);
  const config = (adversarial: object) => ({
    epochs: 1, batchSize: 8, lr: { base: 0.1, milestones: [], gamma: 1 }, momentum: 0.9, nesterov: false, weightDecay: 0,
    adversarial: { fraction: 0.5, epsSigma: 12, lossWeight: 1, ...adversarial },
  });

  it('takes fgsm-pred, and PGD with steps (step size optional)', () => {
    expect(validate(config({ attack: 'fgsm-pred' }))).toBe(true);
    expect(validate(config({ attack: 'pgd', steps: 7 }))).toBe(true);
    expect(validate(config({ attack: 'pgd', steps: 7, stepSize: 2 }))).toBe(true);
  });

  it('refuses PGD without steps, and steps or a step size on a one-step attack', () => {
    expect(validate(config({ attack: 'pgd', stepSize: 2 }))).toBe(false);
    expect(validate.errors?.some((e) => e.message === "must have required property 'steps'")).toBe(true);
    for (const extra of [{ steps: 2 }, { stepSize: 2 }]) {
      expect(validate(config({ attack: 'fgsm-pred', ...extra }))).toBe(false);
    }
    expect(validate(config({ attack: 'bim', steps: 2 }))).toBe(false);
  });
});
