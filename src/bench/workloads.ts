import * as tf from '@tensorflow/tfjs';
import { bim, fgsm } from '../attacks/index.ts';
import { buildClassifier } from '../models/spec.ts';
import type { Classifier } from '../models/types.ts';
import { Sgd } from '../train/sgd.ts';
import { LossReader, trainStep } from '../train/step.ts';
import { makeRng, type Rng } from '../util/rng.ts';
import type { AttackCase, BenchCases, TrainCase } from './cases.ts';

/** One thing to time on the active backend, and what to free afterwards. */
export interface Workload {
  /** One step (or attack run), left on the device's queue. */
  step(): void;
  /** Waits for what the steps so far queued, as the training loop does when it reads its losses. */
  settle(): Promise<void>;
  dispose(): void;
}

/** One step, then wait for it: what the bench times. */
export async function runOnce(w: Workload): Promise<void> {
  w.step();
  await w.settle();
}

/**
 * A synthetic batch of the case's shape: throughput does not depend on pixel values, and
 * the bench then needs no dataset on disk. Made once and reused, as a training loop reuses
 * its upload path (uploads are not what is measured).
 */
function syntheticBatch(c: TrainCase | AttackCase, numClasses: number, rng: Rng) {
  const { height, width, channels } = c.input;
  const size = c.batch * height * width * channels;
  const pixels = Float32Array.from({ length: size }, () => rng.next());
  const labels = Int32Array.from({ length: c.batch }, () => rng.int(numClasses));
  return {
    x: tf.tensor4d(pixels, [c.batch, height, width, channels]),
    y: tf.tensor1d(labels, 'int32'),
  };
}

const NUM_CLASSES = 10;

/** Forces pending work to finish on asynchronous backends (webgpu) by reading one value. */
async function settle(t: tf.Tensor): Promise<void> {
  const one = tf.tidy(() => tf.slice(t.reshape([-1]), 0, 1));
  await one.data();
  one.dispose();
}

/** One step of the training loop the claims use (src/train/step.ts), adversarial batches included. */
export function trainWorkload(c: TrainCase, cases: BenchCases, seed = 1): Workload {
  const rng = makeRng(seed, `bench/${c.id}`);
  const model: Classifier = buildClassifier(c.model, c.input, NUM_CLASSES, rng.fork('model'));
  const { learningRate, ...sgdConfig } = cases.optimizer;
  // In a tidy: Sgd's constructor leaves the zero tensors its velocity variables start from.
  let sgd!: Sgd;
  tf.tidy(() => {
    sgd = new Sgd(model.trainable, sgdConfig);
  });
  const batch = syntheticBatch(c, NUM_CLASSES, rng.fork('data'));
  const stepRng = rng.fork('step');
  const losses = new LossReader();
  return {
    step: () => losses.push(trainStep(model, sgd, batch, c.adversarial, learningRate, stepRng)),
    // Reading the losses also waits for everything queued before them.
    settle: async () => {
      await losses.read();
    },
    dispose: () => {
      losses.dispose();
      tf.dispose([batch.x, batch.y]);
      sgd.dispose();
      model.dispose();
    },
  };
}

/** An attack alone on one batch, in inference mode (as evaluation runs it). */
export function attackWorkload(c: AttackCase, seed = 1): Workload {
  const rng = makeRng(seed, `bench/${c.id}`);
  const model = buildClassifier(c.model, c.input, NUM_CLASSES, rng.fork('model'));
  const batch = syntheticBatch(c, NUM_CLASSES, rng.fork('data'));
  const craft = (): tf.Tensor4D =>
    c.attack === 'fgsm' ? fgsm(model, batch.x, batch.y, c.eps) : bim(model, batch.x, batch.y, { eps: c.eps, steps: c.steps, stepSize: 1 });
  const crafted: tf.Tensor[] = [];
  return {
    step: () => {
      crafted.push(craft());
    },
    settle: async () => {
      const last = crafted.at(-1);
      if (last !== undefined) await settle(last);
      tf.dispose(crafted.splice(0));
    },
    dispose: () => {
      tf.dispose(crafted.splice(0));
      tf.dispose([batch.x, batch.y]);
      model.dispose();
    },
  };
}
