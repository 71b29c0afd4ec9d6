import * as tf from '@tensorflow/tfjs';
import type { Conv2DBackpropFilterAttrs, Conv2DBackpropInputAttrs, KernelBackend, TensorInfo } from '@tensorflow/tfjs';
import { kernelScope } from './wasm-kernel-runner.ts';

/**
 * Convolution gradients for tfjs-backend-wasm 4.22, built only from its own kernels so
 * they run at wasm (XNNPACK) speed. Measured reasons, 64×32×32×16 input, 3×3×16×16 filter,
 * one thread: the forward Conv2D (XNNPACK) takes 22 ms; the stock Conv2DBackpropInput is a
 * scalar C++ loop (125 ms); Conv2DBackpropFilter does not exist at all. wasm's BatchMatMul
 * reaches XNNPACK only with no transposes and a batch of 1, and its Concat copies in
 * JavaScript (140 ms for the nine 4 MB slices of an im2col matrix), so both gradients are
 * arranged to avoid those paths.
 */

type Shape4 = [number, number, number, number];

function convInfo(xShape: number[], filterShape: number[], attrs: Conv2DBackpropFilterAttrs | Conv2DBackpropInputAttrs) {
  if (attrs.dataFormat !== 'NHWC') throw new Error(`wasm conv gradients support NHWC only, got ${attrs.dataFormat}`);
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
 * dW[kh, kw, ci, co] = Σ_{n, oh, ow} x_pad[n, oh·s + kh, ow·s + kw, ci] · dy[n, oh, ow, co].
 * The input is moved channel-first once; each filter tap is then one strided slice, already
 * the [Ci, N·OH·OW] operand of a plain matrix product with dy as [N·OH·OW, Co]. XNNPACK
 * packs dy once (its operator cache is keyed on that operand) and the nine small [Ci, Co]
 * results are stacked in the filter's (kh, kw, ci) order.
 */
export function conv2dBackpropFilterWasm(args: {
  inputs: { x: TensorInfo; dy: TensorInfo };
  backend: KernelBackend;
  attrs: Conv2DBackpropFilterAttrs;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x, dy } = inputs;
  const info = convInfo(x.shape, attrs.filterShape, attrs);
  const { batchSize: n, inChannels: ci, outChannels: co, outHeight: oh, outWidth: ow } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, padInfo: p } = info;
  const m = n * oh * ow;

  const k = kernelScope(backend, 'wasm');
  try {
    let xt = k.run('Transpose', { x }, { perm: [3, 0, 1, 2] }); // [Ci, N, H, W]
    if (p.top + p.bottom + p.left + p.right > 0) {
      xt = k.run('PadV2', { x: xt }, { paddings: [[0, 0], [0, 0], [p.top, p.bottom], [p.left, p.right]], constantValue: 0 });
    }
    const dy2 = k.run('Reshape', { x: dy }, { shape: [1, m, co] });
    const perTap: TensorInfo[] = [];
    for (let r = 0; r < kh; r++) {
      for (let c = 0; c < kw; c++) {
        const tap = k.run('StridedSlice', { x: xt }, {
          begin: [0, 0, r, c],
          end: [ci, n, r + (oh - 1) * sh + 1, c + (ow - 1) * sw + 1],
          strides: [1, 1, sh, sw],
          beginMask: 0,
          endMask: 0,
          ellipsisMask: 0,
          newAxisMask: 0,
          shrinkAxisMask: 0,
        });
        const a = k.run('Reshape', { x: tap }, { shape: [1, ci, m] });
        perTap.push(k.run('BatchMatMul', { a, b: dy2 }, { transposeA: false, transposeB: false }));
      }
    }
    const stacked = perTap.length === 1 ? perTap[0] : k.run('Concat', perTap, { axis: 1 }); // [1, KH·KW·Ci, Co]
    return k.keep(k.run('Reshape', { x: stacked }, { shape: [kh, kw, ci, co] }));
  } finally {
    k.release();
  }
}

/**
 * dx as a forward convolution, which XNNPACK runs: dy dilated by the stride (zeros between
 * its rows and columns), padded so every filter tap that touched an input pixel lines up,
 * convolved 'valid' with the filter rotated 180° and its channel axes swapped. Returns
 * undefined for layouts this does not cover (padding wider than the filter, or a stride
 * that skips input rows), which then use the stock kernel.
 */
export function conv2dBackpropInputViaConv(
  args: { inputs: { dy: TensorInfo; filter: TensorInfo }; backend: KernelBackend; attrs: Conv2DBackpropInputAttrs },
): TensorInfo | undefined {
  const { inputs, backend, attrs } = args;
  const { dy, filter } = inputs;
  const info = convInfo(attrs.inputShape, filter.shape, attrs);
  const { batchSize: n, inHeight: h, inWidth: w, outChannels: co, outHeight: oh, outWidth: ow } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, padInfo: p } = info;
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
