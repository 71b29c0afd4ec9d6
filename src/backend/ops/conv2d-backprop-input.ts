import * as tf from '@tensorflow/tfjs';
import type { Conv2DBackpropInputAttrs, KernelBackend, TensorInfo } from '@tensorflow/tfjs';
import { subPixelFilter } from '../sub-pixel.ts';
import { nhwcConvInfo as convInfo, randomConv } from '../conv-info.ts';
import { kernelScope } from '../kernel-scope.ts';
import { defineOp } from './op.ts';

/**
 * Convolution gradients for tfjs-backend-wasm 4.22, built only from its own kernels so
 * they run at wasm (XNNPACK) speed. Measured reasons, 64×32×32×16 input, 3×3×16×16 filter,
 * one thread: the forward Conv2D (XNNPACK) takes 22 ms; the stock Conv2DBackpropInput is a
 * scalar C++ loop (125 ms); Conv2DBackpropFilter does not exist at all (conv2d-backprop-filter.ts).
 * Both gradients are therefore written as forward convolutions of rearranged operands.
 */

/**
 * dx as a forward convolution, which XNNPACK runs: dy dilated by the stride (zeros between
 * its rows and columns), padded so every filter tap that touched an input pixel lines up,
 * convolved 'valid' with the filter rotated 180° and its channel axes swapped. Returns
 * undefined for layouts this does not cover (padding wider than the filter, or a stride
 * that skips input rows), which then use the stock kernel.
 */
function conv2dBackpropInputViaConv(
  args: { inputs: { dy: TensorInfo; filter: TensorInfo }; backend: KernelBackend; attrs: Conv2DBackpropInputAttrs },
): TensorInfo | undefined {
  const { inputs, backend, attrs } = args;
  const { dy, filter } = inputs;
  const info = convInfo(attrs.inputShape, filter.shape, attrs);
  const { batchSize: n, inHeight: h, inWidth: w, outChannels: co, outHeight: oh, outWidth: ow } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, padInfo: p } = info;
  if (sh === sw && sh > 1) return subPixelInputGradient(args, info);
  // Dilating by the reshape below leaves (s − 1) zero rows/columns after the last one.
  const padTop = kh - 1 - p.top;
  const padLeft = kw - 1 - p.left;
  const padBottom = h + kh - 1 - padTop - oh * sh;
  const padRight = w + kw - 1 - padLeft - ow * sw;
  if (Math.min(padTop, padLeft, padBottom, padRight) < 0) return undefined;

  const k = kernelScope(backend, 'wasm');
  try {
    let g = dy;
    if (sh > 1 || sw > 1) {
      const rows = k.run('Reshape', { x: dy }, { shape: [n * oh, 1, ow, co] });
      const spread = k.run('PadV2', { x: rows }, { paddings: [[0, 0], [0, sh - 1], [0, 0], [0, (sw - 1) * co]], constantValue: 0 });
      g = k.run('Reshape', { x: spread }, { shape: [n, oh * sh, ow * sw, co] });
    }
    const flipped = k.run('Reverse', { x: filter }, { dims: [0, 1] });
    const rotated = k.run('Transpose', { x: flipped }, { perm: [0, 1, 3, 2] }); // [KH, KW, Co, Ci]
    return k.keep(
      k.run('Conv2D', { x: g, filter: rotated }, {
        strides: [1, 1],
        pad: [[0, 0], [padTop, padBottom], [padLeft, padRight], [0, 0]],
        dataFormat: 'NHWC',
        dilations: [1, 1],
      }),
    );
  } finally {
    k.release();
  }
}

/**
 * dx for equal strides s > 1 without convolving zeros: one stride-1 convolution of dy with
 * the sub-pixel filter (sub-pixel.ts) gives the s² output phases as channels, DepthToSpace
 * interleaves them, and a slice drops the rows and columns that fall in the padding.
 * Measured on wasm (one thread, median of 15), dx of a stride-2 3×3 layer: 128×16×16×16 from
 * 32 filters 11 ms through the zero-dilated dy, 4.6 ms this way (stock kernel 33 ms);
 * 128×32×32×16 from 32 filters ≈ 37 ms against 16 ms.
 */
function subPixelInputGradient(
  args: { inputs: { dy: TensorInfo; filter: TensorInfo }; backend: KernelBackend },
  info: ReturnType<typeof convInfo>,
): TensorInfo {
  const { inputs, backend } = args;
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outHeight: oh, outWidth: ow } = info;
  const { strideHeight: s, padInfo: p } = info;
  const filterValues = backend.readSync(inputs.filter.dataId) as Float32Array;
  const g = subPixelFilter(filterValues, inputs.filter.shape as [number, number, number, number], s);
  const [jh, jw] = g.shape;
  // Phase rows q run from 0 to ⌊(H − 1 + top) / s⌋; pad dy on the far side until they all exist.
  const padBottom = Math.max(0, Math.floor((h - 1 + p.top) / s) + 1 - oh);
  const padRight = Math.max(0, Math.floor((w - 1 + p.left) / s) + 1 - ow);

  const k = kernelScope(backend, 'wasm');
  try {
    // BackendWasm's own allocator; KernelBackend does not declare it.
    const wasmBackend = backend as unknown as { makeOutput(shape: number[], dtype: 'float32', offset?: number, values?: Float32Array): TensorInfo };
    const gInfo = wasmBackend.makeOutput(g.shape, 'float32', undefined, g.values);
    k.keep(gInfo);
    const z = k.run('Conv2D', { x: inputs.dy, filter: gInfo }, {
      strides: [1, 1],
      pad: [[0, 0], [jh - 1, padBottom], [jw - 1, padRight], [0, 0]],
      dataFormat: 'NHWC',
      dilations: [1, 1],
    });
    backend.disposeData(gInfo.dataId);
    // Depth-to-space as a rank-4 transpose: [N·Qh, Qw, s, s·Ci] → [N·Qh, s, Qw, s·Ci].
    // wasm's DepthToSpace kernel took 23 ms on a 128×9×9×64 input, this 0.2 ms.
    const [, qh, qw] = z.shape;
    const grouped = k.run('Reshape', { x: z }, { shape: [n * qh, qw, s, s * ci] });
    const moved = k.run('Transpose', { x: grouped }, { perm: [0, 2, 1, 3] });
    const full = k.run('Reshape', { x: moved }, { shape: [n, qh * s, qw * s, ci] });
    if (p.top === 0 && p.left === 0 && full.shape[1] === h && full.shape[2] === w) return k.keep(full);
    return k.keep(
      k.run('StridedSlice', { x: full }, {
        begin: [0, p.top, p.left, 0],
        end: [n, p.top + h, p.left + w, ci],
        strides: [1, 1, 1, 1],
        beginMask: 0,
        endMask: 0,
        ellipsisMask: 0,
        newAxisMask: 0,
        shrinkAxisMask: 0,
      }),
    );
  } finally {
    k.release();
  }
}

type Conv2dBackpropInput = (dy: tf.Tensor4D, filter: tf.Tensor4D, inputShape: [number, number, number, number], strides: [number, number], pad: 'same' | 'valid') => tf.Tensor4D;

/** ∂/∂x of a convolution: tfjs's own kernel of that name, which wasm's below replaces (tf.conv2d's gradient reaches it). */
const reference: Conv2dBackpropInput = (dy, filter, inputShape, strides, pad) =>
  tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, { strides, pad, dataFormat: 'NHWC', dilations: 1, inputShape } as never) as tf.Tensor4D;

export const conv2dBackpropInput = defineOp<Conv2dBackpropInput>({
  name: 'conv2d input gradient',
  reference,
  kernels: {
    wasm: {
      // Layouts the forward-convolution form does not cover keep the stock kernel.
      Conv2DBackpropInput: (args, stock) => conv2dBackpropInputViaConv(args as never) ?? (stock!(args as never) as TensorInfo),
    },
  },
  check: {
    run: (rng, call) => {
      const { x, filter, dy, strides, pad } = randomConv(rng, 2);
      return [call(dy, filter, x.shape, strides, pad)];
    },
    tolerance: 1e-4,
    why: 'the same products summed in another order (a forward convolution of the rotated filter over dilated dy): float32 rounding; a wrong tap, stride or padding is off by order 1',
  },
});
