import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { startBackend } from '../../src/backend/select.ts';
import { BN_GRAD_SHORTCUT, BN_GRAD_X, BN_GRADS, BN_MOVING_AVERAGE, BN_NORMALISE, BN_STATS } from '../../src/backend/webgpu-batch-norm.ts';
import { applyBatchNorm, batchNorm, type BatchNorm, type Residual } from '../../src/models/batch-norm.ts';
import { makeRng } from '../../src/util/rng.ts';
import { relativeError } from '../helpers/conv-cases.ts';
import { normals } from '../helpers/webgpu.ts';

/**
 * src/models/batch-norm.ts on wasm runs the kernels of src/backend/wasm-batch-norm.ts; on
 * cpu, tfjs's ops. Same formulas; the per-channel sums run in another order (pooled per
 * image, then summed in float64, against one float32 loop) and the per-channel coefficients
 * are computed in float64, so the two agree to float32 rounding, not bit for bit. Relative
 * to each output's largest magnitude, 1e-5 leaves room for that (the largest error over these
 * cases was 4.0e-7, 2026-12-06) and none for a wrong channel, index or formula (errors of
 * order 1).
 */
const TOLERANCE = 1e-5;

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
    hs: fc.integer({ min: 1, max: 7 }),
    ws: fc.integer({ min: 1, max: 7 }),
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
  const layer = batchNorm(ch, 'bn-wasm-test');
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
  /** The kernels that ran, by name. */
  kernels: Set<string>;
}

/** One forward and backward of applyBatchNorm on `backend`, from the case's seeded inputs. */
async function forwardBackward(backend: 'cpu' | 'wasm', c: Case): Promise<Outcome> {
  await tf.setBackend(backend);
  const rng = makeRng(c.seed, 'bn-wasm');
  const { x: xShape, s: sShape } = shapes(c);
  const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
  // An offset mean and a spread of 2: the two-pass variance and x̂'s centring matter.
  const layer = layerFor(xShape[3], rng);
  const x = tf.tensor4d(normals(size(xShape), rng).map((v) => 0.7 + 2 * v), xShape);
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
  let grads: tf.Tensor[] = [];
  const profile = await tf.profile(() => {
    grads = tf.valueAndGrads(f)(args).grads;
    return grads;
  });
  // The forward again, without the tape, for y itself (in training it moves the averages once more).
  const y = tf.tidy(() => applyBatchNorm(layer, x, c.training, c.relu, c.shortcut === 'none' ? undefined : { x: s, project }));
  const out: Outcome = {
    y: (await y.data()) as Float32Array,
    grads: Object.fromEntries(await Promise.all(names.map(async (n, i) => [n, (await grads[i].data()) as Float32Array]))),
    movingMean: (await layer.movingMean.data()) as Float32Array,
    movingVar: (await layer.movingVar.data()) as Float32Array,
    kernels: new Set(profile.kernels.map((k) => k.name)),
  };
  tf.dispose([x, s, r, y, ...grads, layer.gamma, layer.beta, layer.movingMean, layer.movingVar]);
  return out;
}

/** The kernels of wasm-batch-norm.ts a case must run: forward, then backward. */
function expectedKernels(c: Case): string[] {
  const shortcut = c.shortcut === 'none' ? [] : [BN_GRAD_SHORTCUT];
  return c.training ? [BN_STATS, BN_MOVING_AVERAGE, BN_NORMALISE, BN_GRADS, ...shortcut] : [BN_NORMALISE, BN_GRAD_X, ...shortcut];
}

function compare(got: Outcome, ref: Outcome, c: Case): void {
  const at = (what: string) => `${what} of ${JSON.stringify(c)}`;
  for (const k of expectedKernels(c)) expect(got.kernels.has(k), at(`kernel ${k}`)).toBe(true);
  expect([...ref.kernels].filter((k) => k.startsWith('LabelLeakBn')), 'cpu runs tfjs ops').toEqual([]);
  expect(relativeError(got.y, ref.y), at('y')).toBeLessThanOrEqual(TOLERANCE);
  expect(relativeError(got.movingMean, ref.movingMean), at('moving mean')).toBeLessThanOrEqual(TOLERANCE);
  expect(relativeError(got.movingVar, ref.movingVar), at('moving variance')).toBeLessThanOrEqual(TOLERANCE);
  expect(Object.keys(got.grads)).toEqual(Object.keys(ref.grads));
  for (const name of Object.keys(ref.grads)) {
    expect(relativeError(got.grads[name], ref.grads[name]), at(`∂${name}`)).toBeLessThanOrEqual(TOLERANCE);
  }
}

beforeAll(async () => {
  // Registers wasm's training kernels (these among them); cpu is the reference.
  await startBackend('cpu');
  await startBackend('wasm');
});

describe('BatchNorm (+ shortcut, + ReLU) as wasm kernels', () => {
  it('gives the output, moving averages and gradients (x, shortcut, γ, β) of the cpu path to float32 rounding, for any small shape, stride, shortcut and mode', async () => {
    await fc.assert(
      fc.asyncProperty(bnCase, async (c) => {
        compare(await forwardBackward('wasm', c), await forwardBackward('cpu', c), c);
      }),
      { numRuns: 60, seed: 24 },
    );
  });

  it('gives the cpu path’s numbers at a fastnet layer’s size (N·H·W = 8,192 rows), training and inference, with a projected shortcut', async () => {
    for (const training of [true, false]) {
      for (const shortcut of ['none', 'projection'] as const) {
        const c: Case = { n: 8, hs: shortcut === 'none' ? 32 : 64, ws: shortcut === 'none' ? 32 : 64, cs: 12, extra: shortcut === 'none' ? 0 : 4, stride: shortcut === 'none' ? 1 : 2, shortcut, training, relu: true, seed: 7 };
        compare(await forwardBackward('wasm', c), await forwardBackward('cpu', c), c);
      }
    }
  });

  for (const training of [true, false]) {
    it(`leaves no tensor and no wasm buffer behind (${training ? 'training' : 'inference'} mode)`, async () => {
      await tf.setBackend('wasm');
      const layer = batchNorm(4, `bn-wasm-memory-${training}`);
      const x = tf.randomNormal([2, 3, 3, 4]) as tf.Tensor4D;
      const s = tf.randomNormal([2, 6, 6, 2]) as tf.Tensor4D;
      const residual: Residual = { x: s, project: { stride: 2, extraChannels: 2 } };
      const step = async () => {
        const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(applyBatchNorm(layer, a as tf.Tensor4D, training, true, { ...residual, x: b as tf.Tensor4D })))([x, s]);
        await Promise.all(grads.map((g) => g.data()));
        tf.dispose(grads);
      };
      await step();
      const tensors = tf.memory().numTensors;
      const buffers = tf.backend().numDataIds();
      await step();
      await step();
      expect(tf.memory().numTensors).toBe(tensors);
      // Counts what the kernels allocate below the engine too (kernel-scope.ts).
      expect(tf.backend().numDataIds()).toBe(buffers);
      tf.dispose([x, s, layer.gamma, layer.beta, layer.movingMean, layer.movingVar]);
    });
  }
});
