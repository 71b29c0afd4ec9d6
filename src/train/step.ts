import * as tf from '@tensorflow/tfjs';
import { attack } from '../attacks/index.ts';
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
  /** k / m: the write-up replaces half of each batch. */
  fraction: number;
  /** ε ~ |N(0, σ)| in 0–255 pixel units, one draw per example (the write-up: σ = 12). */
  epsSigma: number;
  /** Redraw ε above this (Kurakin et al. truncate at 16); absent: no truncation, as the write-up. */
  epsMax?: number;
  /** λ, the weight of adversarial examples in the loss (Kurakin et al.: 0.3); 1 = plain mean. */
  lossWeight: number;
}

export interface Batch {
  x: tf.Tensor4D;
  y: tf.Tensor1D;
}

/** ε for k examples, drawn from the training's own stream so data order never shifts it. */
export function drawEpsilons(adv: AdversarialTraining, k: number, rng: Rng): Float32Array {
  const eps = new Float32Array(k);
  for (let i = 0; i < k; i++) {
    let e = halfNormal(rng, adv.epsSigma);
    while (adv.epsMax !== undefined && e > adv.epsMax) e = halfNormal(rng, adv.epsSigma);
    eps[i] = e;
  }
  return eps;
}

/**
 * One optimisation step. Resolves to the batch loss (read back every step: a NaN must stop the
 * run at the step it appears, and a scalar read is cheap next to a forward/backward pass).
 * The read is asynchronous because webgpu in Node cannot read a GPU buffer synchronously
 * (tfjs's readSync there needs OffscreenCanvas, which Node lacks).
 */
export async function trainStep(
  model: Classifier,
  sgd: Sgd,
  batch: Batch,
  adv: AdversarialTraining | null,
  learningRate: number,
  rng: Rng,
): Promise<number> {
  const m = batch.x.shape[0];
  const k = adv ? Math.round(adv.fraction * m) : 0;
  const inputs = tf.tidy(() => {
    if (!adv || k === 0) return batch.x.clone();
    const eps = tf.tensor1d(drawEpsilons(adv, k, rng));
    const [xa, xc] = tf.split(batch.x, [k, m - k]) as [tf.Tensor4D, tf.Tensor4D];
    const ya = batch.y.slice(0, k);
    // Crafted in inference mode: crafting must not move BatchNorm's running statistics.
    const adversarial = attack(adv.attack, model, xa, ya, eps, { training: false, rng, steps: adv.steps, stepSize: adv.stepSize });
    return tf.concat([adversarial, xc]) as tf.Tensor4D;
  });
  // Per-example weights: λ for the k adversarial, 1 for the rest, normalised as Kurakin et al.
  const lambda = adv ? adv.lossWeight : 1;
  const weights = tf.tidy(() =>
    tf.concat([tf.fill([k], lambda), tf.ones([m - k])]).div(m - k + lambda * k),
  );
  const { value, grads } = tf.variableGrads(() => {
    const logits = model.logits(inputs, true);
    const perExample = tf.losses.softmaxCrossEntropy(
      tf.oneHot(batch.y, model.numClasses),
      logits,
      undefined,
      undefined,
      tf.Reduction.NONE,
    );
    return perExample.mul(weights).sum() as tf.Scalar;
  }, model.trainable);
  sgd.apply(
    model.trainable.map((v) => grads[v.name]),
    learningRate,
  );
  tf.dispose([inputs, weights, grads]);
  try {
    return (await value.data())[0];
  } finally {
    value.dispose();
  }
}
