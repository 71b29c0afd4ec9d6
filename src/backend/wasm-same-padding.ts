import * as tf from '@tensorflow/tfjs';
import type { Conv2DAttrs, KernelFunc, TensorInfo } from '@tensorflow/tfjs';

/**
 * wasm's Conv2D and FusedConv2D hand pad 'same' to XNNPACK as its TensorFlow-SAME flag, which
 * computes wrong outputs (zeros) when the stride reaches past a small input, e.g. a 4×1 image,
 * 1×2 filter, stride 2 (tfjs issues #5907, #8405, #8406; found here by the conv gradient
 * property test). Passing the same padding as explicit amounts, computed the way every
 * other backend computes them, gives the cpu backend's result.
 */
export function withExplicitSamePadding(stock: KernelFunc): KernelFunc {
  return (args) => {
    const attrs = args.attrs as unknown as Conv2DAttrs;
    if (attrs.pad !== 'same') return stock(args);
    const { x, filter } = args.inputs as unknown as { x: TensorInfo; filter: TensorInfo };
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      filter.shape as [number, number, number, number],
      attrs.strides,
      attrs.dilations,
      'same',
      attrs.dimRoundingMode,
      false,
      tf.backend_util.convertConv2DDataFormat(attrs.dataFormat),
    );
    const p = info.padInfo;
    const pad = [[0, 0], [p.top, p.bottom], [p.left, p.right], [0, 0]];
    return stock({ ...args, attrs: { ...args.attrs, pad } as unknown as typeof args.attrs });
  };
}
