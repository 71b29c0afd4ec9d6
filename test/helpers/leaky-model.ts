import * as tf from '@tensorflow/tfjs';
import type { Dataset, ImageSet } from '../../src/data/types.ts';
import { makeRng, type Rng } from '../../src/util/rng.ts';

/**
 * A leaking model and a clean one, built by hand from stock Keras layers so they can be saved
 * and audited like any tfjs model, with data they are made for.
 *
 * Data (28×28×1, ten classes): the top half of each image carries its class as a faint ±1
 * pattern μ_k over noise; the bottom half is mid-grey noise (so an ε step there is never clipped).
 *
 * Both models read the class from the top half: A_k = c·μ_k·(x_top − ½). Both also carry a small
 * term −λ·z_k on the bottom half, z_k = P_k·(x_bottom − ½)/n with a random ±1 pattern P_k per
 * class, so the sign of the loss gradient on the bottom half is P_y: it spells the true label.
 * The leaking model adds a detector that has learned that spelling: β·relu(z_k − τ), silent on
 * clean images and firing once the bottom half has moved by more than τ along P_k — as FGSM
 * with the true label moves it by ε. FGSM then *raises* accuracy above clean (label leaking),
 * the loss along the gradient sign rises and then drops, and iterative attacks, which stop at
 * the detector's edge, do far better than FGSM (gradient masking). Without the detector the
 * model is an ordinary linear classifier.
 */

const SIDE = 28;
const HALF = (SIDE * SIDE) / 2;
const CLASSES = 10;
/** z at ε = 6 pixels is 6/255 ≈ 0.0235; the detector fires at half of it. */
const TAU = 3 / 255;

function signs(rng: Rng, n: number): number[] {
  return Array.from({ length: n }, () => (rng.next() < 0.5 ? -1 : 1));
}

export interface LeakyWorld {
  data: Dataset;
  mu: number[][];
  p: number[][];
}

function images(world: { mu: number[][] }, count: number, rng: Rng): ImageSet {
  const pixels = new Uint8Array(count * SIDE * SIDE);
  const labels = new Uint8Array(count);
  for (let n = 0; n < count; n++) {
    const k = n % CLASSES;
    labels[n] = k;
    for (let i = 0; i < SIDE * SIDE; i++) {
      const signal = i < HALF ? 3 * world.mu[k][i] : 0;
      const v = 128 + signal + 20 * rng.normal();
      pixels[n * SIDE * SIDE + i] = Math.max(0, Math.min(255, Math.round(v)));
    }
  }
  return { images: pixels, labels, count, height: SIDE, width: SIDE, channels: 1 };
}

export function leakyWorld(seed = 1): LeakyWorld {
  const rng = makeRng(seed, 'leaky-world');
  const mu = Array.from({ length: CLASSES }, (_, k) => signs(rng.fork(`mu${k}`), HALF));
  const p = Array.from({ length: CLASSES }, (_, k) => signs(rng.fork(`p${k}`), HALF));
  const data: Dataset = {
    name: 'mnist',
    classes: Array.from({ length: CLASSES }, (_, k) => String(k)),
    train: images({ mu }, 1000, rng.fork('train')),
    test: images({ mu }, 500, rng.fork('test')),
  };
  return { data, mu, p };
}

/** The model as a tf.LayersModel; `leaks` adds the detector. */
export function leakyModel(world: LeakyWorld, leaks: boolean): tf.LayersModel {
  const c = 1;
  const lambda = 1;
  const beta = 3000;
  const input = tf.input({ shape: [SIDE, SIDE, 1] });
  const flat = tf.layers.flatten().apply(input) as tf.SymbolicTensor;
  const kernelA = new Float32Array(2 * HALF * CLASSES);
  const kernelZ = new Float32Array(2 * HALF * CLASSES);
  const biasA = new Float32Array(CLASSES);
  const biasZ = new Float32Array(CLASSES);
  for (let k = 0; k < CLASSES; k++) {
    for (let i = 0; i < HALF; i++) {
      kernelA[i * CLASSES + k] = c * world.mu[k][i];
      biasA[k] -= 0.5 * c * world.mu[k][i];
      kernelZ[(HALF + i) * CLASSES + k] = world.p[k][i] / HALF;
      biasZ[k] -= (0.5 * world.p[k][i]) / HALF;
    }
  }
  const a = tf.layers.dense({ units: CLASSES, name: 'clean_part' });
  const z = tf.layers.dense({ units: CLASSES, name: 'sign_pattern' });
  const zLinear = tf.layers.dense({ units: CLASSES, useBias: false, name: 'pattern_term' });
  const parts = [a.apply(flat) as tf.SymbolicTensor];
  const zs = z.apply(flat) as tf.SymbolicTensor;
  parts.push(zLinear.apply(zs) as tf.SymbolicTensor);
  const detector = tf.layers.dense({ units: CLASSES, activation: 'relu', name: 'detector' });
  if (leaks) parts.push(detector.apply(zs) as tf.SymbolicTensor);
  const out = tf.layers.add().apply(parts) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out });
  tf.tidy(() => {
    const eye = tf.eye(CLASSES);
    a.setWeights([tf.tensor2d(kernelA, [2 * HALF, CLASSES]), tf.tensor1d(biasA)]);
    z.setWeights([tf.tensor2d(kernelZ, [2 * HALF, CLASSES]), tf.tensor1d(biasZ)]);
    zLinear.setWeights([tf.mul(eye, -lambda)]);
    if (leaks) detector.setWeights([tf.mul(eye, beta), tf.fill([CLASSES], -beta * TAU)]);
  });
  return model;
}
