import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { startBackend } from '../../src/backend/select.ts';
import { applyBatchNorm, batchNorm, BN_EPSILON } from '../../src/models/batch-norm.ts';
import { makeRng } from '../../src/util/rng.ts';

/**
 * The closed-form BatchNorm gradient (src/models/batch-norm.ts) equals what tfjs's autodiff
 * gives through tf.moments and tf.batchNorm, for x, γ and β, on random shapes and values.
 */
const shape = fc.record({
  n: fc.integer({ min: 1, max: 4 }),
  h: fc.integer({ min: 1, max: 5 }),
  w: fc.integer({ min: 1, max: 5 }),
  c: fc.integer({ min: 1, max: 6 }),
  seed: fc.integer({ min: 0, max: 2 ** 30 }),
});

function normals(size: number, seed: number, stream: string, scale = 1, shift = 0): Float32Array {
  const rng = makeRng(seed, stream);
  return Float32Array.from({ length: size }, () => shift + scale * rng.normal());
}

function relErr(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] / Math.max(tf.max(tf.abs(b)).dataSync()[0], 1e-6));
}

describe.each(['cpu', 'wasm'] as const)('BatchNorm in training mode on %s', (backend) => {
  beforeAll(async () => {
    await startBackend(backend);
  });

  it('gradients w.r.t. x, γ and β match autodiff through tf.moments + tf.batchNorm (relative 1e-4)', () => {
    fc.assert(
      fc.property(shape, ({ n, h, w, c, seed }) => {
        // With 1 or 2 values per channel x̂ is 0 or ±1 and ∂x is 0 up to the ε term, so a
        // relative error would compare rounding noise.
        fc.pre(n * h * w >= 3);
        const layer = batchNorm(c, `bn-test-${seed}`);
        tf.tidy(() => {
          layer.gamma.assign(tf.tensor1d(normals(c, seed, 'g', 0.5, 1)));
          layer.beta.assign(tf.tensor1d(normals(c, seed, 'b')));
          const x = tf.tensor4d(normals(n * h * w * c, seed, 'x', 2, 0.5), [n, h, w, c]);
          const r = tf.tensor4d(normals(n * h * w * c, seed, 'r'), [n, h, w, c]);
          const ours = (xi: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
            // Route γ and β through the arguments so tf.grads differentiates them.
            const l = { ...layer, gamma: g as tf.Variable, beta: b as tf.Variable };
            return tf.sum(tf.mul(applyBatchNorm(l, xi as tf.Tensor4D, true), r));
          };
          const reference = (xi: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
            const { mean, variance } = tf.moments(xi, [0, 1, 2]);
            return tf.sum(tf.mul(tf.batchNorm4d(xi as tf.Tensor4D, mean as tf.Tensor1D, variance as tf.Tensor1D, b as tf.Tensor1D, g as tf.Tensor1D, BN_EPSILON), r));
          };
          const args = [x, layer.gamma, layer.beta];
          const got = tf.grads(ours)(args);
          const want = tf.grads(reference)(args);
          got.forEach((g, i) => expect(relErr(g, want[i]), ['x', 'γ', 'β'][i]).toBeLessThan(1e-4));
        });
        Object.values(layer).forEach((v) => v.dispose());
      }),
      { numRuns: 40 },
    );
  });
});
