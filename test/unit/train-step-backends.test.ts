import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { attack } from '../../src/attacks/index.ts';
import { startBackend } from '../../src/backend/select.ts';
import { buildClassifier } from '../../src/models/spec.ts';
import { Sgd } from '../../src/train/sgd.ts';
import { LossReader, trainStep } from '../../src/train/step.ts';
import { makeRng } from '../../src/util/rng.ts';
import { relativeError } from '../helpers/conv-cases.ts';
import { webgpuUnavailable } from '../helpers/webgpu.ts';

/**
 * The webgpu path (tfjs-backend-webgpu plus this project's kernels: fused SGD, im2col filter
 * gradient, and whatever else src/backend/ops/index.ts registers) trains the same
 * model as wasm: a fixed-seed run of the training loop's step — a BatchNorm ResNet with half of
 * each batch FGSM, ε drawn per example — then an evaluation, clean and under FGSM, on both.
 *
 * Tolerance, and why: every kernel computes the same sums, but not in the same order (a GPU
 * reduction is a tree, wasm's a loop) and a shader compiler may contract a·b + c into one
 * rounding, so values differ from the first step by a few float32 ulps (relative ~1e-7). SGD
 * then carries those differences forward. Measured on SwiftShader, 2026-11-30, with every
 * kernel of issue 14 in: losses 9.9e-8, weights 1.1e-7, FGSM loss 3.0e-7 relative; TOLERANCE
 * is 100× that, far below what a wrong kernel gives (a learning rate off by 0.1% already fails). FGSM's sign(∇) is discontinuous
 * at 0: a gradient component within rounding of 0 may take either sign, which moves one pixel by
 * 2ε — the losses absorb that within TOLERANCE; a prediction could flip only for an example whose
 * top two logits tie to within rounding, so accuracies must agree within one example.
 */
const STEPS = 6;
const TOLERANCE = 1e-5;
const BATCH = 8;
const TEST = 16;
const INPUT = { height: 8, width: 8, channels: 3 };

interface Run {
  losses: Float32Array;
  weights: Float32Array;
  clean: { correct: number; loss: number };
  fgsm: { correct: number; loss: number };
}

async function run(backend: 'wasm' | 'webgpu'): Promise<Run> {
  await startBackend(backend);
  const rng = makeRng(7, 'backends-agree');
  const model = buildClassifier({ kind: 'resnet', depth: 8 }, INPUT, 10, rng.fork('model'));
  const sgd = new Sgd(model.trainable, { momentum: 0.9, nesterov: false, weightDecay: 1e-4 });
  const data = rng.fork('data');
  const pixels = (n: number) => Float32Array.from({ length: n * INPUT.height * INPUT.width * INPUT.channels }, () => data.next());
  const labels = (n: number) => Int32Array.from({ length: n }, () => data.int(10));
  const shape = (n: number): [number, number, number, number] => [n, INPUT.height, INPUT.width, INPUT.channels];
  const train = { x: tf.tensor4d(pixels(BATCH), shape(BATCH)), y: tf.tensor1d(labels(BATCH), 'int32') };
  const test = { x: tf.tensor4d(pixels(TEST), shape(TEST)), y: tf.tensor1d(labels(TEST), 'int32') };
  const stepRng = rng.fork('steps');
  const reader = new LossReader();
  try {
    for (let s = 0; s < STEPS; s++) {
      reader.push(trainStep(model, sgd, train, { attack: 'fgsm', fraction: 0.5, epsSigma: 12, lossWeight: 1 }, 0.05, stepRng));
    }
    const losses = await reader.read();
    const score = async (x: tf.Tensor4D) => {
      const [correct, loss] = tf.tidy(() => {
        const logits = model.logits(x, false);
        return [
          logits.argMax(1).equal(test.y).sum(),
          tf.losses.softmaxCrossEntropy(tf.oneHot(test.y, 10), logits, undefined, undefined, tf.Reduction.SUM),
        ];
      });
      const out = { correct: (await correct.data())[0], loss: (await loss.data())[0] };
      tf.dispose([correct, loss]);
      return out;
    };
    const clean = await score(test.x);
    const adversarial = attack('fgsm', model, test.x, test.y, 6, { training: false });
    const fgsm = await score(adversarial);
    adversarial.dispose();
    const all = tf.tidy(() => tf.concat(model.trainable.map((v) => v.reshape([-1]))));
    const weights = (await all.data()) as Float32Array;
    all.dispose();
    return { losses, weights, clean, fgsm };
  } finally {
    reader.dispose();
    tf.dispose([train.x, train.y, test.x, test.y]);
    sgd.dispose();
    model.dispose();
  }
}

let why: string | undefined;
beforeAll(async () => {
  why = await webgpuUnavailable();
});

describe('a fixed-seed training run on webgpu', () => {
  it(`gives wasm's losses, weights and evaluation within ${TOLERANCE} relative (float32 rounding carried by SGD), accuracies within one example`, async (ctx) => {
    if (why !== undefined) ctx.skip(`webgpu does not start here (${why})`);
    const ref = await run('wasm');
    const gpu = await run('webgpu');
    const measured = {
      losses: relativeError(gpu.losses, ref.losses),
      weights: relativeError(gpu.weights, ref.weights),
      cleanLoss: Math.abs(gpu.clean.loss - ref.clean.loss) / Math.abs(ref.clean.loss),
      fgsmLoss: Math.abs(gpu.fgsm.loss - ref.fgsm.loss) / Math.abs(ref.fgsm.loss),
    };
    console.log(`webgpu vs wasm after ${STEPS} steps: ${JSON.stringify(measured)}; correct clean ${gpu.clean.correct}/${ref.clean.correct}, fgsm ${gpu.fgsm.correct}/${ref.fgsm.correct}`);
    for (const [k, v] of Object.entries(measured)) expect(v, k).toBeLessThanOrEqual(TOLERANCE);
    expect(Math.abs(gpu.clean.correct - ref.clean.correct)).toBeLessThanOrEqual(1);
    expect(Math.abs(gpu.fgsm.correct - ref.fgsm.correct)).toBeLessThanOrEqual(1);
    // The run must have moved the weights, or agreeing would prove nothing.
    expect(ref.losses[STEPS - 1]).not.toBe(ref.losses[0]);
  }, 600_000);
});
