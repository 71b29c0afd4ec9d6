import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { countsPer, gpuCounts } from '../../src/backend/webgpu-counts.ts';
import { buildClassifier, type ModelSpec } from '../../src/models/spec.ts';
import { Sgd } from '../../src/train/sgd.ts';
import { trainStep, type AdversarialTraining } from '../../src/train/step.ts';
import { makeRng } from '../../src/util/rng.ts';
import { webgpuUnavailable } from '../helpers/webgpu.ts';

/**
 * On webgpu every tensor made from CPU data is uploaded (a mapped buffer, a copy) the first time
 * a kernel reads it; a real GPU pays host time for each. A training step's only CPU data is its
 * batch (reused here, so uploaded once) and the ε drawn for its adversarial examples (one small
 * tensor per step). Any other upload is a constant rebuilt every step (a scalar of tf.mul(x, 0.5),
 * tf.ones for a gradient, loss weights): this test fails on it. The MLP and the CNN cover the
 * loss, the FGSM crafting and the SGD update, which every model shares; ResNet-8 adds
 * BatchNorm, shortcuts and the global average pool.
 */
let why: string | undefined;
beforeAll(async () => {
  why = await webgpuUnavailable();
});

const models: ModelSpec[] = [
  { kind: 'mlp', hidden: [16] },
  { kind: 'cnn', channels: [4, 8] },
  { kind: 'resnet', depth: 8 },
];

const fgsm: AdversarialTraining = { attack: 'fgsm', fraction: 0.5, epsSigma: 8, lossWeight: 0.3 };
const stepLL: AdversarialTraining = { attack: 'step-ll', fraction: 0.5, epsDist: 'fixed', eps: 4, lossWeight: 1 };

/** Uploads per step over three steps, after one that compiles the shaders and uploads the batch. */
async function uploadsPerStep(spec: ModelSpec, adv: AdversarialTraining | null): Promise<number> {
  await tf.setBackend('webgpu');
  const rng = makeRng(3, 'uploads');
  const model = buildClassifier(spec, { height: 12, width: 12, channels: 3 }, 10, rng.fork(spec.kind));
  const sgd = new Sgd(model.trainable, { momentum: 0.9, nesterov: false, weightDecay: 1e-4 });
  // Over 1,000 values: tfjs-backend-webgpu computes kernels on smaller CPU-held tensors on the
  // CPU, so a tinier batch would never be uploaded whole and its halves would be, every step.
  const x = tf.randomUniform([4, 12, 12, 3]) as tf.Tensor4D;
  const y = tf.tensor1d([0, 1, 2, 3], 'int32');
  const step = async () => {
    const loss = trainStep(model, sgd, { x, y }, adv, 0.05, rng);
    await loss.data();
    loss.dispose();
  };
  await step();
  const before = gpuCounts();
  for (let i = 0; i < 3; i++) await step();
  const per = countsPer(before, gpuCounts(), 3);
  tf.dispose([x, y]);
  sgd.dispose();
  model.dispose?.();
  return per.uploads;
}

describe('a training step on webgpu', () => {
  for (const spec of models) {
    it(`(${spec.kind}) uploads nothing but the ε of its adversarial examples: no constant`, async (ctx) => {
      if (why !== undefined) ctx.skip(`webgpu does not start here (${why})`);
      expect(await uploadsPerStep(spec, fgsm), 'FGSM, λ = 0.3').toBeLessThanOrEqual(1);
      expect(await uploadsPerStep(spec, stepLL), 'step-LL, one fixed ε').toBeLessThanOrEqual(1);
      expect(await uploadsPerStep(spec, null), 'clean training').toBe(0);
    }, 300_000);
  }
});
