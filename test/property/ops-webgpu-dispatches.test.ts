import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { gpuCounts } from '../../src/backend/webgpu-counts.ts';
import { applyBatchNorm, batchNorm, type Residual } from '../../src/models/batch-norm.ts';
import { webgpuUnavailable } from '../helpers/webgpu.ts';

/**
 * What the fused batch-norm kernels are for on webgpu: a few dispatches per layer, where tfjs's
 * ops took ~25–30 (their numbers against the reference are test/property/ops.test.ts's).
 */
let why: string | undefined;
beforeAll(async () => {
  why = await webgpuUnavailable();
});

describe('batch norm on webgpu', () => {
  for (const training of [true, false]) it(`costs a few dispatches per layer and leaves no tensor behind (${training ? 'training' : 'inference'} mode)`, async (ctx) => {
    if (why !== undefined) ctx.skip(`webgpu does not start here (${why})`);
    await tf.setBackend('webgpu');
    const layer = batchNorm(4, `bn-webgpu-count-${training}`);
    const x = tf.randomNormal([2, 2, 2, 4]) as tf.Tensor4D;
    const s = tf.randomNormal([2, 4, 4, 2]) as tf.Tensor4D;
    const residual: Residual = { x: s, project: { stride: 2, extraChannels: 2 } };
    const step = async () => {
      const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(applyBatchNorm(layer, a as tf.Tensor4D, training, true, { ...residual, x: b as tf.Tensor4D })))([x, s]);
      await Promise.all(grads.map((g) => g.data()));
      tf.dispose(grads);
    };
    await step();
    const tensors = tf.memory().numTensors;
    const before = gpuCounts().dispatches;
    await step();
    const dispatches = gpuCounts().dispatches - before;
    expect(tf.memory().numTensors).toBe(tensors);
    // Forward: stats, 2 moving averages, normalise (training); normalise alone (inference).
    // Backward: ∂γ, ∂β sums, ∂x, shortcut (training); ∂x, shortcut (inference). Plus one for
    // tf.sum and its gradient (tfjs runs element-wise ops this small on the CPU).
    const ours = training ? 4 + 4 : 1 + 2;
    expect(dispatches).toBeLessThanOrEqual(ours + 1);
    tf.dispose([x, s, layer.gamma, layer.beta, layer.movingMean, layer.movingVar]);
  });
});
