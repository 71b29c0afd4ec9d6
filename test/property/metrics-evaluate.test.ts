import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ImageSet } from '../../src/data/types.ts';
import { evaluate } from '../../src/metrics/evaluate.ts';
import { makeRng } from '../../src/util/rng.ts';
import { hiddenParams, imageShape, inputSize, linearParams, makeClassifier, type ModelParams } from '../helpers/linear-classifier.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

/** A small labelled image set (bytes, as datasets hold them) and a model for it. */
const evalProblem = fc
  .record({ shape: imageShape, numClasses: fc.integer({ min: 2, max: 4 }), count: fc.integer({ min: 1, max: 6 }), kind: fc.constantFrom('linear', 'hidden') })
  .chain(({ shape, numClasses, count, kind }) =>
    fc.record({
      params: (kind === 'linear' ? linearParams(shape, numClasses) : hiddenParams(shape, numClasses)) as fc.Arbitrary<ModelParams>,
      images: fc.uint8Array({ minLength: count * inputSize(shape), maxLength: count * inputSize(shape) }),
      labels: fc.uint8Array({ min: 0, max: numClasses - 1, minLength: count, maxLength: count }),
      batchSize: fc.integer({ min: 1, max: count }),
    }),
  );

const sweepEps = fc.uniqueArray(fc.integer({ min: 0, max: 64 }), { minLength: 1, maxLength: 4 });

describe('evaluate', () => {
  it("the loss-versus-ε sweep's point at ε is FGSM at ε: the same loss and accuracy, to the last bit", async () => {
    await fc.assert(
      fc.asyncProperty(evalProblem, sweepEps, async (pr, epsSweep) => {
        const { height, width, channels } = pr.params;
        const set: ImageSet = { images: pr.images, labels: pr.labels, count: pr.labels.length, height, width, channels };
        const model = makeClassifier(pr.params);
        try {
          const opts = { batchSize: pr.batchSize, rng: makeRng(1, 'eval') };
          const swept = await evaluate(model, set, { ...opts, attacks: [], epsSweep });
          for (const [i, eps] of epsSweep.entries()) {
            const attacked = await evaluate(model, set, { ...opts, attacks: [{ attack: 'fgsm', eps }] });
            expect(swept.lossVsEps![i]).toEqual({ eps, loss: attacked.adversarial.fgsm.loss, acc: attacked.adversarial.fgsm.acc });
          }
        } finally {
          model.dispose();
        }
      }),
      { numRuns: 30 },
    );
  });
});
