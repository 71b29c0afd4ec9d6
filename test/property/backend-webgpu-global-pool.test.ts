import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { GLOBAL_AVERAGE_POOL, globalAveragePool } from '../../src/backend/webgpu-global-pool.ts';
import { makeRng } from '../../src/util/rng.ts';
import { relativeError } from '../helpers/conv-cases.ts';
import { normals, webgpuUnavailable } from '../helpers/webgpu.ts';

/**
 * The ResNet head's global average pool is one kernel forward and one backward on webgpu
 * (src/backend/webgpu-global-pool.ts) and tf.mean(x, [1, 2]) elsewhere. Both divide each value
 * by h·w and sum in the same order, so they differ only where WGSL's division rounds differently
 * from the cpu's correctly rounded one (up to 2.5 ulps per term): within 1e-6 relative error of
 * the largest value. A missed position, channel or image, or a wrong divisor, is off by far more.
 */
let why: string | undefined;
beforeAll(async () => {
  why = await webgpuUnavailable();
});

interface Case {
  shape: [number, number, number, number];
  seed: number;
}

const dim = (max: number) => fc.integer({ min: 1, max });
const poolCase: fc.Arbitrary<Case> = fc.record({
  shape: fc.tuple(dim(3), dim(6), dim(6), dim(9)),
  seed: fc.integer({ min: 0, max: 2 ** 30 }),
});

async function run(backend: 'cpu' | 'webgpu', c: Case): Promise<{ y: Float32Array; dx: Float32Array; fused: boolean }> {
  await tf.setBackend(backend);
  const rng = makeRng(c.seed, 'pool');
  const [n, , , ch] = c.shape;
  const x = tf.tensor4d(normals(c.shape.reduce((a, b) => a * b, 1), rng), c.shape);
  const dy = tf.tensor2d(normals(n * ch, rng), [n, ch]);
  const { value, grad } = tf.valueAndGrad((xi: tf.Tensor) => globalAveragePool(xi as tf.Tensor4D))(x, dy);
  const out = { y: (await value.data()) as Float32Array, dx: (await grad.data()) as Float32Array, fused: tf.getKernel(GLOBAL_AVERAGE_POOL, backend) !== undefined };
  tf.dispose([x, dy, value, grad]);
  return out;
}

describe('global average pooling as fused webgpu kernels', () => {
  it('gives tf.mean(x, [1, 2]) and its gradient on cpu, to 1e-6 relative error, for any NHWC shape', async (ctx) => {
    if (why !== undefined) ctx.skip(`webgpu does not start here (${why})`);
    await fc.assert(
      fc.asyncProperty(poolCase, async (c) => {
        const ref = await run('cpu', c);
        const gpu = await run('webgpu', c);
        expect(ref.fused).toBe(false);
        expect(gpu.fused).toBe(true);
        expect(relativeError(gpu.y, ref.y), `value ${JSON.stringify(c)}`).toBeLessThanOrEqual(1e-6);
        expect(relativeError(gpu.dx, ref.dx), `gradient ${JSON.stringify(c)}`).toBeLessThanOrEqual(1e-6);
      }),
      { numRuns: 12, seed: 14 },
    );
  });

  it('leaves no tensor behind', async (ctx) => {
    if (why !== undefined) ctx.skip(`webgpu does not start here (${why})`);
    await tf.setBackend('webgpu');
    const x = tf.ones([2, 3, 3, 4]) as tf.Tensor4D;
    const once = async () => {
      const g = tf.grad((xi: tf.Tensor) => globalAveragePool(xi as tf.Tensor4D).sum())(x);
      await g.data();
      g.dispose();
    };
    await once();
    const before = tf.memory().numTensors;
    await once();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});
