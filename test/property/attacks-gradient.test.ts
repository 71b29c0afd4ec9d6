import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { crossEntropySum, leastLikelyClass, lossGradientSign, noiseImage } from '../../src/attacks/index.ts';
import {
  inputSize,
  linearInputGradient64,
  logits64,
  problem,
  row,
  softmax64,
  withProblem,
  type LinearParams,
} from '../helpers/linear-classifier.ts';

const RUNS = { numRuns: 40 };

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

describe('the loss', () => {
  const logitsBatch = fc
    .record({ batch: fc.integer({ min: 1, max: 4 }), classes: fc.integer({ min: 2, max: 6 }) })
    .chain(({ batch, classes }) =>
      fc.record({
        classes: fc.constant(classes),
        logits: fc.array(fc.array(fc.float({ min: -20, max: 20, noNaN: true }), { minLength: classes, maxLength: classes }), {
          minLength: batch,
          maxLength: batch,
        }),
        labels: fc.array(fc.integer({ min: 0, max: classes - 1 }), { minLength: batch, maxLength: batch }),
      }),
    );

  it('is the sum over the batch of −log softmax(logits)[label]', () => {
    fc.assert(
      fc.property(logitsBatch, ({ logits, labels }) => {
        const expected = logits.reduce((acc, z, i) => acc - Math.log(softmax64(z)[labels[i]]), 0);
        const got = tf.tidy(() => crossEntropySum(tf.tensor1d(labels, 'int32'), tf.tensor2d(logits)).arraySync());
        expect(got).toBeCloseTo(expected, 3);
        expect(Math.abs(got - expected)).toBeLessThanOrEqual(1e-5 * Math.max(1, expected));
      }),
      RUNS,
    );
  });

  it('has gradient softmax − onehot with respect to each row of logits, whatever the batch size', () => {
    fc.assert(
      fc.property(logitsBatch, ({ logits, labels }) => {
        const grad = tf.tidy(() => {
          const y = tf.tensor1d(labels, 'int32');
          return tf.grad((z) => crossEntropySum(y, z as tf.Tensor2D))(tf.tensor2d(logits)).arraySync() as number[][];
        });
        logits.forEach((z, i) => {
          const expected = softmax64(z).map((p, k) => p - (k === labels[i] ? 1 : 0));
          expected.forEach((v, k) => expect(Math.abs(grad[i][k] - v)).toBeLessThanOrEqual(1e-6));
        });
      }),
      RUNS,
    );
  });

  it('gives the same gradient signs when scaled by a positive factor (e.g. a mean instead of a sum), wherever the gradient is far from float32 underflow', () => {
    const scale = fc.oneof(fc.float({ min: Math.fround(1e-3), max: 1e3, noNaN: true }), fc.constant(-1));
    fc.assert(
      fc.property(problem(), scale, (pr, c) => {
        withProblem(pr, (model, x, y) => {
          const factor = c > 0 ? c : 1 / pr.batch; // −1 stands for the batch mean
          const gradOf = (k: number) =>
            tf.tidy(() => tf.grad((xi) => tf.mul(crossEntropySum(y, model.logits(xi as tf.Tensor4D, false)), k))(x));
          const raw = gradOf(1);
          const scaled = gradOf(factor);
          const plain = lossGradientSign(model, x, y);
          const [r, sc, pl] = [raw.dataSync(), scaled.dataSync(), plain.dataSync()];
          r.forEach((v, i) => {
            expect(pl[i]).toBe(Math.sign(v) || 0);
            // a product that falls below 1e-30 may round to a subnormal or 0 after scaling
            if (Math.abs(v) >= 1e-30) expect(Math.sign(sc[i])).toBe(pl[i]);
          });
          tf.dispose([raw, scaled, plain]);
        });
      }),
      RUNS,
    );
  });
});

describe('lossGradientSign', () => {
  it('has the shape of x and takes only the values −1, 0, 1', () => {
    fc.assert(
      fc.property(problem(), (pr) => {
        withProblem(pr, (model, x, y) => {
          const s = lossGradientSign(model, x, y);
          expect(s.shape).toEqual(x.shape);
          for (const v of s.dataSync()) expect([-1, 0, 1]).toContain(v);
          s.dispose();
        });
      }),
      RUNS,
    );
  });

  it('matches the analytic direction sign(W·(softmax − onehot)) of a linear model wherever that is not ~0', () => {
    let compared = 0;
    fc.assert(
      fc.property(problem(['linear']), (pr) => {
        const p = pr.params as LinearParams;
        const d = inputSize(p);
        withProblem(pr, (model, x, y) => {
          const s = lossGradientSign(model, x, y);
          const got = s.dataSync();
          const xs = x.dataSync();
          for (let i = 0; i < pr.batch; i++) {
            const g = linearInputGradient64(p, row(xs, i, d), pr.labels[i]);
            g.forEach((gj, j) => {
              if (Math.abs(gj) < 1e-5) return; // float32 rounding decides the sign there
              compared++;
              expect(got[i * d + j]).toBe(Math.sign(gj));
            });
          }
          s.dispose();
        });
      }),
      RUNS,
    );
    expect(compared).toBeGreaterThan(0);
  });

  it('passes the training flag to the model (false unless asked)', () => {
    fc.assert(
      fc.property(problem(), fc.constantFrom(undefined, false, true), (pr, training) => {
        withProblem(pr, (model, x, y) => {
          tf.dispose(lossGradientSign(model, x, y, training === undefined ? undefined : { training }));
          tf.dispose(leastLikelyClass(model, x, training === undefined ? undefined : { training }));
          expect(model.calls).toEqual([training ?? false, training ?? false]);
        });
      }),
      { numRuns: 10 },
    );
  });
});

describe('leastLikelyClass', () => {
  it('is the int32 index of the smallest logit of each example', () => {
    fc.assert(
      fc.property(problem(), (pr) => {
        const d = inputSize(pr.params);
        withProblem(pr, (model, x) => {
          const ll = leastLikelyClass(model, x);
          expect(ll.dtype).toBe('int32');
          expect(ll.shape).toEqual([pr.batch]);
          const got = ll.dataSync();
          const xs = x.dataSync();
          for (let i = 0; i < pr.batch; i++) {
            const z = logits64(pr.params, row(xs, i, d));
            const sorted = [...z].sort((a, b) => a - b);
            if (sorted[1] - sorted[0] < 1e-4) continue; // a float32 tie may break either way
            expect(got[i]).toBe(z.indexOf(sorted[0]));
          }
          ll.dispose();
        });
      }),
      RUNS,
    );
  });
});

describe('noiseImage', () => {
  const gradients = fc
    .record({ n: fc.integer({ min: 1, max: 3 }), h: fc.integer({ min: 1, max: 3 }), c: fc.integer({ min: 1, max: 3 }) })
    .chain(({ n, h, c }) =>
      fc.record({
        shape: fc.constant([n, h, h, c] as [number, number, number, number]),
        values: fc.array(
          fc.oneof(fc.float({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(-1, 0, -0, 1, 1e-30, -1e-30)),
          { minLength: n * h * h * c, maxLength: n * h * h * c },
        ),
      }),
    );

  it('is binary and equals 0 exactly where the gradient is negative, for a gradient or its sign', () => {
    fc.assert(
      fc.property(gradients, fc.boolean(), ({ shape, values }, signFirst) => {
        const out = tf.tidy(() => {
          const g = tf.tensor4d(values, shape);
          return noiseImage(signFirst ? tf.sign(g) : g);
        });
        expect(out.shape).toEqual(shape);
        const got = out.dataSync();
        values.forEach((v, i) => expect(got[i]).toBe(Math.fround(v) < 0 ? 0 : 1));
        out.dispose();
      }),
      RUNS,
    );
  });

  it('of a model’s loss gradient sign is clip(sign + 1, 0, 1)', () => {
    fc.assert(
      fc.property(problem(), (pr) => {
        withProblem(pr, (model, x, y) => {
          const s = lossGradientSign(model, x, y);
          const img = noiseImage(s);
          const sv = s.dataSync();
          img.dataSync().forEach((v, i) => expect(v).toBe(Math.min(1, Math.max(0, sv[i] + 1))));
          tf.dispose([s, img]);
        });
      }),
      { numRuns: 20 },
    );
  });
});
