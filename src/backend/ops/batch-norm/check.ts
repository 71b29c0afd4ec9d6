import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../../util/rng.ts';
import { normals } from '../op.ts';

/** Inputs for the batch-norm kernels' checks (op.ts's OpCheck). */

export const channels = (rng: Rng): number => 1 + rng.int(9);

/**
 * An NHWC activation with `c` channels; `nhw` its first three sizes, else random ones with at
 * least 3 values per channel (with 1 or 2, x̂ is 0 or ±1 and ∂x is rounding noise), one in five
 * long enough (N·H·W ≥ 4096) for webgpu's 256-thread per-channel workgroups.
 */
export function activation(rng: Rng, c: number, nhw?: number[]): tf.Tensor4D {
  const long = rng.next() < 0.2;
  let [n, h, w] = nhw ?? (long ? [2, 48, 48] : [1 + rng.int(4), 1 + rng.int(7), 1 + rng.int(7)]);
  if (nhw === undefined && n * h * w < 3) n = 3;
  return tf.tensor4d(normals(n * h * w * c, rng), [n, h, w, c]);
}

export const vector = (rng: Rng, c: number): tf.Tensor1D => tf.tensor1d(normals(c, rng));

/** Variances: positive, around 1. */
export const positive = (rng: Rng, c: number): tf.Tensor1D => tf.tensor1d(Float32Array.from({ length: c }, () => 0.2 + 2 * rng.next()));
