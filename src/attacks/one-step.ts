import * as tf from '@tensorflow/tfjs';
import type { Classifier } from '../models/types.ts';
import type { Rng } from '../util/rng.ts';
import { fusedSignStep, fusedSignStepAvailable } from '../backend/webgpu-sign-step.ts';
import { checkEpsilon, PIXEL_LEVELS, unitEpsilon, type Epsilon } from './epsilon.ts';
import { gradientSignToward, gradientToward, leastLikelyOf, predictedOf, type AttackOptions } from './gradient.ts';

/** Away from the target label (+1, raises its loss) or toward it (−1, lowers it). */
type Direction = 1 | -1;

/** clip(x ± e·sign, 0, 1), e on the [0, 1] scale: the move every one-step attack makes once it has its gradient sign. */
function signStep(x: tf.Tensor4D, sign: tf.Tensor4D, e: tf.Tensor, direction: Direction): tf.Tensor4D {
  return tf.tidy(() => {
    const moved = direction === 1 ? tf.add(x, tf.mul(e, sign)) : tf.sub(x, tf.mul(e, sign));
    return tf.clipByValue(moved, 0, 1) as tf.Tensor4D;
  });
}

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
    if (fusedSignStepAvailable()) {
      checkEpsilon(eps, x.shape[0]);
      return fusedSignStep(x, gradientToward(model, x, labelsOf, opts), eps, { direction, levels: PIXEL_LEVELS });
    }
    const e = unitEpsilon(eps, x.shape[0]);
    return signStep(x, gradientSignToward(model, x, labelsOf, opts), e, direction);
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
  return tf.tidy(() => signStep(x, trueLabelSign, unitEpsilon(eps, x.shape[0]), 1));
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
