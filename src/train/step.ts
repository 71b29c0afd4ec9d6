import * as tf from '@tensorflow/tfjs';
import { attack } from '../attacks/index.ts';
import { crossEntropy } from '../backend/ops/index.ts';
import { unitEpsilon } from '../attacks/epsilon.ts';
import type { Classifier } from '../models/types.ts';
import type { TrainingAttackName } from '../spec/names.ts';
import { halfNormal, type Rng } from '../util/rng.ts';
import type { Sgd } from './sgd.ts';

/**
 * Adversarial batches as in Kurakin, Goodfellow & Bengio (2016) and the write-up:
 * k of every m examples are replaced by adversarial versions of themselves.
 */
export interface AdversarialTraining {
  /** Attack used to craft the replaced examples (one that takes one ε per example). */
  attack: TrainingAttackName;
  /** PGD only: iterations and pixel units per step (ε is drawn per example, so no default count). */
  steps?: number;
  stepSize?: number;
  /** k / m: the write-up replaces half of each batch; 1 = no clean images (Wong et al. 2020). */
  fraction: number;
  /**
   * How each example's ε is drawn (0–255 pixel units); absent = 'half-normal'.
   * - 'half-normal': ε ~ |N(0, epsSigma)|, the write-up's and Kurakin et al.'s random ε.
   * - 'fixed': ε = `eps` for every example, as in Goodfellow et al. 2015 and the
   *   catastrophic-overfitting papers (Wong et al. 2020; Andriushchenko & Flammarion 2020).
   * - 'uniform': ε ~ U(0, `eps`), random ε without the half normal's mode at 0.
   */
  epsDist?: EpsDistribution;
  /** σ of the half normal (the write-up: 12). */
  epsSigma?: number;
  /** The fixed ε, or the upper end of the uniform one. */
  eps?: number;
  /** Redraw a half-normal ε above this (Kurakin et al. truncate at 16); absent: no truncation. */
  epsMax?: number;
  /**
   * FGSM-RS (Wong, Rice & Kolter 2020, *Fast is better than free*): start from x + δ,
   * δ ~ U(−ε, ε) per pixel, take one step of `stepRatio`·ε (they use 1.25), and project back
   * into the ε-ball around x. Absent: no random start, the write-up's FGSM.
   */
  randomStart?: { stepRatio: number };
  /** λ, the weight of adversarial examples in the loss (Kurakin et al.: 0.3); 1 = plain mean. */
  lossWeight: number;
}

export const epsDistributions = ['half-normal', 'fixed', 'uniform'] as const;
export type EpsDistribution = (typeof epsDistributions)[number];

export interface Batch {
  x: tf.Tensor4D;
  y: tf.Tensor1D;
}

/** ε for k examples, drawn from the training's own stream so data order never shifts it. */
export function drawEpsilons(adv: AdversarialTraining, k: number, rng: Rng): Float32Array {
  const eps = new Float32Array(k);
  const dist = adv.epsDist ?? 'half-normal';
  if (dist === 'fixed') return eps.fill(required(adv.eps, 'eps', dist));
  if (dist === 'uniform') {
    const top = required(adv.eps, 'eps', dist);
    for (let i = 0; i < k; i++) eps[i] = rng.next() * top;
    return eps;
  }
  const sigma = required(adv.epsSigma, 'epsSigma', dist);
  for (let i = 0; i < k; i++) {
    let e = halfNormal(rng, sigma);
    while (adv.epsMax !== undefined && e > adv.epsMax) e = halfNormal(rng, sigma);
    eps[i] = e;
  }
  return eps;
}

function required(value: number | undefined, field: string, dist: EpsDistribution): number {
  if (value === undefined) throw new Error(`adversarial training with epsDist '${dist}' needs '${field}'`);
  return value;
}

/**
 * The adversarial half of a batch. With a random start (FGSM-RS) the one-step attack is taken
 * from a uniformly perturbed point with step stepRatio·ε, then projected into the ε-ball.
 */
export function adversarialExamples(model: Classifier, adv: AdversarialTraining, x: tf.Tensor4D, y: tf.Tensor1D, epsValues: Float32Array, rng: Rng): tf.Tensor4D {
  return tf.tidy(() => {
    const eps = tf.tensor1d(epsValues);
    // Crafted in inference mode: crafting must not move BatchNorm's running statistics.
    const opts = { training: false, rng, steps: adv.steps, stepSize: adv.stepSize };
    if (!adv.randomStart) return attack(adv.attack, model, x, y, eps, opts);
    const radius = unitEpsilon(eps, x.shape[0]);
    const delta = tf.randomUniform(x.shape, -1, 1, 'float32', rng.tfSeed()).mul(radius);
    const start = tf.clipByValue(x.add(delta), 0, 1) as tf.Tensor4D;
    const stepped = attack(adv.attack, model, start, y, eps.mul(adv.randomStart.stepRatio) as tf.Tensor1D, opts);
    const projected = x.add(tf.minimum(tf.maximum(stepped.sub(x), radius.neg()), radius));
    return tf.clipByValue(projected, 0, 1) as tf.Tensor4D;
  });
}

/**
 * One optimisation step. Returns the batch loss as a scalar still on the device: reading it
 * every step would make an asynchronous backend (webgpu) wait for the whole step before the
 * next one is queued, so callers gather them in a LossReader and read them together.
 */
export function trainStep(
  model: Classifier,
  sgd: Sgd,
  batch: Batch,
  adv: AdversarialTraining | null,
  learningRate: number,
  rng: Rng,
): tf.Scalar {
  const m = batch.x.shape[0];
  const k = adv ? Math.round(adv.fraction * m) : 0;
  const inputs = tf.tidy(() => {
    if (!adv || k === 0) return batch.x.clone();
    const [xa, xc] = tf.split(batch.x, [k, m - k]) as [tf.Tensor4D, tf.Tensor4D];
    const ya = batch.y.slice(0, k);
    const adversarial = adversarialExamples(model, adv, xa, ya, drawEpsilons(adv, k, rng), rng);
    return k === m ? adversarial : (tf.concat([adversarial, xc]) as tf.Tensor4D);
  });
  // Per-example weights: λ for the k adversarial, 1 for the rest, normalised as Kurakin et al.
  const weights = { k, ...lossWeights(m, k, adv ? adv.lossWeight : 1) };
  const { value, grads } = tf.variableGrads(
    () => crossEntropy(batch.y, model.logits(inputs, true), { reduction: 'sum', ...weights }) as tf.Scalar,
    model.trainable,
  );
  sgd.apply(
    model.trainable.map((v) => grads[v.name]),
    learningRate,
  );
  tf.dispose([inputs, grads]);
  return value;
}

/**
 * λ/(m − k + λk) and 1/(m − k + λk) as float32 numbers, rounded as float32 tensors would round
 * them (λ and the divisor become float32 first; a float32 quotient computed in float64 and rounded
 * once is the correctly rounded float32 quotient).
 */
export function lossWeights(m: number, k: number, lambda: number): { adversarialWeight: number; cleanWeight: number } {
  const d = Math.fround(m - k + lambda * k);
  return { adversarialWeight: Math.fround(Math.fround(lambda) / d), cleanWeight: Math.fround(1 / d) };
}

/** How many steps' losses the training loop gathers per read-back (and the bench counts over). */
export const LOSS_READ_EVERY = 16;

/**
 * Step losses kept on the device and read back together, in one transfer. The values come back
 * in step order as the float32 numbers each step produced, so sums taken from them on the host
 * are the same, bit for bit, as when every step was read on its own.
 */
export class LossReader {
  private pending: tf.Scalar[] = [];

  /** Takes ownership of `loss`. */
  push(loss: tf.Scalar): void {
    this.pending.push(loss);
  }

  get size(): number {
    return this.pending.length;
  }

  /** The pending losses, oldest first; afterwards none is pending. */
  async read(): Promise<Float32Array> {
    const xs = this.pending;
    this.pending = [];
    if (xs.length === 0) return new Float32Array(0);
    const all = xs.length === 1 ? xs[0] : tf.stack(xs);
    try {
      return (await all.data()) as Float32Array;
    } finally {
      tf.dispose([all, ...xs]);
    }
  }

  dispose(): void {
    tf.dispose(this.pending);
    this.pending = [];
  }
}
