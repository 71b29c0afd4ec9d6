import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { crossEntropyEach, crossEntropySum } from '../../src/attacks/gradient.ts';
import { fusedCrossEntropy, fusedCrossEntropyAvailable } from '../../src/backend/webgpu-cross-entropy.ts';
import { lossWeights } from '../../src/train/step.ts';
import { makeRng } from '../../src/util/rng.ts';
import { webgpuUnavailable } from '../helpers/webgpu.ts';

/**
 * On webgpu the softmax cross-entropy of the attacks (crossEntropyEach, crossEntropySum) and of
 * the training step (the weighted sum) is src/backend/webgpu-cross-entropy.ts's fused kernels; on
 * cpu it is tfjs's losses.softmaxCrossEntropy over a one-hot matrix, as before. Both give the same
 * losses and logit gradients up to float32 rounding. The tolerance, 2e-6·(1 + |value|) per
 * element, is about 16 float32 ulps (measured: ≤ 1 ulp, 5e-8): the arithmetic is the same, in the same order, but the cpu backend's exp
 * and log are float64 ones rounded to float32, where WGSL's may be off by a few ulps, and the
 * softmax sum may be taken in another order. A wrong formula (a missing weight, max, label or
 * sign) is off by far more than that.
 */
let why: string | undefined;
beforeAll(async () => {
  why = await webgpuUnavailable();
});

interface Case {
  rows: number;
  classes: number;
  /** Logits are scale·N(0, 1), rounded to `tieStep` where it is > 0 (ties in a row, a tied max). */
  scale: number;
  tieStep: number;
  /** Adversarial rows first, weighted λ in the training step. */
  k: number;
  lambda: number;
  seed: number;
}

const ceCase: fc.Arbitrary<Case> = fc
  .record({
    rows: fc.integer({ min: 1, max: 6 }),
    classes: fc.integer({ min: 2, max: 12 }),
    scale: fc.constantFrom(1, 8, 300),
    tieStep: fc.constantFrom(0, 0, 1),
    kFraction: fc.double({ min: 0, max: 1, noNaN: true }),
    lambda: fc.constantFrom(1, 0.3, 2.5),
    seed: fc.integer({ min: 0, max: 2 ** 30 }),
  })
  .map(({ kFraction, ...c }) => ({ ...c, k: Math.round(kFraction * c.rows) }));

interface Inputs {
  logits: Float32Array;
  labels: Int32Array;
  /** The upstream gradient of each row's loss (for the per-example form). */
  dy: Float32Array;
}

function inputsOf(c: Case): Inputs {
  const rng = makeRng(c.seed, 'ce');
  const logits = Float32Array.from({ length: c.rows * c.classes }, () => {
    const v = c.scale * rng.normal();
    return c.tieStep > 0 ? Math.round(v / c.tieStep) * c.tieStep : v;
  });
  const labels = Int32Array.from({ length: c.rows }, () => rng.int(c.classes));
  const dy = Float32Array.from({ length: c.rows }, () => rng.normal());
  return { logits, labels, dy };
}

interface Result {
  each: Float32Array;
  eachGrad: Float32Array;
  sum: Float32Array;
  sumGrad: Float32Array;
  weighted: Float32Array;
  weightedGrad: Float32Array;
  fused: boolean;
}

/** The training step's loss before the fused kernel (src/train/step.ts on every other backend). */
function weightedReference(labels: tf.Tensor1D, logits: tf.Tensor2D, c: Case): tf.Scalar {
  const weights = tf.concat([tf.fill([c.k], c.lambda), tf.ones([c.rows - c.k])]).div(c.rows - c.k + c.lambda * c.k);
  const perExample = tf.losses.softmaxCrossEntropy(tf.oneHot(labels, c.classes), logits, undefined, undefined, tf.Reduction.NONE);
  return perExample.mul(weights).sum() as tf.Scalar;
}

async function run(backend: 'cpu' | 'webgpu', c: Case, i: Inputs): Promise<Result> {
  await tf.setBackend(backend);
  const fused = fusedCrossEntropyAvailable();
  const logits = tf.tensor2d(i.logits, [c.rows, c.classes]);
  const labels = tf.tensor1d(i.labels, 'int32');
  const dy = tf.tensor1d(i.dy);
  const weighted = (l: tf.Tensor2D) =>
    fused ? (fusedCrossEntropy(labels, l, { reduction: 'sum', k: c.k, ...lossWeights(c.rows, c.k, c.lambda) }) as tf.Scalar) : weightedReference(labels, l, c);
  const outs = tf.tidy(() => {
    const each = tf.valueAndGrad((l: tf.Tensor) => crossEntropyEach(labels, l as tf.Tensor2D));
    const sum = tf.valueAndGrad((l: tf.Tensor) => crossEntropySum(labels, l as tf.Tensor2D));
    const w = tf.valueAndGrad((l: tf.Tensor) => weighted(l as tf.Tensor2D));
    const [e, s, ws] = [each(logits, dy), sum(logits), w(logits)];
    return [e.value, e.grad, s.value, s.grad, ws.value, ws.grad];
  });
  const data = (await Promise.all(outs.map((t) => t.data()))) as Float32Array[];
  tf.dispose([...outs, logits, labels, dy]);
  const [each, eachGrad, sum, sumGrad, weightedLoss, weightedGrad] = data;
  return { each, eachGrad, sum, sumGrad, weighted: weightedLoss, weightedGrad, fused };
}

/** The largest |a − b| / (1 + |b|) over all elements. */
function worst(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let w = 0;
  for (let j = 0; j < b.length; j++) w = Math.max(w, Math.abs(a[j] - b[j]) / (1 + Math.abs(b[j])));
  return w;
}

const TOLERANCE = 2e-6;

describe('softmax cross-entropy as fused webgpu kernels', () => {
  it('gives tfjs’s losses and logit gradients on cpu (per example, summed, and weighted as in training) to 2e-6·(1 + |value|), for any small batch, ties and large logits included', async (ctx) => {
    if (why !== undefined) ctx.skip(`webgpu does not start here (${why})`);
    await fc.assert(
      fc.asyncProperty(ceCase, async (c) => {
        const inputs = inputsOf(c);
        const ref = await run('cpu', c, inputs);
        const gpu = await run('webgpu', c, inputs);
        expect(ref.fused).toBe(false);
        expect(gpu.fused).toBe(true);
        for (const key of ['each', 'eachGrad', 'sum', 'sumGrad', 'weighted', 'weightedGrad'] as const) {
          expect(worst(gpu[key], ref[key]), `${key} ${JSON.stringify(c)}`).toBeLessThanOrEqual(TOLERANCE);
        }
      }),
      { numRuns: 16, seed: 14 },
    );
  });

  it('differentiates through labels taken from the logits themselves (step-LL), with no gradient through the labels', async (ctx) => {
    if (why !== undefined) ctx.skip(`webgpu does not start here (${why})`);
    const c: Case = { rows: 3, classes: 5, scale: 2, tieStep: 0, k: 0, lambda: 1, seed: 7 };
    const { logits } = inputsOf(c);
    const gradOn = async (backend: 'cpu' | 'webgpu') => {
      await tf.setBackend(backend);
      const l = tf.tensor2d(logits, [c.rows, c.classes]);
      const g = tf.grad((x: tf.Tensor) => crossEntropySum(tf.argMin(x, 1) as tf.Tensor1D, x as tf.Tensor2D))(l);
      const out = (await g.data()) as Float32Array;
      tf.dispose([l, g]);
      return out;
    };
    expect(worst(await gradOn('webgpu'), await gradOn('cpu'))).toBeLessThanOrEqual(TOLERANCE);
  });

  it('takes a scalar upstream gradient from the GPU as well as from the CPU', async (ctx) => {
    if (why !== undefined) ctx.skip(`webgpu does not start here (${why})`);
    const c: Case = { rows: 4, classes: 3, scale: 3, tieStep: 0, k: 0, lambda: 1, seed: 9 };
    const { logits, labels } = inputsOf(c);
    const gradOn = async (backend: 'cpu' | 'webgpu') => {
      await tf.setBackend(backend);
      const [l, y, dy] = [tf.tensor2d(logits, [c.rows, c.classes]), tf.tensor1d(labels, 'int32'), tf.scalar(-2.5)];
      // A dy that a kernel produced lives on the GPU; this puts one there without a kernel.
      if (backend === 'webgpu') (tf.backend() as unknown as { uploadToGPU(id: object): void }).uploadToGPU(dy.dataId);
      const g = tf.grad((x: tf.Tensor) => crossEntropySum(y, x as tf.Tensor2D))(l, dy);
      const out = (await g.data()) as Float32Array;
      tf.dispose([l, y, dy, g]);
      return out;
    };
    expect(worst(await gradOn('webgpu'), await gradOn('cpu'))).toBeLessThanOrEqual(TOLERANCE);
  });

  it('leaves no tensor behind', async (ctx) => {
    if (why !== undefined) ctx.skip(`webgpu does not start here (${why})`);
    await tf.setBackend('webgpu');
    const logits = tf.tensor2d([1, 2, 3, 4, 4, 0], [2, 3]);
    const labels = tf.tensor1d([2, 0], 'int32');
    const once = async () => {
      const { value, grad } = tf.valueAndGrad((l: tf.Tensor) => crossEntropySum(labels, l as tf.Tensor2D))(logits);
      await grad.data();
      tf.dispose([value, grad]);
    };
    await once();
    const before = tf.memory().numTensors;
    await once();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([logits, labels]);
  });
});
