import * as tf from '@tensorflow/tfjs';

/**
 * The write-up's noise image clip(sign(∇) + 1, 0, 1): 0 where the gradient is negative,
 * 1 elsewhere. Takes the gradient or its sign (sign is idempotent), so the result is
 * binary whatever the caller holds.
 */
export function noiseImage(gradSign: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.clipByValue(tf.add(tf.sign(gradSign), 1), 0, 1) as tf.Tensor4D);
}
