import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { fgsm, fgsmPred, lossGradientSign, stepLL, stepRand } from '../../src/attacks/index.ts';
import { CROSS_ENTROPY } from '../../src/backend/ops/cross-entropy.ts';
import { SIGN_STEP } from '../../src/backend/ops/sign-step.ts';
import { makeRng } from '../../src/util/rng.ts';
import { problem, withProblem, type Problem } from '../helpers/linear-classifier.ts';
import { webgpuUnavailable } from '../helpers/webgpu.ts';

/**
 * On webgpu the one-step attacks take their loss and their step from this project's kernels
 * (src/backend/ops/cross-entropy.ts, sign-step.ts) instead of tfjs's ops. They
 * craft the same images: every pixel equal to cpu's within float32 rounding (1e-6), except
 * where the input gradient is within rounding of 0 — there sign(∇) may take either value on
 * either backend, so such pixels are excused (|∇| ≤ 1e-5 of the largest, measured on cpu).
 */
type OneStep = 'fgsm' | 'fgsm-pred' | 'step-ll' | 'step-rand';
const names: OneStep[] = ['fgsm', 'fgsm-pred', 'step-ll', 'step-rand'];

function craft(name: OneStep, pr: Problem, eps: number | number[]): tf.Tensor4D {
  return withProblem(pr, (model, x, y) =>
    tf.tidy(() => {
      const e = typeof eps === 'number' ? eps : tf.tensor1d(eps);
      if (name === 'fgsm') return fgsm(model, x, y, e);
      if (name === 'fgsm-pred') return fgsmPred(model, x, e);
      if (name === 'step-ll') return stepLL(model, x, e);
      return stepRand(model, x, e, makeRng(5, 'step-rand'));
    }),
  );
}

/** The attack's images, crafted on `backend`. */
async function onBackend(backend: 'cpu' | 'webgpu', name: OneStep, pr: Problem, eps: number | number[]) {
  await tf.setBackend(backend);
  const adv = craft(name, pr, eps);
  const data = (await adv.data()) as Float32Array;
  adv.dispose();
  return data;
}

const epsilon = (batch: number) => fc.oneof(fc.float({ min: 0, max: 64, noNaN: true }), fc.array(fc.float({ min: 0, max: 64, noNaN: true }), { minLength: batch, maxLength: batch }));
const oneStepCase = problem().chain((pr) => fc.record({ pr: fc.constant(pr), eps: epsilon(pr.batch), name: fc.constantFrom(...names) }));

let why: string | undefined;
beforeAll(async () => {
  why = await webgpuUnavailable();
});

describe('one-step attacks on webgpu (fused cross-entropy and sign step)', () => {
  it('craft the images cpu crafts, to float32 rounding, for any model, batch, ε (one or one per image) and attack', async (ctx) => {
    if (why !== undefined) ctx.skip(`webgpu does not start here (${why})`);
    await fc.assert(
      fc.asyncProperty(oneStepCase, async ({ pr, eps, name }) => {
        const ref = await onBackend('cpu', name, pr, eps);
        const gpu = await onBackend('webgpu', name, pr, eps);
        // Where cpu's FGSM gradient is within rounding of 0, sign(∇) may differ; those pixels are excused.
        await tf.setBackend('cpu');
        const grad = withProblem(pr, (model, x, y) =>
          tf.tidy(() => {
            const loss = (xi: tf.Tensor) => tf.losses.softmaxCrossEntropy(tf.oneHot(y, model.numClasses), model.logits(xi as tf.Tensor4D, false), undefined, 0, tf.Reduction.SUM);
            return tf.abs(tf.grad(loss)(x)).dataSync() as Float32Array;
          }),
        );
        const top = Math.max(...grad, 0);
        for (let i = 0; i < ref.length; i++) {
          if (Math.abs(gpu[i] - ref[i]) <= 1e-6) continue;
          expect(name !== 'fgsm' || grad[i] <= 1e-5 * top, `${name} pixel ${i}: webgpu ${gpu[i]}, cpu ${ref[i]}`).toBe(true);
        }
      }),
      { numRuns: 16, seed: 17 },
    );
  }, 600_000);

  it('run the fused kernels there: one cross-entropy and one sign step per attack', async (ctx) => {
    if (why !== undefined) ctx.skip(`webgpu does not start here (${why})`);
    await tf.setBackend('webgpu');
    const pr = fc.sample(problem(), { numRuns: 1, seed: 3 })[0];
    for (const name of names) {
      const info = await tf.profile(async () => {
        const adv = craft(name, pr, 8);
        await adv.data();
        adv.dispose();
        return [];
      });
      const kernels = info.kernels.map((k) => k.name);
      expect(kernels.filter((k) => k === SIGN_STEP), name).toHaveLength(1);
      expect(kernels.filter((k) => k === CROSS_ENTROPY), name).toHaveLength(1);
    }
    // The clean gradient sign (the loss-vs-ε sweep's) takes its loss from the fused kernel too.
    const info = await tf.profile(async () => {
      const s = withProblem(pr, (model, x, y) => lossGradientSign(model, x, y));
      await s.data();
      s.dispose();
      return [];
    });
    expect(info.kernels.map((k) => k.name)).toContain(CROSS_ENTROPY);
  }, 600_000);
});
