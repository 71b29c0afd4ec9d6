import * as tf from '@tensorflow/tfjs';
import type { Classifier } from '../models/types.ts';
import type { Rng } from '../util/rng.ts';
import { signStep } from '../backend/ops/index.ts';
import { checkEpsilon, PIXEL_LEVELS, type Epsilon } from './epsilon.ts';
import { gradientToward, leastLikelyOf, predictedOf, type AttackOptions } from './gradient.ts';

/** Away from the target label (+1, raises its loss) or toward it (−1, lowers it). */
type Direction = 1 | -1;

function step(
  model: Classifier,
  x: tf.Tensor4D,
  labelsOf: (logits: tf.Tensor2D) => tf.Tensor1D,
  eps: Epsilon,
  direction: Direction,
  opts: AttackOptions,
): tf.Tensor4D {
  return tf.tidy(() => {
    // ε is checked before the model runs: a bad one costs no forward or backward pass.
    checkEpsilon(eps, x.shape[0]);
    return signStep(x, gradientToward(model, x, labelsOf, opts), eps, { direction, levels: PIXEL_LEVELS });
  });
}

/** FGSM with the true label: clip(x + ε·sign(∇ₓ L(y)), 0, 1). */
export function fgsm(
  model: Classifier,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  eps: Epsilon,
  opts: AttackOptions = {},
): tf.Tensor4D {
  return step(model, x, () => y, eps, 1, opts);
}

/**
 * FGSM's step from a true-label gradient sign already taken (`lossGradientSign`): the
 * loss-versus-ε sweep moves the same images along one sign for many ε.
 */
export function fgsmAlong(x: tf.Tensor4D, trueLabelSign: tf.Tensor4D, eps: Epsilon): tf.Tensor4D {
  checkEpsilon(eps, x.shape[0]);
  // The reference everywhere, as before the fused step existed: sign(sign) is the sign, and the sweep's numbers stay what they were on every backend.
  return signStep.reference(x, trueLabelSign, eps, { direction: 1, levels: PIXEL_LEVELS });
}

/**
 * FGSM with the model's own prediction in place of the true label, clip(x + ε·sign(∇ₓ L(ŷ)), 0, 1)
 * with ŷ = argmax logits(x): cleverhans' `y=None`, Kurakin et al. (2016)'s remedy for label
 * leaking, since the true label never enters the perturbation.
 */
export function fgsmPred(model: Classifier, x: tf.Tensor4D, eps: Epsilon, opts: AttackOptions = {}): tf.Tensor4D {
  return step(model, x, predictedOf, eps, 1, opts);
}

/** Step-LL: clip(x − ε·sign(∇ₓ L(y_LL)), 0, 1), y_LL the least likely class of x itself. */
export function stepLL(model: Classifier, x: tf.Tensor4D, eps: Epsilon, opts: AttackOptions = {}): tf.Tensor4D {
  return step(model, x, leastLikelyOf, eps, -1, opts);
}

/** Labels drawn uniformly over the model's classes, one per example, from `rng`. */
export function randomLabels(rng: Rng, count: number, numClasses: number): Int32Array {
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) labels[i] = rng.int(numClasses);
  return labels;
}

/** Step-rand: clip(x − ε·sign(∇ₓ L(y_rand)), 0, 1), y_rand uniform over all classes. */
export function stepRand(
  model: Classifier,
  x: tf.Tensor4D,
  eps: Epsilon,
  rng: Rng,
  opts: AttackOptions = {},
): tf.Tensor4D {
  const drawn = randomLabels(rng, x.shape[0], model.numClasses);
  return tf.tidy(() => {
    const labels = tf.tensor1d(drawn, 'int32');
    return step(model, x, () => labels, eps, -1, opts);
  });
}
