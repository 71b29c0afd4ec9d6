import * as tf from '@tensorflow/tfjs';
import type { KernelBackend, TensorInfo } from '@tensorflow/tfjs';
import { kernelScope, type KernelScope } from '../../kernel-scope.ts';

/**
 * What the wasm batch-norm kernels share (each kernel has the webgpu one's name, inputs,
 * attributes and outputs, so ../batch-norm.ts runs one path on both backends), except that the
 * training-mode gradients are one kernel (grads.ts) rather than two sums and ∂x. Built from tfjs's
 * ops, a training-mode layer was ~40 engine calls forward and backward, most of them on
 * [C]-sized tensors (Neg, Div, Rsqrt, Sub, scalar uploads), each recorded on the gradient
 * tape and counted by the engine; in a fastnet step with FGSM on every image (bench case
 * fastnet-fgsm-cifar) BatchNorm was ~600 of the step's 960 kernel calls.
 *
 * Here each kernel does its full-size passes with wasm's own SIMD kernels below the engine
 * (kernel-scope.ts): the per-channel affine map x·a + b (+ ReLU) as a 1×1 depthwise
 * convolution with bias, per-channel sums as a global average pool, ∂ReLU as Step·dy. What
 * is per channel (C values: means, 1/σ, the closed-form coefficients) is computed in float64
 * in JS from Float32Array views of the wasm heap. Plain JS loops over the full activations
 * were measured and lost by 10–100×: 128×32×32×16, one process, 2026-12-06, load 22–24,
 * median of 9: wasm's depthwise x·a + b + ReLU 0.59 ms and per-image average pool 0.24 ms;
 * JS loops 89 ms (x·a + b), 147 ms (+ ReLU, a data-dependent branch), 80 ms (per-channel
 * sum). In a bare Node script at load 10 the same loops took 10, 44 and 8 ms.
 *
 * The formulas are those of src/models/batch-norm.ts's cpu path (two-pass variance, the
 * closed-form ∂x); sums run in a different order (pooled per image, then over the batch in
 * float64), so results agree with cpu's to float32 rounding, not bit for bit
 * (test/property/ops.test.ts).
 */


/** BackendWasm's allocator and heap views; KernelBackend does not declare them. */
interface WasmBackendLike {
  makeOutput(shape: number[], dtype: 'float32', memoryOffset?: number, values?: Float32Array): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
}

const wasmOf = (backend: KernelBackend) => backend as unknown as WasmBackendLike;

/**
 * A copy of a (small) tensor's values. Views of the heap are detached when wasm's memory
 * grows, which any allocation may do, so values are copied out before the next kernel runs.
 */
export const read = (backend: KernelBackend, t: TensorInfo): Float64Array => Float64Array.from(wasmOf(backend).typedArrayFromHeap(t));

/** A new float32 tensor on the wasm heap holding `values`: the result of a kernel, owned by the engine. */
export const upload = (backend: KernelBackend, shape: number[], values: ArrayLike<number>): TensorInfo =>
  wasmOf(backend).makeOutput(shape, 'float32', undefined, Float32Array.from(values));

/** The same, freed with the scope `k` (a Reshape shares the data and holds the only reference). */
function temporary(k: KernelScope, backend: KernelBackend, shape: number[], values: ArrayLike<number>): TensorInfo {
  const t = upload(backend, shape, values);
  const held = k.run('Reshape', { x: t }, { shape });
  backend.disposeData(t.dataId);
  return held;
}

/** Rows N·H·W and channels C of an NHWC activation. */
export function rowsAndChannels(shape: number[]): [number, number] {
  const c = shape[shape.length - 1];
  return [tf.util.sizeFromShape(shape) / c, c];
}

/**
 * Σ over N, H and W per channel of an NHWC `x`, in float64: a global average pool per image
 * (wasm's XNNPACK pool), then the N·C means summed in JS and scaled by H·W.
 */
export function channelSums(k: KernelScope, backend: KernelBackend, x: TensorInfo): Float64Array {
  const [n, h, w, c] = x.shape;
  const pooled = k.run('AvgPool', { x }, { filterSize: [h, w], strides: [1, 1], pad: 'valid', dimRoundingMode: undefined }); // [N, 1, 1, C]
  const means = wasmOf(backend).typedArrayFromHeap(pooled);
  const sums = new Float64Array(c);
  for (let i = 0; i < n; i++) for (let j = 0; j < c; j++) sums[j] += means[i * c + j];
  for (let j = 0; j < c; j++) sums[j] *= h * w;
  return sums;
}

/** x·a + b per channel of an NHWC `x` (b null: no shift), then ReLU when `relu`: one SIMD pass. */
export function affine(k: KernelScope, backend: KernelBackend, x: TensorInfo, a: ArrayLike<number>, b: ArrayLike<number> | null, relu: boolean): TensorInfo {
  const c = x.shape[3];
  const filter = temporary(k, backend, [1, 1, c, 1], a);
  const bias = b === null ? undefined : temporary(k, backend, [c], b);
  return k.run('FusedDepthwiseConv2D', { x, filter, ...(bias ? { bias } : {}) }, {
    strides: [1, 1],
    pad: 'valid',
    dataFormat: 'NHWC',
    dilations: [1, 1],
    dimRoundingMode: undefined,
    activation: relu ? 'relu' : 'linear',
  });
}

/** ∂ through the ReLU that produced y: dy·step(y) (as tf.mul(dy, tf.step(y))); dy itself without ReLU. */
export function upstream(k: KernelScope, dy: TensorInfo, y: TensorInfo | undefined, relu: boolean): TensorInfo {
  if (!relu || y === undefined) return dy;
  return k.run('Multiply', { a: dy, b: k.run('Step', { x: y }, { alpha: 0 }) });
}

/** Runs `body` with a kernel scope that frees every intermediate; returns what `body` keeps. */
export function scoped(backend: KernelBackend, body: (k: KernelScope) => TensorInfo): TensorInfo {
  const k = kernelScope(backend, 'wasm');
  try {
    return k.keep(body(k));
  } finally {
    k.release();
  }
}

/** 1/√(σ² + ε) per channel, from `variance` at `offset`. */
export function invStdOf(backend: KernelBackend, variance: TensorInfo, offset: number, ch: number, epsilon: number): Float64Array {
  const v = read(backend, variance);
  return Float64Array.from({ length: ch }, (_, c) => 1 / Math.sqrt(v[offset + c] + epsilon));
}
