import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ImageSet } from '../../src/data/types.ts';
import { fgsm, fgsmPred, pgd } from '../../src/attacks/index.ts';
import { makeBatch } from '../../src/data/batches.ts';
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

  it('reports fgsm-pred’s and PGD’s accuracy and mean loss on the examples they craft, PGD seeded by the evaluation’s stream with the evaluation’s steps', async () => {
    await fc.assert(
      fc.asyncProperty(evalProblem, fc.integer({ min: 0, max: 16 }), fc.integer({ min: 0, max: 3 }), async (pr, eps, steps) => {
        const { height, width, channels } = pr.params;
        const count = pr.labels.length;
        const set: ImageSet = { images: pr.images, labels: pr.labels, count, height, width, channels };
        const model = makeClassifier(pr.params);
        const { x, y } = makeBatch(set, Array.from({ length: count }, (_, i) => i));
        try {
          const r = await evaluate(model, set, {
            batchSize: count,
            rng: makeRng(1, 'eval'),
            attacks: [{ attack: 'fgsm-pred', eps }, { attack: 'pgd', eps, steps, stepSize: 2 }],
          });
          const crafted = [fgsmPred(model, x, eps), pgd(model, x, y, { eps, steps, stepSize: 2, rng: makeRng(1, 'eval') })];
          const measured = crafted.map((xa) =>
            tf.tidy(() => {
              const logits = model.logits(xa, false);
              const loss = tf.losses.softmaxCrossEntropy(tf.oneHot(y, model.numClasses), logits, undefined, undefined, tf.Reduction.SUM);
              return { acc: logits.argMax(1).equal(y.toInt()).sum().dataSync()[0] / count, loss: loss.dataSync()[0] / count };
            }),
          );
          tf.dispose(crafted);
          expect([r.adversarial['fgsm-pred'], r.adversarial.pgd]).toEqual(measured);
        } finally {
          tf.dispose([x, y]);
          model.dispose();
        }
      }),
      { numRuns: 20 },
    );
  });

  it('the loss along the sign at extra ε and the perturbation sizes change no other number (same RNG draws), and the extra ε equals the sweep’s point', async () => {
    await fc.assert(
      fc.asyncProperty(evalProblem, sweepEps, fc.integer({ min: 1, max: 16 }), fc.integer({ min: 1, max: 3 }), async (pr, epsSweep, eps, steps) => {
        const { height, width, channels } = pr.params;
        const set: ImageSet = { images: pr.images, labels: pr.labels, count: pr.labels.length, height, width, channels };
        const model = makeClassifier(pr.params);
        try {
          // PGD draws its random start from the evaluation's stream: an extra draw anywhere would move its numbers.
          const attacks = [{ attack: 'pgd' as const, eps, steps, stepSize: 2 }, { attack: 'fgsm' as const, eps }];
          const plain = await evaluate(model, set, { batchSize: pr.batchSize, attacks, epsSweep, rng: makeRng(3, 'eval') });
          const more = await evaluate(model, set, { batchSize: pr.batchSize, attacks, epsSweep, alongSign: [epsSweep[0], 1], perturbationSize: true, rng: makeRng(3, 'eval') });
          expect({ ...more, alongSign: undefined, perturbation: undefined }).toEqual({ ...plain, alongSign: undefined, perturbation: undefined });
          expect(more.alongSign![0]).toEqual(plain.lossVsEps![0]);
        } finally {
          model.dispose();
        }
      }),
      { numRuns: 20 },
    );
  });

  it('the perturbation size is the mean over images of max |x_adv − x|, in pixel units', async () => {
    await fc.assert(
      fc.asyncProperty(evalProblem, fc.integer({ min: 0, max: 16 }), async (pr, eps) => {
        const { height, width, channels } = pr.params;
        const count = pr.labels.length;
        const set: ImageSet = { images: pr.images, labels: pr.labels, count, height, width, channels };
        const model = makeClassifier(pr.params);
        const { x, y } = makeBatch(set, Array.from({ length: count }, (_, i) => i));
        try {
          const r = await evaluate(model, set, { batchSize: pr.batchSize, attacks: [{ attack: 'fgsm', eps }], perturbationSize: true, rng: makeRng(1, 'eval') });
          // By hand, image by image, from the bytes: FGSM's pixels clipped to [0, 255].
          const xa = fgsm(model, x, y, eps);
          const moved = Array.from(xa.dataSync()).map((v, i) => Math.abs(v * 255 - pr.images[i]));
          xa.dispose();
          const per = inputSize({ height, width, channels });
          let sum = 0;
          for (let n = 0; n < count; n++) sum += Math.max(...moved.slice(n * per, (n + 1) * per));
          expect(r.perturbation!.fgsm).toBeCloseTo(sum / count, 3);
          expect(r.perturbation!.fgsm).toBeLessThanOrEqual(eps + 1e-3);
        } finally {
          tf.dispose([x, y]);
          model.dispose();
        }
      }),
      { numRuns: 30 },
    );
  });
});

describe('evaluate’s forward passes and memory', () => {
  it('runs every forward pass in inference mode, one per batch and measurement, and leaves no tensor behind', async () => {
    // Four images in batches of two, FGSM and a two-point sweep: per batch one clean pass, FGSM's
    // crafting and scoring passes, and the sweep's gradient pass plus one scoring pass per ε.
    const set: ImageSet = { images: Uint8Array.from({ length: 4 * 3 }, (_, i) => (i * 37) % 256), labels: Uint8Array.from([0, 1, 1, 0]), count: 4, height: 1, width: 3, channels: 1 };
    const model = makeClassifier({ kind: 'linear', height: 1, width: 3, channels: 1, numClasses: 2, weights: [1, -1, 0.5, 2, -0.3, 0.1], bias: [0, 0.2] });
    const opts = { batchSize: 2, attacks: [{ attack: 'fgsm' as const, eps: 8 }], epsSweep: [0, 4], rng: makeRng(1, 'eval') };
    try {
      await evaluate(model, set, opts);
      model.calls.length = 0;
      const before = tf.memory().numTensors;
      await evaluate(model, set, opts);
      expect(tf.memory().numTensors).toBe(before);
      expect(model.calls).toEqual(Array.from({ length: 2 * (1 + 2 + 1 + 2) }, () => false));
    } finally {
      model.dispose();
    }
  });
});

describe('evaluate’s optional measurements cost nothing when not asked for', () => {
  // Five images in batches of two (the last holds one): three batches.
  const set: ImageSet = { images: Uint8Array.from({ length: 5 * 3 }, (_, i) => (i * 53) % 256), labels: Uint8Array.from([0, 1, 1, 0, 1]), count: 5, height: 1, width: 3, channels: 1 };
  const linear = () => makeClassifier({ kind: 'linear', height: 1, width: 3, channels: 1, numClasses: 2, weights: [1, -1, 0.5, 2, -0.3, 0.1], bias: [0, 0.2] });

  it('without a curve or along-sign ε no gradient is taken beyond the attack’s: per batch one clean pass, FGSM’s crafting pass and its scoring pass', async () => {
    const model = linear();
    try {
      await evaluate(model, set, { batchSize: 2, attacks: [{ attack: 'fgsm', eps: 8 }], rng: makeRng(1, 'eval') });
      expect(model.calls).toHaveLength(3 * 3);
    } finally {
      model.dispose();
    }
  });

  it('along-sign ε without a curve: the same points a curve gives at those ε, from one gradient pass per batch, and no tensor left, perturbation sizes included', async () => {
    const model = linear();
    try {
      const curve = await evaluate(model, set, { batchSize: 2, attacks: [], epsSweep: [1, 6], rng: makeRng(1, 'eval') });
      model.calls.length = 0;
      const before = tf.memory().numTensors;
      const along = await evaluate(model, set, { batchSize: 2, attacks: [{ attack: 'fgsm', eps: 6 }], alongSign: [1, 6], perturbationSize: true, rng: makeRng(1, 'eval') });
      expect(tf.memory().numTensors).toBe(before);
      expect(along.lossVsEps).toBeUndefined();
      expect(along.alongSign).toEqual(curve.lossVsEps);
      // Per batch: clean, FGSM crafting and scoring, the sign's gradient, one scoring pass per ε.
      expect(model.calls).toHaveLength(3 * (1 + 2 + 1 + 2));
    } finally {
      model.dispose();
    }
  });

  it('tells onBatch the images done after each batch, the last batch short', async () => {
    const model = linear();
    const done: number[] = [];
    try {
      await evaluate(model, set, { batchSize: 2, attacks: [], rng: makeRng(1, 'eval'), onBatch: (n) => done.push(n) });
      expect(done).toEqual([2, 4, 5]);
    } finally {
      model.dispose();
    }
  });
});

describe('evaluate on a hand-computed batch', () => {
  it('clean accuracy and mean cross-entropy over all n images, n not a multiple of the batch size', async () => {
    // Five 1×1×2 images, three classes, logits = x·W + b, batches of 2 (the last holds one image).
    const weights = [2, -1, 0.5, -1, 3, 0]; // [pixel][class]
    const bias = [0.1, 0, -0.2];
    const pixels = [[255, 0], [0, 255], [255, 255], [51, 102], [0, 0]];
    const labels = [0, 1, 1, 2, 2];
    const set: ImageSet = { images: Uint8Array.from(pixels.flat()), labels: Uint8Array.from(labels), count: 5, height: 1, width: 1, channels: 2 };
    const model = makeClassifier({ kind: 'linear', height: 1, width: 1, channels: 2, numClasses: 3, weights, bias });
    let correct = 0;
    let loss = 0;
    pixels.forEach(([a, b], i) => {
      const [x0, x1] = [a / 255, b / 255];
      const z = [0, 1, 2].map((k) => x0 * weights[k] + x1 * weights[3 + k] + bias[k]);
      const lse = Math.log(z.reduce((s, v) => s + Math.exp(v), 0));
      loss += lse - z[labels[i]];
      if (z.indexOf(Math.max(...z)) === labels[i]) correct++;
    });
    try {
      const r = await evaluate(model, set, { batchSize: 2, attacks: [], rng: makeRng(1, 'eval') });
      // Logits by hand: (2.1, −1, 0.3), (−0.9, 3, −0.2), (1.1, 2, 0.3), (0.1, 1, −0.1), (0.1, 0, −0.2):
      // argmax 0, 1, 1, 1, 0 against labels 0, 1, 1, 2, 2, so 3 of 5 right.
      expect(correct).toBe(3);
      expect(r.cleanAcc).toBe(3 / 5);
      expect(r.cleanLoss).toBeCloseTo(loss / 5, 5);
      expect(r.adversarial).toEqual({});
      expect(r.lossVsEps).toBeUndefined();
    } finally {
      model.dispose();
    }
  });
});
