import * as tf from '@tensorflow/tfjs';
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
