import * as tf from '@tensorflow/tfjs';
import { crossEntropy, UNWEIGHTED } from '../backend/ops/index.ts';
import type { Classifier } from '../models/types.ts';

/** What every attack passes on to `model.logits` while crafting. */
export interface AttackOptions {
  /** BatchNorm mode while crafting; default false (moving averages, nothing updated). */
  training?: boolean;
}

/**
 * Softmax cross-entropy summed over the batch. A sum, not a mean: each example's gradient
 * is then its own `softmax − onehot`, independent of the batch size, so nothing is divided
 * towards float32 underflow before its sign is taken.
 */
export function crossEntropySum(labels: tf.Tensor1D, logits: tf.Tensor2D): tf.Scalar {
  return crossEntropy(labels, logits, { reduction: 'sum', ...UNWEIGHTED }) as tf.Scalar;
}

/** Softmax cross-entropy of each example, shape [batch]. */
export function crossEntropyEach(labels: tf.Tensor1D, logits: tf.Tensor2D): tf.Tensor1D {
  return crossEntropy(labels, logits, { reduction: 'each', ...UNWEIGHTED }) as tf.Tensor1D;
}

/**
 * Each example's loss CE(labelsᵢ, logits(xᵢ)) and sign(∇ₓ Σᵢ CE) from one forward and one
 * backward pass: the gradient of the vector with a seed of ones is the gradient of its sum.
 */
export function lossAndGradientSign(
  model: Classifier,
  x: tf.Tensor4D,
  labels: tf.Tensor1D,
  opts: AttackOptions = {},
): { loss: tf.Tensor1D; sign: tf.Tensor4D } {
  const training = opts.training ?? false;
  return tf.tidy(() => {
    const { value, grad } = tf.valueAndGrad((xi: tf.Tensor) => crossEntropyEach(labels, model.logits(xi as tf.Tensor4D, training)))(x);
    return { loss: value as tf.Tensor1D, sign: tf.sign(grad) as tf.Tensor4D };
  });
}

/**
 * sign(∇ₓ Σᵢ CE(labelsᵢ, logitsᵢ)) where the labels may be derived from the logits of the
 * same forward pass (step-LL): one forward and one backward, whatever the target. Labels
 * computed from the logits reach x only through argMin/oneHot, whose gradients are zero.
 */
export function gradientSignToward(
  model: Classifier,
  x: tf.Tensor4D,
  labelsOf: (logits: tf.Tensor2D) => tf.Tensor1D,
  opts: AttackOptions = {},
): tf.Tensor4D {
  return tf.tidy(() => tf.sign(gradientToward(model, x, labelsOf, opts)) as tf.Tensor4D);
}

/** ∇ₓ Σᵢ CE(labelsᵢ, logitsᵢ) itself (webgpu's fused one-step attack takes its sign in its own kernel). */
export function gradientToward(
  model: Classifier,
  x: tf.Tensor4D,
  labelsOf: (logits: tf.Tensor2D) => tf.Tensor1D,
  opts: AttackOptions = {},
): tf.Tensor4D {
  const training = opts.training ?? false;
  return tf.tidy(() => {
    const lossOf = (xi: tf.Tensor): tf.Tensor => {
      const logits = model.logits(xi as tf.Tensor4D, training);
      return crossEntropySum(labelsOf(logits), logits);
    };
    return tf.grad(lossOf)(x) as tf.Tensor4D;
  });
}

/** sign(∇ₓ CE(labels, logits(x))); 0 where the gradient is exactly 0. */
export function lossGradientSign(
  model: Classifier,
  x: tf.Tensor4D,
  labels: tf.Tensor1D,
  opts: AttackOptions = {},
): tf.Tensor4D {
  return gradientSignToward(model, x, () => labels, opts);
}

/** Index of the smallest logit per example (int32), i.e. the least likely class. */
export function leastLikelyClass(model: Classifier, x: tf.Tensor4D, opts: AttackOptions = {}): tf.Tensor1D {
  return tf.tidy(() => leastLikelyOf(model.logits(x, opts.training ?? false)));
}

export function leastLikelyOf(logits: tf.Tensor2D): tf.Tensor1D {
  return tf.argMin(logits, 1);
}

/** Index of the largest logit per example (int32): the model's own prediction. */
export function predictedOf(logits: tf.Tensor2D): tf.Tensor1D {
  return tf.argMax(logits, 1);
}
