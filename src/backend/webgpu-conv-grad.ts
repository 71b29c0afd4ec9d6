import * as tf from '@tensorflow/tfjs';
import type { Conv2DBackpropFilterAttrs, KernelBackend, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { nhwcConvInfo } from './conv-info.ts';
import { kernelScope } from './kernel-scope.ts';

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
    const patches = windows.length === 1 ? windows[0] : k.run('Concat', windows, { axis: 3 }); // [N, OH, OW, KH·KW·Ci]
    const a = k.run('Reshape', { x: patches }, { shape: [n, oh * ow, kh * kw * ci] });
    const b = k.run('Reshape', { x: dy }, { shape: [n, oh * ow, co] });
    const perImage = k.run('BatchMatMul', { a, b }, { transposeA: true, transposeB: false }); // [N, KH·KW·Ci, Co]
    const summed = k.run('Sum', { x: perImage }, { axis: [0], keepDims: false });
    return k.keep(k.run('Reshape', { x: summed }, { shape: [kh, kw, ci, co] }));
  } finally {
    k.release();
  }
}

let installed = false;

/** Swaps webgpu's stock Conv2DBackpropFilter for the im2col form above. Idempotent. */
export function registerWebgpuTrainingKernels(): void {
  if (installed) return;
  const stock = tf.getKernel('Conv2DBackpropFilter', 'webgpu');
  if (stock === undefined) throw new Error('webgpu kernel Conv2DBackpropFilter is not registered');
  installed = true;
  tf.unregisterKernel('Conv2DBackpropFilter', 'webgpu');
  tf.registerKernel({
    ...stock,
    kernelFunc: (args) => conv2dBackpropFilterIm2col(args as never, stock.kernelFunc),
  });
}
