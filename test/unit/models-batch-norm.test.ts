import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { startBackend } from '../../src/backend/select.ts';
import { batchNorm as batchNormOp } from '../../src/backend/ops/index.ts';
import { applyBatchNorm, batchNorm, BN_EPSILON, type BatchNorm } from '../../src/models/batch-norm.ts';
import { makeRng } from '../../src/util/rng.ts';

/**
 * BatchNorm's hand-written forward pass and closed-form gradients (src/models/batch-norm.ts)
 * equal tfjs's tf.moments + tf.batchNorm (+ tf.relu) and autodiff through them, for x, γ and
 * β, in training and inference mode, with and without the fused ReLU, on random shapes.
 */
const TOLERANCE = 1e-4;

const problem = fc.record({
  n: fc.integer({ min: 1, max: 4 }),
  h: fc.integer({ min: 1, max: 5 }),
  w: fc.integer({ min: 1, max: 5 }),
  c: fc.integer({ min: 1, max: 6 }),
  training: fc.boolean(),
  relu: fc.boolean(),
  seed: fc.integer({ min: 0, max: 2 ** 30 }),
});

function normals(size: number, seed: number, stream: string, scale = 1, shift = 0): Float32Array {
  const rng = makeRng(seed, stream);
  return Float32Array.from({ length: size }, () => shift + scale * rng.normal());
}

/** max |a − b| / max |b|. */
function relErr(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] / Math.max(tf.max(tf.abs(b)).dataSync()[0], 1e-6));
}

function setUp(c: number, seed: number): BatchNorm {
  const layer = batchNorm(c, `bn-test-${seed}`);
  tf.tidy(() => {
    layer.gamma.assign(tf.tensor1d(normals(c, seed, 'g', 0.5, 1)));
    layer.beta.assign(tf.tensor1d(normals(c, seed, 'b')));
    layer.movingMean.assign(tf.tensor1d(normals(c, seed, 'mm', 0.3)));
    layer.movingVar.assign(tf.tensor1d(normals(c, seed, 'mv', 0.2, 1.5)));
  });
  return layer;
}

describe.each(['cpu', 'wasm'] as const)('BatchNorm on %s', (backend) => {
  beforeAll(async () => {
    await startBackend(backend);
  });

  it('output and gradients w.r.t. x, γ and β match tfjs autodiff (relative 1e-4), training and inference, with and without ReLU', () => {
    fc.assert(
      fc.property(problem, ({ n, h, w, c, training, relu, seed }) => {
        // With 1 or 2 values per channel x̂ is 0 or ±1 and ∂x is 0 up to the ε term, so a
        // relative error would compare rounding noise.
        fc.pre(!training || n * h * w >= 3);
        const layer = setUp(c, seed);
        const stats = [layer.movingMean.dataSync().slice(), layer.movingVar.dataSync().slice()];
        tf.tidy(() => {
          const x = tf.tensor4d(normals(n * h * w * c, seed, 'x', 2, 0.5), [n, h, w, c]);
          const r = tf.tensor4d(normals(n * h * w * c, seed, 'r'), [n, h, w, c]);
          const ours = (xi: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
            // γ and β go through the arguments so tf.grads differentiates them.
            const l = { ...layer, gamma: g as tf.Variable, beta: b as tf.Variable };
            return applyBatchNorm(l, xi as tf.Tensor4D, training, relu);
          };
          const reference = (xi: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
            const { mean, variance } = training
              ? tf.moments(xi, [0, 1, 2])
              : { mean: layer.movingMean as tf.Tensor, variance: layer.movingVar as tf.Tensor };
            const y = tf.batchNorm4d(xi as tf.Tensor4D, mean as tf.Tensor1D, variance as tf.Tensor1D, b as tf.Tensor1D, g as tf.Tensor1D, BN_EPSILON);
            return relu ? tf.relu(y) : y;
          };
          expect(relErr(ours(x, layer.gamma, layer.beta), reference(x, layer.gamma, layer.beta)), 'y').toBeLessThan(TOLERANCE);
          const loss = (f: typeof ours) => (xi: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(xi, g, b), r));
          // The fused kernels (wasm, webgpu) treat γ and β as constants in inference mode
          // (src/backend/ops/batch-norm.ts says why); there only ∂x exists.
          const constants = !training && batchNormOp.runsHere();
          const wrt = (f: typeof ours) => (constants ? (xi: tf.Tensor) => loss(f)(xi, layer.gamma, layer.beta) : loss(f));
          const args = constants ? [x] : [x, layer.gamma, layer.beta];
          const got = tf.grads(wrt(ours))(args);
          const want = tf.grads(wrt(reference))(args);
          got.forEach((g, i) => expect(relErr(g, want[i]), ['∂x', '∂γ', '∂β'][i]).toBeLessThan(TOLERANCE));
        });
        if (!training) {
          // Inference mode leaves the moving statistics alone.
          expect([layer.movingMean.dataSync(), layer.movingVar.dataSync()]).toEqual(stats);
        }
        Object.values(layer).forEach((v) => v.dispose());
      }),
      { numRuns: 60 },
    );
  });
});
