import * as tf from '@tensorflow/tfjs';
import type { Conv2DBackpropFilterAttrs, KernelBackend, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { nhwcConvInfo } from './conv-info.ts';
import { kernelScope } from './kernel-scope.ts';
import { flatProgram, registerWebgpuKernels, type WebgpuBackendLike } from './webgpu-program.ts';

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
export function conv2dBackpropFilterIm2col(
  args: { inputs: { x: TensorInfo; dy: TensorInfo }; backend: KernelBackend; attrs: Conv2DBackpropFilterAttrs },
  stock: KernelFunc,
  // The kernels it composes exist on every backend; tests run it on `cpu`.
  backendName = 'webgpu',
): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x, dy } = inputs;
  if (attrs.dataFormat !== 'NHWC') return stock(args as never) as TensorInfo;
  const info = nhwcConvInfo(x.shape, attrs.filterShape, attrs);
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outChannels: co, outHeight: oh, outWidth: ow } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, padInfo: p } = info;
  // Rows past the last one a tap reaches are never read, so only missing rows are padded.
  const bottom = Math.max(0, (oh - 1) * sh + kh - h - p.top);
  const right = Math.max(0, (ow - 1) * sw + kw - w - p.left);

  const k = kernelScope(backend, backendName);
  try {
    const oneKernel = tf.getKernel(IM2COL, backendName) !== undefined;
    const patches = oneKernel ? k.run(IM2COL, { x }, { kh, kw, sh, sw, padTop: p.top, padLeft: p.left, oh, ow }) : windowsSideBySide();
    const a = k.run('Reshape', { x: patches }, { shape: [n, oh * ow, kh * kw * ci] });
    const b = k.run('Reshape', { x: dy }, { shape: [n, oh * ow, co] });
    const perImage = k.run('BatchMatMul', { a, b }, { transposeA: true, transposeB: false }); // [N, KH·KW·Ci, Co]
    const summed =
      tf.getKernel(SUM_LEADING, backendName) !== undefined
        ? k.run(SUM_LEADING, { x: perImage })
        : k.run('Sum', { x: perImage }, { axis: [0], keepDims: false });
    return k.keep(k.run('Reshape', { x: summed }, { shape: [kh, kw, ci, co] }));
  } finally {
    k.release();
  }

  /** im2col from stock kernels (the backends without IM2COL: the tests' cpu). */
  function windowsSideBySide(): TensorInfo {
    const padded = k.run('PadV2', { x }, { paddings: [[0, 0], [p.top, bottom], [p.left, right], [0, 0]], constantValue: 0 });
    const windows: TensorInfo[] = [];
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        windows.push(
          k.run('StridedSlice', { x: padded }, {
            begin: [0, i, j, 0],
            end: [n, i + (oh - 1) * sh + 1, j + (ow - 1) * sw + 1, ci],
            strides: [1, sh, sw, 1],
            beginMask: 0,
            endMask: 0,
            ellipsisMask: 0,
            newAxisMask: 0,
            shrinkAxisMask: 0,
          }),
        );
      }
    }
    return windows.length === 1 ? windows[0] : k.run('Concat', windows, { axis: 3 }); // [N, OH, OW, KH·KW·Ci]
  }
}

let installed = false;

/** Swaps webgpu's stock Conv2DBackpropFilter for the im2col form above. Idempotent. */
export function registerWebgpuConvGrad(): void {
  if (installed) return;
  const stock = tf.getKernel('Conv2DBackpropFilter', 'webgpu');
  if (stock === undefined) throw new Error('webgpu kernel Conv2DBackpropFilter is not registered');
  installed = true;
  registerWebgpuKernels({ [IM2COL]: im2col, [SUM_LEADING]: sumLeading });
  tf.unregisterKernel('Conv2DBackpropFilter', 'webgpu');
  tf.registerKernel({
    ...stock,
    kernelFunc: (args) => conv2dBackpropFilterIm2col(args as never, stock.kernelFunc),
  });
}
