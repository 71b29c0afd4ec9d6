import * as tf from '@tensorflow/tfjs';
import type { Conv2DAttrs, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { defineOp, normals } from './op.ts';

/**
 * wasm's Conv2D and FusedConv2D hand pad 'same' to XNNPACK as its TensorFlow-SAME flag, which
 * computes wrong outputs (zeros) when the stride reaches past a small input, e.g. a 4×1 image,
 * 1×2 filter, stride 2 (tfjs issues #5907, #8405, #8406; found here by the conv gradient
 * property test). Passing the same padding as explicit amounts, computed the way every
 * other backend computes them, gives the cpu backend's result.
 */
function withExplicitSamePadding(stock: KernelFunc): KernelFunc {
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

type Conv2d = (x: tf.Tensor4D, filter: tf.Tensor4D, strides: number, pad: 'same' | 'valid', fused?: { bias: tf.Tensor1D; activation: 'relu' }) => tf.Tensor4D;

const samePadding = (args: Parameters<KernelFunc>[0], stock?: KernelFunc) => withExplicitSamePadding(stock!)(args) as TensorInfo;

/** A convolution, plain or with bias and ReLU (tfjs's FusedConv2D, what the models call). */
export const conv2d = defineOp<Conv2d>({
  name: 'conv2d (same padding)',
  reference: (x, filter, strides, pad, fused) =>
    fused === undefined ? tf.conv2d(x, filter, strides, pad) : tf.fused.conv2d({ x, filter, strides, pad, bias: fused.bias, activation: fused.activation }),
  kernels: { wasm: { Conv2D: samePadding, FusedConv2D: samePadding } },
  check: {
    // Strides that reach past small inputs: where XNNPACK's SAME flag gave zeros.
    run: (rng, call) => {
      const [n, h, w, ci, co, kh, kw] = [1 + rng.int(3), 1 + rng.int(9), 1 + rng.int(9), 1 + rng.int(6), 1 + rng.int(6), 1 + rng.int(4), 1 + rng.int(4)];
      const x = tf.tensor4d(normals(n * h * w * ci, rng), [n, h, w, ci]);
      const filter = tf.tensor4d(normals(kh * kw * ci * co, rng), [kh, kw, ci, co]);
      const fused = rng.next() < 0.5 ? { bias: tf.tensor1d(normals(co, rng)), activation: 'relu' as const } : undefined;
      return [call(x, filter, 1 + rng.int(2), 'same', fused)];
    },
    tolerance: 1e-5,
    why: 'the same products summed in XNNPACK\'s order: float32 rounding; a padding off by one is off by order 1',
  },
});
