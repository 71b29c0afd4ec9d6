import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { startBackend } from '../../src/backend/select.ts';
import { maxPoolGradTiledCalls } from '../../src/backend/wasm-max-pool-grad.ts';
import { makeRng } from '../../src/util/rng.ts';
import { relativeError } from '../helpers/conv-cases.ts';

/**
 * wasm's MaxPoolGrad for pools whose windows tile the input (src/backend/wasm-max-pool-grad.ts)
 * gives exactly the cpu backend's gradient: it only moves dy's values, so any difference is a
 * wrong position. Pixels are drawn from a few levels so that windows hold ties, where the
 * gradient must go to the first maximum in row-major order, as on cpu. Overlapping pools keep
 * the stock kernel, checked to 1e-6 on untied pixels.
 */
interface PoolCase {
  n: number;
  h: number;
  w: number;
  c: number;
  filter: number;
  /** The stride: the filter's (tiled: the JS path) or 1 (overlapping: the stock kernel). */
  tiled: boolean;
  /** Pixels are integers below this (ties); 0: uniform in [0, 1) (no ties). */
  levels: number;
  seed: number;
}

const poolCase: fc.Arbitrary<PoolCase> = fc
  .record({
    n: fc.integer({ min: 1, max: 3 }),
    h: fc.integer({ min: 1, max: 9 }),
    w: fc.integer({ min: 1, max: 9 }),
    c: fc.integer({ min: 1, max: 5 }),
    filter: fc.integer({ min: 1, max: 3 }),
    tiled: fc.boolean(),
    levels: fc.constantFrom(2, 3, 1000),
    seed: fc.integer({ min: 0, max: 2 ** 30 }),
  })
  .filter((p) => p.h >= p.filter && p.w >= p.filter)
  // The stock kernel breaks ties otherwise than cpu (a 2×2 window of 0, 1, 0, 1: its gradient
  // lands elsewhere); overlapping pools are compared on untied pixels.
  .map((p) => (p.tiled ? p : { ...p, levels: 0 }));

/** ∂(Σ r ⊙ maxPool(x)) / ∂x on `backend`, and the pooled output. */
async function gradOn(backend: 'cpu' | 'wasm', p: PoolCase): Promise<{ y: Float32Array; dx: Float32Array }> {
  await tf.setBackend(backend);
  const rng = makeRng(p.seed, 'max-pool-grad');
  const size = p.n * p.h * p.w * p.c;
  const x = tf.tensor4d(Float32Array.from({ length: size }, () => (p.levels === 0 ? rng.next() : Math.floor(rng.next() * p.levels))), [p.n, p.h, p.w, p.c]);
  const stride = p.tiled ? p.filter : 1;
  const pool = (t: tf.Tensor) => tf.maxPool(t as tf.Tensor4D, p.filter, stride, 'valid');
  const y = pool(x);
  const r = tf.tensor(Float32Array.from({ length: y.size }, () => rng.normal()), y.shape);
  const dx = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(pool(t), r)))(x);
  const out = { y: (await y.data()) as Float32Array, dx: (await dx.data()) as Float32Array };
  tf.dispose([x, y, r, dx]);
  return out;
}

beforeAll(async () => {
  await startBackend('cpu');
  await startBackend('wasm');
});

describe('MaxPoolGrad on wasm', () => {
  it('equals the cpu backend’s gradient exactly, ties included, for tiled (the JS path) and overlapping (stock) pools', async () => {
    await fc.assert(
      fc.asyncProperty(poolCase, async (p) => {
        const before = maxPoolGradTiledCalls();
        const got = await gradOn('wasm', p);
        // A 1×1 pool with stride 1 tiles too, and so does one window over the whole image.
        const tiles = p.tiled || p.filter === 1 || (p.h === p.filter && p.w === p.filter);
        expect(maxPoolGradTiledCalls() - before, 'took the tiled path').toBe(tiles ? 1 : 0);
        const want = await gradOn('cpu', p);
        expect(got.y).toEqual(want.y);
        // Overlapping windows add up their gradients, in another order in the stock kernel.
        if (tiles) expect(got.dx).toEqual(want.dx);
        else expect(relativeError(got.dx, want.dx)).toBeLessThanOrEqual(1e-6);
      }),
      { numRuns: 80, seed: 24 },
    );
  });

  it('equals it at a fastnet pool’s size (16×32×32×16, 2×2), with no tensor or wasm buffer left behind', async () => {
    const p: PoolCase = { n: 16, h: 32, w: 32, c: 16, filter: 2, tiled: true, levels: 50, seed: 3 };
    await gradOn('wasm', p);
    const tensors = tf.memory().numTensors;
    const buffers = tf.backend().numDataIds();
    const got = await gradOn('wasm', p);
    expect([tf.memory().numTensors, tf.backend().numDataIds()]).toEqual([tensors, buffers]);
    expect(got.dx).toEqual((await gradOn('cpu', p)).dx);
  });
});
