import * as tf from '@tensorflow/tfjs';
import type { ImageSet } from '../data/types.ts';
import type { Rng } from '../util/rng.ts';

/** The standard CIFAR augmentation (He et al. 2016): pad-and-crop shifts and horizontal flips. */
export interface Augmentation {
  /** Maximum shift in pixels (zero padding), 4 for CIFAR. 0 disables. */
  crop: number;
  flip: boolean;
}

/**
 * A float batch in [0, 1] with each image shifted and flipped at random. Done in one pass
 * over the uint8 source so no per-image tensors are made.
 */
export function augmentedBatch(
  set: ImageSet,
  indices: ArrayLike<number>,
  aug: Augmentation,
  rng: Rng,
): { x: tf.Tensor4D; y: tf.Tensor1D } {
  const { height: h, width: w, channels: c } = set;
  const n = indices.length;
  const out = new Float32Array(n * h * w * c);
  const labels = new Int32Array(n);
  const scale = 1 / 255;
  for (let b = 0; b < n; b++) {
    const src = indices[b] * h * w * c;
    const dy = aug.crop > 0 ? rng.int(2 * aug.crop + 1) - aug.crop : 0;
    const dx = aug.crop > 0 ? rng.int(2 * aug.crop + 1) - aug.crop : 0;
    const flip = aug.flip && rng.next() < 0.5;
    labels[b] = set.labels[indices[b]];
    const dst = b * h * w * c;
    for (let y = 0; y < h; y++) {
      const sy = y + dy;
      if (sy < 0 || sy >= h) continue; // zero padding
      for (let x = 0; x < w; x++) {
        const sx0 = x + dx;
        if (sx0 < 0 || sx0 >= w) continue;
        const sx = flip ? w - 1 - sx0 : sx0;
        const si = src + (sy * w + sx) * c;
        const di = dst + (y * w + x) * c;
        for (let k = 0; k < c; k++) out[di + k] = set.images[si + k] * scale;
      }
    }
  }
  return { x: tf.tensor4d(out, [n, h, w, c]), y: tf.tensor1d(labels, 'int32') };
}
