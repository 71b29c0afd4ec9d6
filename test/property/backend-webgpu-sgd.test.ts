import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { fusedSgdAvailable } from '../../src/backend/webgpu-sgd.ts';
import { Sgd } from '../../src/train/sgd.ts';
import { makeRng } from '../../src/util/rng.ts';
import { relativeError } from '../helpers/conv-cases.ts';
import { normals, webgpuUnavailable } from '../helpers/webgpu.ts';

/**
 * src/train/sgd.ts on webgpu runs the fused kernels of src/backend/webgpu-sgd.ts; on cpu, tfjs's
 * ops. Two steps from the same weights, velocities and gradients give the same numbers up to
 * float32 rounding: the kernels do the same operations in the same order, but a shader compiler
 * may contract a·b + c into one fused multiply-add (one rounding instead of two), so a few ulps
 * (relative 1e-6) may differ.
 */
let why: string | undefined;
beforeAll(async () => {
  why = await webgpuUnavailable();
});

interface Case {
  shape: number[];
  momentum: number;
  weightDecay: number;
  nesterov: boolean;
  lr: number;
  seed: number;
}

const sgdCase: fc.Arbitrary<Case> = fc.record({
  shape: fc.oneof(fc.tuple(fc.integer({ min: 1, max: 70 })), fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 7 }))),
  momentum: fc.constantFrom(0, 0.9, 0.5),
  weightDecay: fc.constantFrom(0, 5e-4, 0.01),
  nesterov: fc.boolean(),
  lr: fc.constantFrom(0.1, 0.01, 1.5),
  seed: fc.integer({ min: 0, max: 2 ** 30 }),
});

async function twoSteps(backend: 'cpu' | 'webgpu', c: Case): Promise<{ w: Float32Array; v: Float32Array; fused: boolean }> {
  await tf.setBackend(backend);
  const rng = makeRng(c.seed, 'sgd');
  const n = c.shape.reduce((a, b) => a * b, 1);
  const w = tf.variable(tf.tensor(normals(n, rng), c.shape));
  const sgd = new Sgd([w], { momentum: c.momentum, nesterov: c.nesterov, weightDecay: c.weightDecay });
  const fused = fusedSgdAvailable();
  for (let i = 0; i < 2; i++) {
    const g = tf.tensor(normals(n, rng), c.shape);
    sgd.apply([g], c.lr);
    g.dispose();
  }
  const out = { w: (await w.data()) as Float32Array, v: (await sgd.velocities[0].data()) as Float32Array, fused };
  sgd.dispose();
  w.dispose();
  return out;
}

describe('SGD with momentum and weight decay as fused webgpu kernels', () => {
  it('gives the weights and velocities of tfjs’s ops on cpu, to 1e-6 relative error, for any shape and hyper-parameters', async (ctx) => {
    if (why !== undefined) ctx.skip(`webgpu does not start here (${why})`);
    await fc.assert(
      fc.asyncProperty(sgdCase, async (c) => {
        const ref = await twoSteps('cpu', c);
        const gpu = await twoSteps('webgpu', c);
        expect(ref.fused).toBe(false);
        expect(gpu.fused).toBe(true);
        expect(relativeError(gpu.w, ref.w), JSON.stringify(c)).toBeLessThanOrEqual(1e-6);
        expect(relativeError(gpu.v, ref.v), JSON.stringify(c)).toBeLessThanOrEqual(1e-6);
      }),
      { numRuns: 12, seed: 14 },
    );
  });

  it('leaves no tensor behind', async (ctx) => {
    if (why !== undefined) ctx.skip(`webgpu does not start here (${why})`);
    await tf.setBackend('webgpu');
    const w = tf.variable(tf.ones([4, 3]));
    const sgd = new Sgd([w], { momentum: 0.9, nesterov: false, weightDecay: 1e-4 });
    const g = tf.ones([4, 3]);
    sgd.apply([g], 0.1);
    const before = tf.memory().numTensors;
    sgd.apply([g], 0.1);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([w, g]);
    sgd.dispose();
  });
});
