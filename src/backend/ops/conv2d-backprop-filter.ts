import * as tf from '@tensorflow/tfjs';
import type { Conv2DBackpropFilterAttrs, KernelBackend, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { nhwcConvInfo, randomConv } from '../conv-info.ts';
import { kernelScope } from '../kernel-scope.ts';
import { defineOp } from './op.ts';
import { flatProgram, type WebgpuBackendLike } from './webgpu-program.ts';

/**
 * im2col as one webgpu kernel: [N, H, W, Ci] → [N, OH, OW, KH·KW·Ci], the KH·KW strided windows
 * of the zero-padded input side by side (tap-major, channels fastest). Composed from stock
 * kernels it took a PadV2, KH·KW StridedSlices and a Concat: 11 dispatches for a 3×3 filter.
 */
export const IM2COL = 'LabelLeakIm2col';

interface Im2colAttrs {
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  padTop: number;
  padLeft: number;
  oh: number;
  ow: number;
}

function im2col(args: { inputs: { x: TensorInfo }; backend: unknown; attrs?: unknown }): TensorInfo {
  const { x } = args.inputs;
  const a = args.attrs as Im2colAttrs;
  const [n, h, w, ci] = x.shape;
  const program = flatProgram(
    'll_im2col',
    ['X'],
    n * a.oh * a.ow * a.kh * a.kw * ci,
    `var r = index;
          let c = r % uniforms.ci; r = r / uniforms.ci;
          let j = r % uniforms.kw; r = r / uniforms.kw;
          let i = r % uniforms.kh; r = r / uniforms.kh;
          let ow = r % uniforms.ow; r = r / uniforms.ow;
          let oh = r % uniforms.oh; let b = r / uniforms.oh;
          let ih = oh * uniforms.sh + i - uniforms.padTop;
          let iw = ow * uniforms.sw + j - uniforms.padLeft;
          var v = 0.0;
          if (ih >= 0 && ih < uniforms.inH && iw >= 0 && iw < uniforms.inW) {
            v = X[((b * uniforms.inH + ih) * uniforms.inW + iw) * uniforms.ci + c];
          }
          setOutputAtIndex(index, v);`,
    'inH : i32, inW : i32, ci : i32, oh : i32, ow : i32, kh : i32, kw : i32, sh : i32, sw : i32, padTop : i32, padLeft : i32,',
  );
  const ints = [h, w, ci, a.oh, a.ow, a.kh, a.kw, a.sh, a.sw, a.padTop, a.padLeft].map((v) => ({ type: 'int32' as const, data: [v] }));
  const out = (args.backend as WebgpuBackendLike).runWebGPUProgram(program, [x], 'float32', ints);
  return { ...out, shape: [n, a.oh, a.ow, a.kh * a.kw * ci] };
}

/**
 * Σ over the leading axis, [N, …] → […], as one webgpu kernel: a thread per output element adds
 * its N values in order (neighbouring threads read neighbouring addresses). tfjs's Sum over
 * axis 0 transposes the whole input first, then reduces: two dispatches.
 */
export const SUM_LEADING = 'LabelLeakSumLeading';

function sumLeading(args: { inputs: { x: TensorInfo }; backend: unknown }): TensorInfo {
  const { x } = args.inputs;
  const [n, ...rest] = x.shape;
  const program = flatProgram(
    'll_sum_leading',
    ['X'],
    tf.util.sizeFromShape(rest),
    `var s = 0.0;
          for (var b = 0; b < uniforms.n; b = b + 1) {
            s = s + X[b * uniforms.size + index];
          }
          setOutputAtIndex(index, s);`,
    'n : i32,',
  );
  const flat = { ...x, shape: [tf.util.sizeFromShape(x.shape)] };
  const out = (args.backend as WebgpuBackendLike).runWebGPUProgram(program, [flat], 'float32', [{ type: 'int32', data: [n] }]);
  return { ...out, shape: rest };
}

/**
 * Conv2DBackpropFilter for tfjs-backend-webgpu 4.22. The stock kernel gives each filter
 * weight one GPU thread, which loops over every (n, oh, ow): for a 3×3×16×16 filter that is
 * 2,304 threads each summing 131,072 products at batch 128 — far too few threads to hide
 * memory latency. Measured on an H100 through dawn.node (docs/gpu.md): 31 ms for
 * 128×32×32×16 → 16 against 1.1 ms for the forward convolution, the largest share of a
 * ResNet-20 training step.
 *
 * Here the reduction is spread over the batch instead: the KH·KW shifted (strided) windows
 * of the padded input are laid side by side as [N, OH·OW, KH·KW·Ci] (im2col per image), one
 * batched matrix product per image gives [N, KH·KW·Ci, Co], and a sum over N finishes dW.
 */
function conv2dBackpropFilterIm2col(
  args: { inputs: { x: TensorInfo; dy: TensorInfo }; backend: KernelBackend; attrs: Conv2DBackpropFilterAttrs },
  stock: KernelFunc,
): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x, dy } = inputs;
  if (attrs.dataFormat !== 'NHWC') return stock(args as never) as TensorInfo;
  const info = nhwcConvInfo(x.shape, attrs.filterShape, attrs);
  const { batchSize: n, inChannels: ci, outChannels: co, outHeight: oh, outWidth: ow } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, padInfo: p } = info;
  const k = kernelScope(backend, 'webgpu');
  try {
    const patches = k.run(IM2COL, { x }, { kh, kw, sh, sw, padTop: p.top, padLeft: p.left, oh, ow });
    const a = k.run('Reshape', { x: patches }, { shape: [n, oh * ow, kh * kw * ci] });
    const b = k.run('Reshape', { x: dy }, { shape: [n, oh * ow, co] });
    const perImage = k.run('BatchMatMul', { a, b }, { transposeA: true, transposeB: false }); // [N, KH·KW·Ci, Co]
    return k.keep(k.run('Reshape', { x: k.run(SUM_LEADING, { x: perImage }) }, { shape: [kh, kw, ci, co] }));
  } finally {
    k.release();
  }
}

/**
 * wasm (tfjs-backend-wasm 4.22) has no Conv2DBackpropFilter at all; this one is built only from
 * its own kernels so that it runs at wasm (XNNPACK) speed (see conv2d-backprop-input.ts for the
 * measurements).
 *
 * dW[kh, kw, ci, co] = Σ_{n, oh, ow} x[n, oh·s + kh − top, ow·s + kw − left, ci] · dy[n, oh, ow, co]
 * is itself a forward convolution, over the batch axis: the image is x as [Ci, H, W, N]
 * (channels N), the "filter" is dy as [OH, OW, N, Co] dilated by the stride, and the
 * KH×KW output is dW as [Ci, KH, KW, Co]. XNNPACK runs it; the only copies are three
 * transposes. Measured against an im2col variant (one strided slice and one matrix
 * product per filter tap), median of 6 under load, ms: 64×32×32×16 → 16, stride 1:
 * 63 vs 240; → 32, stride 2: 33 vs 640; 64×8×8×64 → 64: 29 vs 72.
 */
function conv2dBackpropFilterWasm(args: {
  inputs: { x: TensorInfo; dy: TensorInfo };
  backend: KernelBackend;
  attrs: Conv2DBackpropFilterAttrs;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x, dy } = inputs;
  const info = nhwcConvInfo(x.shape, attrs.filterShape, attrs);
  const { inChannels: ci, inHeight: h, inWidth: w, outHeight: oh, outWidth: ow } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, padInfo: p } = info;
  // Rows past the last one a filter tap reaches are cut off (negative padding) rather than padded.
  const bottom = kh + (oh - 1) * sh - h - p.top;
  const right = kw + (ow - 1) * sw - w - p.left;

  const k = kernelScope(backend, 'wasm');
  try {
    let image = k.run('Transpose', { x }, { perm: [3, 1, 2, 0] }); // [Ci, H, W, N]
    if (bottom < 0 || right < 0) {
      image = k.run('Slice', { x: image }, { begin: [0, 0, 0, 0], size: [ci, h + Math.min(bottom, 0), w + Math.min(right, 0), -1] });
    }
    const filter = k.run('Transpose', { x: dy }, { perm: [1, 2, 0, 3] }); // [OH, OW, N, Co]
    const dw = k.run('Conv2D', { x: image, filter }, {
      strides: [1, 1],
      pad: [[0, 0], [p.top, Math.max(bottom, 0)], [p.left, Math.max(right, 0)], [0, 0]],
      dataFormat: 'NHWC',
      dilations: [sh, sw],
    }); // [Ci, KH, KW, Co]
    return k.keep(k.run('Transpose', { x: dw }, { perm: [1, 2, 0, 3] }));
  } finally {
    k.release();
  }
}

type Conv2dBackpropFilter = (x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: [number, number, number, number], strides: [number, number], pad: 'same' | 'valid') => tf.Tensor4D;

/**
 * ∂/∂w of a convolution, dy the output's gradient: tfjs's own kernel of that name, which the
 * kernels below replace on webgpu and add on wasm, so tf.conv2d's gradient reaches them.
 */
const reference: Conv2dBackpropFilter = (x, dy, filterShape, strides, pad) =>
  tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides, pad, dataFormat: 'NHWC', dilations: 1, filterShape } as never) as tf.Tensor4D;

export const conv2dBackpropFilter = defineOp<Conv2dBackpropFilter>({
  name: 'conv2d filter gradient',
  reference,
  kernels: {
    webgpu: {
      [IM2COL]: im2col,
      [SUM_LEADING]: sumLeading,
      Conv2DBackpropFilter: (args, stock) => conv2dBackpropFilterIm2col(args as never, stock!),
    },
    wasm: { Conv2DBackpropFilter: (args) => conv2dBackpropFilterWasm(args as never) },
  },
  check: {
    // Strides 1–3 on each axis, not always equal.
    run: (rng, call) => {
      const { x, filter, dy, strides, pad } = randomConv(rng, 3);
      return [call(x, dy, filter.shape, strides, pad)];
    },
    tolerance: 1e-4,
    why: 'the same products summed in another order (im2col and a matrix product per image, or a convolution over the batch axis, against tfjs\'s loop): float32 rounding of sums of up to a few hundred terms; a wrong tap, stride or padding is off by order 1',
  },
});
