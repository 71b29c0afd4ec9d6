import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../util/rng.ts';
import type { Conv2DBackpropFilterAttrs, Conv2DBackpropInputAttrs } from '@tensorflow/tfjs';

type Shape4 = [number, number, number, number];

/** The geometry of a conv-gradient kernel's convolution; the replacement kernels handle NHWC only. */
export function nhwcConvInfo(xShape: number[], filterShape: number[], attrs: Conv2DBackpropFilterAttrs | Conv2DBackpropInputAttrs) {
  if (attrs.dataFormat !== 'NHWC') throw new Error(`these conv gradient kernels support NHWC only, got ${attrs.dataFormat}`);
  return tf.backend_util.computeConv2DInfo(
    xShape as Shape4,
    filterShape as Shape4,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
}

/**
 * A random small convolution for the ops' checks (ops/op.ts): input x, filter, strides 1 to
 * `maxStride` on each axis, a padding, and an output gradient dy of the output's shape; the
 * values standard normals. 'valid' filters fit the input.
 */
export function randomConv(rng: Rng, maxStride: number) {
  const normal = (shape: number[]) => tf.tensor4d(Float32Array.from({ length: tf.util.sizeFromShape(shape) }, () => rng.normal()), shape as [number, number, number, number]);
  const [n, h, w, ci, co] = [1 + rng.int(3), 1 + rng.int(9), 1 + rng.int(9), 1 + rng.int(6), 1 + rng.int(6)];
  const pad: 'same' | 'valid' = rng.next() < 0.5 ? 'same' : 'valid';
  const kh = 1 + rng.int(pad === 'valid' ? Math.min(4, h) : 4);
  const kw = 1 + rng.int(pad === 'valid' ? Math.min(4, w) : 4);
  const strides: [number, number] = [1 + rng.int(maxStride), 1 + rng.int(maxStride)];
  const out = tf.backend_util.computeConv2DInfo([n, h, w, ci], [kh, kw, ci, co], strides, 1, pad);
  return { x: normal([n, h, w, ci]), filter: normal([kh, kw, ci, co]), dy: normal([n, out.outHeight, out.outWidth, co]), strides, pad };
}

