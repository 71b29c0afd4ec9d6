import * as tf from '@tensorflow/tfjs';

/** ε in 0–255 pixel units (the write-up's scale); a tensor gives one ε per example. */
export type Epsilon = number | tf.Tensor1D;

/** Images live in [0, 1]; one pixel level is 1/255 of that range. */
export const PIXEL_LEVELS = 255;

function checkScalar(eps: number): void {
  if (!Number.isFinite(eps) || eps < 0) {
    throw new RangeError(`ε must be a finite number ≥ 0 in 0–255 pixel units, got ${eps}`);
  }
}

/** ε in pixel units → the [0, 1] image scale, as a plain number (for reports and checks). */
export function pixelsToUnit(eps: number): number {
  checkScalar(eps);
  return eps / PIXEL_LEVELS;
}

/**
 * ε on the [0, 1] scale, shaped to broadcast over a batch of `batch` NHWC images. Both
 * forms go through the same float32 division, so a per-example tensor of equal values
 * gives bit-identical perturbations to the scalar. Per-example values are not checked for
 * sign: that would read the tensor back and stall a GPU in the training loop.
 */
export function unitEpsilon(eps: Epsilon, batch: number): tf.Tensor {
  checkEpsilon(eps, batch);
  return tf.tidy(() => {
    if (typeof eps === 'number') return tf.div(tf.scalar(eps), PIXEL_LEVELS);
    return tf.reshape(tf.div(tf.cast(eps, 'float32'), PIXEL_LEVELS), [batch, 1, 1, 1]);
  });
}

/** Throws unless `eps` is a valid ε for a batch of `batch` images (see unitEpsilon). */
export function checkEpsilon(eps: Epsilon, batch: number): void {
  if (typeof eps === 'number') return checkScalar(eps);
  if (eps.rank !== 1 || eps.shape[0] !== batch) {
    throw new Error(
      `a per-example ε must have shape [${batch}] (one per image), got [${eps.shape.join(', ')}]`,
    );
  }
}
