import * as tf from '@tensorflow/tfjs';
import type { KernelBackend, KernelFunc, MaxPoolGradAttrs, TensorInfo } from '@tensorflow/tfjs';
import { defineOp } from './op.ts';

/** BackendWasm's allocator and heap views; KernelBackend does not declare them. */
interface WasmBackendLike {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
}

/**
 * MaxPoolGrad for pools whose windows do not overlap (filter = stride, 'valid', no dilation:
 * fastnet's 2×2 pools; or one window per axis), as a JS loop over the wasm heap; other layouts keep the stock kernel.
 * Each window's gradient goes to its first maximum in row-major order, as tfjs's cpu kernel
 * does (ties included). wasm 4.22's MaxPoolGrad is a generic scalar loop: in a fastnet step
 * with FGSM on every image (bench case fastnet-fgsm-cifar, wasm, 1 thread, tf.profile,
 * 2026-12-06) its 6 calls took 324 ms of 1,776 (18%), 54 ms for a 128×32×32×32 input.
 */
function maxPoolGradTiled(stock: KernelFunc): KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args as unknown as {
      inputs: { dy: TensorInfo; input: TensorInfo };
      backend: KernelBackend;
      attrs: MaxPoolGradAttrs;
    };
    const { dy, input } = inputs;
    const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
    const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw, padInfo: p } = info;
    const { outHeight: oh, outWidth: ow } = info;
    // Windows that neither overlap nor reach into padding (one window per axis never overlaps).
    const tiles = (oh === 1 || fh === sh) && (ow === 1 || fw === sw) && p.top + p.left + p.bottom + p.right === 0;
    if (input.dtype !== 'float32' || !tiles) return stock(args);
    const wasm = backend as unknown as WasmBackendLike;
    const out = wasm.makeOutput(input.shape, 'float32');
    // Views after the allocation: growing the heap detaches earlier ones.
    const x = wasm.typedArrayFromHeap(input);
    const g = wasm.typedArrayFromHeap(dy);
    const dx = wasm.typedArrayFromHeap(out);
    const { batchSize: n, inHeight: h, inWidth: w, inChannels: c } = info;
    // Rows and columns past the last whole window get no gradient.
    if (oh * fh !== h || ow * fw !== w) dx.fill(0);
    const rowStride = w * c;
    if (fh === 2 && fw === 2 && sh === 2 && sw === 2) {
      pool2x2(x, g, dx, n, h, w, c, oh, ow);
      return out;
    }
    for (let b = 0; b < n; b++) {
      for (let r = 0; r < oh; r++) {
        for (let q = 0; q < ow; q++) {
          const base = ((b * h + r * sh) * w + q * sw) * c;
          const o = ((b * oh + r) * ow + q) * c;
          for (let ch = 0; ch < c; ch++) {
            const start = base + ch;
            let best = -1;
            let max = -Infinity;
            for (let i = 0; i < fh; i++) {
              for (let j = 0; j < fw; j++) {
                const at = start + i * rowStride + j * c;
                const v = x[at];
                dx[at] = 0;
                if (v > max) {
                  max = v;
                  best = at;
                }
              }
            }
            // A window of NaN or −∞ only has no maximum, and no gradient (as on cpu).
            if (best >= 0) dx[best] = g[o + ch];
          }
        }
      }
    }
    return out;
  };
}

/**
 * The 2×2, stride 2 case unrolled (fastnet's pools): 10–20% less time than the loop above
 * (128×32×32×32 in plain Node, 2026-12-06, load 29, two rounds: 120 and 100 ms against 134
 * and 127). Same rule: the first
 * of the window's maxima in row-major order, none when no value exceeds −∞.
 */
function pool2x2(x: Float32Array, g: Float32Array, dx: Float32Array, n: number, h: number, w: number, c: number, oh: number, ow: number): void {
  const rowStride = w * c;
  if (oh * 2 !== h || ow * 2 !== w) dx.fill(0);
  for (let b = 0; b < n; b++) {
    for (let r = 0; r < oh; r++) {
      for (let q = 0; q < ow; q++) {
        const base = ((b * h + r * 2) * w + q * 2) * c;
        const o = ((b * oh + r) * ow + q) * c;
        for (let ch = 0; ch < c; ch++) {
          const a0 = base + ch;
          const a1 = a0 + c;
          const a2 = a0 + rowStride;
          const a3 = a2 + c;
          const v0 = x[a0];
          const v1 = x[a1];
          const v2 = x[a2];
          const v3 = x[a3];
          dx[a0] = 0;
          dx[a1] = 0;
          dx[a2] = 0;
          dx[a3] = 0;
          let best = -1;
          let max = -Infinity;
          if (v0 > max) {
            max = v0;
            best = a0;
          }
          if (v1 > max) {
            max = v1;
            best = a1;
          }
          if (v2 > max) {
            max = v2;
            best = a2;
          }
          if (v3 > max) best = a3;
          if (best >= 0) dx[best] = g[o + ch];
        }
      }
    }
  }
}

type MaxPoolGrad = (x: tf.Tensor4D, dy: tf.Tensor4D, filter: number, stride: number) => tf.Tensor4D;

/** ∂/∂x of a 'valid' max pool given the output's gradient dy: tf.maxPool's gradient, which reaches the kernel below on wasm. */
export const maxPoolGrad = defineOp<MaxPoolGrad>({
  name: 'max-pool gradient',
  reference: (x, dy, filter, stride) => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(t as tf.Tensor4D, filter, stride, 'valid'), dy)))(x) as tf.Tensor4D,
  kernels: { wasm: { MaxPoolGrad: (args, stock) => maxPoolGradTiled(stock!)(args as never) as TensorInfo } },
  check: {
    // Tiled pools (the JS path) on pixels of a few levels, so windows hold ties: the gradient
    // goes to the first maximum in row-major order, as on cpu.
    run: (rng, call) => {
      const filter = 1 + rng.int(3);
      const [n, h, w, c] = [1 + rng.int(3), filter + rng.int(7), filter + rng.int(7), 1 + rng.int(5)];
      const levels = [2, 3, 1000][rng.int(3)];
      const x = tf.tensor4d(Float32Array.from({ length: n * h * w * c }, () => Math.floor(rng.next() * levels)), [n, h, w, c]);
      const [oh, ow] = [Math.floor((h - filter) / filter) + 1, Math.floor((w - filter) / filter) + 1];
      const dy = tf.tensor4d(Float32Array.from({ length: n * oh * ow * c }, () => rng.normal()), [n, oh, ow, c]);
      return [call(x, dy, filter, filter)];
    },
    tolerance: 0,
    why: 'it only moves dy\'s values: any difference is a wrong position',
  },
});
