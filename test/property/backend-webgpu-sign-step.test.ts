import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { unitEpsilon } from '../../src/attacks/epsilon.ts';
import { fgsmAlong } from '../../src/attacks/one-step.ts';
import { fusedSignStep, fusedSignStepAvailable } from '../../src/backend/webgpu-sign-step.ts';
import { makeRng } from '../../src/util/rng.ts';
import { normals, webgpuUnavailable } from '../helpers/webgpu.ts';

/**
 * The one-step attacks' move clip(x ± (ε/255)·sign(g), 0, 1) is one kernel on webgpu
 * (src/backend/webgpu-sign-step.ts) and tfjs's ops on cpu (src/attacks/one-step.ts). They agree
 * to 2.5e-7 absolute, two float32 ulps of a pixel near 1: e·sign(g) is exact and x + e·s is
 * rounded once on both, so only ε/255 may differ (WGSL's division may be 2.5 ulps off, where
 * the cpu's is correctly rounded), and that moves a pixel by at most one ulp. A wrong direction,
 * ε, sign or clip moves pixels by ε/255 (≥ 1/255 here) or more.
 */
let why: string | undefined;
beforeAll(async () => {
  why = await webgpuUnavailable();
});

interface Case {
  shape: [number, number, number, number];
  /** A number (one ε for the batch) or one per example, in 0–255 pixel units. */
  perExample: boolean;
  epsTop: number;
  direction: 1 | -1;
  /** Share of gradient entries that are exactly 0 (sign 0: the pixel does not move). */
  zeros: number;
  seed: number;
}

const dim = (max: number) => fc.integer({ min: 1, max });
const stepCase: fc.Arbitrary<Case> = fc.record({
  shape: fc.tuple(dim(4), dim(5), dim(5), fc.constantFrom(1, 3)),
  perExample: fc.boolean(),
  epsTop: fc.constantFrom(1, 16, 255),
  direction: fc.constantFrom(1 as const, -1 as const),
  zeros: fc.constantFrom(0, 0.3),
  seed: fc.integer({ min: 0, max: 2 ** 30 }),
});

interface Inputs {
  x: Float32Array;
  g: Float32Array;
  eps: Float32Array | number;
}

function inputsOf(c: Case): Inputs {
  const rng = makeRng(c.seed, 'sign-step');
  const n = c.shape.reduce((a, b) => a * b, 1);
  // Pixels in [0, 1], some exactly at the ends, so that clipping is exercised both ways.
  const x = Float32Array.from({ length: n }, () => Math.min(1, Math.max(0, rng.next() * 1.2 - 0.1)));
  const g = normals(n, rng).map((v) => (rng.next() < c.zeros ? 0 : v));
  const eps = c.perExample ? Float32Array.from({ length: c.shape[0] }, () => rng.next() * c.epsTop) : Math.fround(rng.next() * c.epsTop);
  return { x, g, eps };
}

/** The move as src/attacks/one-step.ts's signStep makes it on every backend but webgpu. */
function reference(x: tf.Tensor4D, g: tf.Tensor4D, eps: number | tf.Tensor1D, direction: 1 | -1): tf.Tensor4D {
  if (direction === 1) return fgsmAlong(x, tf.sign(g) as tf.Tensor4D, eps);
  const e = unitEpsilon(eps, x.shape[0]);
  return tf.clipByValue(tf.sub(x, tf.mul(e, tf.sign(g))), 0, 1) as tf.Tensor4D;
}

async function run(backend: 'cpu' | 'webgpu', c: Case, i: Inputs): Promise<{ out: Float32Array; fused: boolean }> {
  await tf.setBackend(backend);
  const fused = fusedSignStepAvailable();
  const x = tf.tensor4d(i.x, c.shape);
  const g = tf.tensor4d(i.g, c.shape);
  const eps = typeof i.eps === 'number' ? i.eps : tf.tensor1d(i.eps);
  const moved = fused ? fusedSignStep(x, g, eps, { direction: c.direction, levels: 255 }) : reference(x, g, eps, c.direction);
  const out = (await moved.data()) as Float32Array;
  tf.dispose([x, g, moved, ...(typeof eps === 'number' ? [] : [eps])]);
  return { out, fused };
}

describe('the one-step attacks’ sign step as one webgpu kernel', () => {
  it('moves every pixel as tfjs’s ops on cpu do, to 2.5e-7, for any batch, ε (one or one per example), direction and zero gradients', async (ctx) => {
    if (why !== undefined) ctx.skip(`webgpu does not start here (${why})`);
    await fc.assert(
      fc.asyncProperty(stepCase, async (c) => {
        const inputs = inputsOf(c);
        const ref = await run('cpu', c, inputs);
        const gpu = await run('webgpu', c, inputs);
        expect(ref.fused).toBe(false);
        expect(gpu.fused).toBe(true);
        let worst = 0;
        for (let j = 0; j < ref.out.length; j++) worst = Math.max(worst, Math.abs(gpu.out[j] - ref.out[j]));
        expect(worst, JSON.stringify(c)).toBeLessThanOrEqual(2.5e-7);
      }),
      { numRuns: 16, seed: 14 },
    );
  });

  it('leaves no tensor behind', async (ctx) => {
    if (why !== undefined) ctx.skip(`webgpu does not start here (${why})`);
    await tf.setBackend('webgpu');
    const x = tf.fill([2, 2, 2, 1], 0.5) as tf.Tensor4D;
    const eps = tf.tensor1d([3, 4]);
    const once = async () => {
      const out = fusedSignStep(x, x, eps, { direction: 1, levels: 255 });
      await out.data();
      out.dispose();
    };
    await once();
    const before = tf.memory().numTensors;
    await once();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, eps]);
  });
});
