import * as tf from '@tensorflow/tfjs';
import type { Conv2DBackpropFilterAttrs, KernelBackend, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';

/**
 * tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter kernel, so tf.grad through any
 * conv2d fails there. This registers one for 'wasm' built only from wasm kernels, so the
 * filter gradient runs at wasm speed and every op that differentiates conv2d (tf.conv2d,
 * tf.fused.conv2d) works unchanged:
 *
 *   dW[kh, kw, ci, co] = Σ_{n, oh, ow} x_pad[n, oh·s + kh, ow·s + kw, ci] · dy[n, oh, ow, co]
 *
 * The input is moved channel-first once, so each filter tap is one strided slice that is
 * already a row block of the transposed im2col matrix; one matrix product with dy then
 * gives every tap. wasm's BatchMatMul only reaches XNNPACK without transposes and with a
 * batch of 1, which this layout meets.
 */
type Run = (kernel: string, inputs: Record<string, TensorInfo> | TensorInfo[], attrs?: object) => TensorInfo;

function kernelRunner(backend: KernelBackend, temps: TensorInfo[]): Run {
  return (kernel, inputs, attrs = {}) => {
    const cfg = tf.getKernel(kernel, 'wasm');
    if (cfg === undefined) throw new Error(`wasm kernel ${kernel} is missing`);
    const out = cfg.kernelFunc({ inputs: inputs as never, backend, attrs: attrs as NamedAttrMap }) as TensorInfo;
    temps.push(out);
    return out;
  };
}

export function conv2dBackpropFilterWasm(args: {
  inputs: { x: TensorInfo; dy: TensorInfo };
  backend: KernelBackend;
  attrs: Conv2DBackpropFilterAttrs;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x, dy } = inputs;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
  if (dataFormat !== 'NHWC') throw new Error(`Conv2DBackpropFilter on wasm supports NHWC only, got ${dataFormat}`);
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
  const { batchSize: n, inChannels: ci, outChannels: co, outHeight: oh, outWidth: ow } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, padInfo } = info;

  const temps: TensorInfo[] = [];
  const run = kernelRunner(backend, temps);
  try {
    let xt = run('Transpose', { x }, { perm: [3, 0, 1, 2] }); // [Ci, N, H, W]
    if (padInfo.top + padInfo.bottom + padInfo.left + padInfo.right > 0) {
      xt = run('PadV2', { x: xt }, {
        paddings: [
          [0, 0],
          [0, 0],
          [padInfo.top, padInfo.bottom],
          [padInfo.left, padInfo.right],
        ],
        constantValue: 0,
      });
    }
    const taps: TensorInfo[] = [];
    for (let r = 0; r < kh; r++) {
      for (let c = 0; c < kw; c++) {
        taps.push(
          run('StridedSlice', { x: xt }, {
            begin: [0, 0, r, c],
            end: [ci, n, r + (oh - 1) * sh + 1, c + (ow - 1) * sw + 1],
            strides: [1, 1, sh, sw],
            beginMask: 0,
            endMask: 0,
            ellipsisMask: 0,
            newAxisMask: 0,
            shrinkAxisMask: 0,
          }),
        );
      }
    }
    // Rows ordered (kh, kw, ci): exactly the filter's layout once reshaped.
    const colsT = taps.length === 1 ? taps[0] : run('Concat', taps, { axis: 0 });
    const a = run('Reshape', { x: colsT }, { shape: [1, kh * kw * ci, n * oh * ow] });
    const b = run('Reshape', { x: dy }, { shape: [1, n * oh * ow, co] });
    const prod = run('BatchMatMul', { a, b }, { transposeA: false, transposeB: false });
    const out = run('Reshape', { x: prod }, { shape: [kh, kw, ci, co] });
    temps.pop(); // the result leaves with the caller
    return out;
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}

/** Idempotent; call before the first gradient on wasm. */
export function registerWasmTrainingKernels(): void {
  if (tf.getKernel('Conv2DBackpropFilter', 'wasm') !== undefined) return;
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    kernelFunc: conv2dBackpropFilterWasm as unknown as tf.KernelFunc,
  });
}
