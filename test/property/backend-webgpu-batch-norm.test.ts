import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { fusedBatchNormAvailable } from '../../src/backend/webgpu-batch-norm.ts';
import { gpuCounts } from '../../src/backend/webgpu-counts.ts';
import { applyBatchNorm, batchNorm, type BatchNorm, type Residual } from '../../src/models/batch-norm.ts';
import { makeRng } from '../../src/util/rng.ts';
import { relativeError } from '../helpers/conv-cases.ts';
import { normals, webgpuUnavailable } from '../helpers/webgpu.ts';

/**
 * src/models/batch-norm.ts on webgpu runs the kernels of src/backend/webgpu-batch-norm.ts; on
 * cpu, tfjs's ops. Both compute the same formulas, but the per-channel sums run in a different
 * order (a tree in workgroup memory against a sequential loop), a shader may fuse a·b + c into
 * one rounding, and inverseSqrt is not correctly rounded in WGSL: a few float32 ulps per
 * operation, which the closed-form ∂x (a difference of terms of similar size) can amplify.
 * Relative to each output's largest magnitude, 1e-4 leaves room for that and none for a wrong
 * index, channel or formula (those give errors of order 1).
 */
const TOLERANCE = 1e-4;

let why: string | undefined;
beforeAll(async () => {
  why = await webgpuUnavailable();
});

type Shortcut = 'none' | 'identity' | 'projection';

interface Case {
  n: number;
  /** The shortcut input's height and width (the block input); the output's when there is none. */
  hs: number;
  ws: number;
  /** The shortcut input's channels; the output has `extra` more. */
  cs: number;
  extra: number;
  stride: number;
  shortcut: Shortcut;
  training: boolean;
  relu: boolean;
  seed: number;
}

const bnCase: fc.Arbitrary<Case> = fc
  .record({
    n: fc.integer({ min: 1, max: 4 }),
    hs: fc.integer({ min: 1, max: 6 }),
    ws: fc.integer({ min: 1, max: 6 }),
    cs: fc.integer({ min: 1, max: 9 }),
    extra: fc.integer({ min: 0, max: 3 }),
    stride: fc.constantFrom(1, 2),
    shortcut: fc.constantFrom<Shortcut>('none', 'identity', 'projection'),
    training: fc.boolean(),
    relu: fc.boolean(),
    seed: fc.integer({ min: 0, max: 2 ** 30 }),
  })
  .map((c) => (c.shortcut === 'projection' ? { ...c, extra: Math.min(c.extra, 9 - c.cs) } : { ...c, stride: 1, extra: 0 }))
  // With 1 or 2 values per channel x̂ is 0 or ±1 and ∂x is 0 up to the ε term, so a relative
  // error would compare rounding noise (as in test/unit/models-batch-norm.test.ts).
  .filter((c) => !c.training || c.n * Math.ceil(c.hs / c.stride) * Math.ceil(c.ws / c.stride) >= 3);

function shapes(c: Case): { x: [number, number, number, number]; s: [number, number, number, number] } {
  return {
    x: [c.n, Math.ceil(c.hs / c.stride), Math.ceil(c.ws / c.stride), c.cs + c.extra],
    s: [c.n, c.hs, c.ws, c.cs],
  };
}

function layerFor(ch: number, rng: ReturnType<typeof makeRng>): BatchNorm {
  const layer = batchNorm(ch, 'bn-webgpu-test');
  const vec = (scale: number, shift: number) => tf.tensor1d(Array.from({ length: ch }, () => shift + scale * rng.normal()));
  tf.tidy(() => {
    layer.gamma.assign(vec(0.5, 1));
    layer.beta.assign(vec(1, 0));
    layer.movingMean.assign(vec(0.3, 0));
    layer.movingVar.assign(tf.abs(vec(0.2, 1.5)) as tf.Tensor1D);
  });
  return layer;
}

interface Outcome {
  y: Float32Array;
  /** ∂(Σ y·r) w.r.t. x, the shortcut input (when there is one), and in training γ and β. */
  grads: Record<string, Float32Array>;
  movingMean: Float32Array;
  movingVar: Float32Array;
  fused: boolean;
}

/** One forward and backward of applyBatchNorm on `backend`, from the case's seeded inputs. */
async function forwardBackward(backend: 'cpu' | 'webgpu', c: Case): Promise<Outcome> {
  await tf.setBackend(backend);
  const rng = makeRng(c.seed, 'bn-webgpu');
  const { x: xShape, s: sShape } = shapes(c);
  const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
  const layer = layerFor(xShape[3], rng);
  const x = tf.tensor4d(normals(size(xShape), rng), xShape);
  const s = tf.tensor4d(normals(size(sShape), rng), sShape);
  const r = tf.tensor4d(normals(size(xShape), rng), xShape);
  const project = c.shortcut === 'projection' ? { stride: c.stride, extraChannels: c.extra } : null;
  const names = ['x', ...(c.shortcut === 'none' ? [] : ['shortcut']), ...(c.training ? ['gamma', 'beta'] : [])];
  const f = (...args: tf.Tensor[]) => {
    const byName = Object.fromEntries(names.map((n, i) => [n, args[i]]));
    // γ and β go through the arguments so that tf.grads differentiates them.
    const l = c.training ? { ...layer, gamma: byName.gamma as tf.Variable, beta: byName.beta as tf.Variable } : layer;
    const residual: Residual | undefined = c.shortcut === 'none' ? undefined : { x: byName.shortcut as tf.Tensor4D, project };
    const y = applyBatchNorm(l, byName.x as tf.Tensor4D, c.training, c.relu, residual);
    return tf.sum(tf.mul(y, r)) as tf.Scalar;
  };
  const args = names.map((n) => ({ x, shortcut: s, gamma: layer.gamma, beta: layer.beta })[n] as tf.Tensor);
  const { grads } = tf.valueAndGrads(f)(args);
  // The forward again, without the tape, for y itself (in training it moves the averages once more).
  const y = tf.tidy(() => applyBatchNorm(layer, x, c.training, c.relu, c.shortcut === 'none' ? undefined : { x: s, project }));
  const out: Outcome = {
    y: (await y.data()) as Float32Array,
    grads: Object.fromEntries(await Promise.all(names.map(async (n, i) => [n, (await grads[i].data()) as Float32Array]))),
    movingMean: (await layer.movingMean.data()) as Float32Array,
    movingVar: (await layer.movingVar.data()) as Float32Array,
    fused: fusedBatchNormAvailable(),
  };
  tf.dispose([x, s, r, y, ...grads, layer.gamma, layer.beta, layer.movingMean, layer.movingVar]);
  return out;
}

describe('BatchNorm (+ shortcut, + ReLU) as webgpu kernels', () => {
  it('gives the output, moving averages and gradients (x, shortcut, γ, β) of the cpu path, to 1e-4 relative error, for any small shape, stride, shortcut and mode', async (ctx) => {
    if (why !== undefined) ctx.skip(`webgpu does not start here (${why})`);
    await fc.assert(
      fc.asyncProperty(bnCase, async (c) => {
        const ref = await forwardBackward('cpu', c);
        const gpu = await forwardBackward('webgpu', c);
        expect(ref.fused).toBe(false);
        expect(gpu.fused).toBe(true);
        const at = (what: string) => `${what} of ${JSON.stringify(c)}`;
        expect(relativeError(gpu.y, ref.y), at('y')).toBeLessThanOrEqual(TOLERANCE);
        expect(relativeError(gpu.movingMean, ref.movingMean), at('moving mean')).toBeLessThanOrEqual(TOLERANCE);
        expect(relativeError(gpu.movingVar, ref.movingVar), at('moving variance')).toBeLessThanOrEqual(TOLERANCE);
        for (const name of Object.keys(ref.grads)) {
          expect(relativeError(gpu.grads[name], ref.grads[name]), at(`∂${name}`)).toBeLessThanOrEqual(TOLERANCE);
        }
      }),
      { numRuns: 40, seed: 14 },
    );
  });

  it('gives the cpu path’s numbers on reductions long enough for 256-thread workgroups (N·H·W ≥ 4096)', async (ctx) => {
    if (why !== undefined) ctx.skip(`webgpu does not start here (${why})`);
    // Training mode, ReLU and an identity shortcut: every kernel, with 2·48·48 = 4,608 rows.
    const c: Case = { n: 2, hs: 48, ws: 48, cs: 3, extra: 0, stride: 1, shortcut: 'identity', training: true, relu: true, seed: 5 };
    const ref = await forwardBackward('cpu', c);
    const gpu = await forwardBackward('webgpu', c);
    expect(relativeError(gpu.y, ref.y)).toBeLessThanOrEqual(TOLERANCE);
    expect(relativeError(gpu.movingVar, ref.movingVar)).toBeLessThanOrEqual(TOLERANCE);
    for (const name of Object.keys(ref.grads)) expect(relativeError(gpu.grads[name], ref.grads[name]), name).toBeLessThanOrEqual(TOLERANCE);
  });

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
