import * as tf from '@tensorflow/tfjs';
import type { KernelBackend, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { kernelScope, type KernelScope } from './kernel-scope.ts';
import { BN_GRAD_SHORTCUT, BN_GRAD_X, BN_GRADS, BN_MOVING_AVERAGE, BN_NORMALISE, BN_STATS } from './webgpu-batch-norm.ts';

/**
 * The batch-norm kernels of webgpu-batch-norm.ts (same names, inputs, attributes and outputs,
 * so src/models/batch-norm.ts runs one path on both backends) for wasm, except that the
 * training-mode gradients are one kernel (BN_GRADS) rather than two sums and ∂x. Built from tfjs's
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
 * (test/property/backend-wasm-batch-norm.test.ts).
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
const read = (backend: KernelBackend, t: TensorInfo): Float64Array => Float64Array.from(wasmOf(backend).typedArrayFromHeap(t));

/** A new float32 tensor on the wasm heap holding `values`: the result of a kernel, owned by the engine. */
const upload = (backend: KernelBackend, shape: number[], values: ArrayLike<number>): TensorInfo =>
  wasmOf(backend).makeOutput(shape, 'float32', undefined, Float32Array.from(values));

/** The same, freed with the scope `k` (a Reshape shares the data and holds the only reference). */
function temporary(k: KernelScope, backend: KernelBackend, shape: number[], values: ArrayLike<number>): TensorInfo {
  const t = upload(backend, shape, values);
  const held = k.run('Reshape', { x: t }, { shape });
  backend.disposeData(t.dataId);
  return held;
}

/** Rows N·H·W and channels C of an NHWC activation. */
function rowsAndChannels(shape: number[]): [number, number] {
  const c = shape[shape.length - 1];
  return [tf.util.sizeFromShape(shape) / c, c];
}

/**
 * Σ over N, H and W per channel of an NHWC `x`, in float64: a global average pool per image
 * (wasm's XNNPACK pool), then the N·C means summed in JS and scaled by H·W.
 */
function channelSums(k: KernelScope, backend: KernelBackend, x: TensorInfo): Float64Array {
  const [n, h, w, c] = x.shape;
  const pooled = k.run('AvgPool', { x }, { filterSize: [h, w], strides: [1, 1], pad: 'valid', dimRoundingMode: undefined }); // [N, 1, 1, C]
  const means = wasmOf(backend).typedArrayFromHeap(pooled);
  const sums = new Float64Array(c);
  for (let i = 0; i < n; i++) for (let j = 0; j < c; j++) sums[j] += means[i * c + j];
  for (let j = 0; j < c; j++) sums[j] *= h * w;
  return sums;
}

/** x·a + b per channel of an NHWC `x` (b null: no shift), then ReLU when `relu`: one SIMD pass. */
function affine(k: KernelScope, backend: KernelBackend, x: TensorInfo, a: ArrayLike<number>, b: ArrayLike<number> | null, relu: boolean): TensorInfo {
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
function upstream(k: KernelScope, dy: TensorInfo, y: TensorInfo | undefined, relu: boolean): TensorInfo {
  if (!relu || y === undefined) return dy;
  return k.run('Multiply', { a: dy, b: k.run('Step', { x: y }, { alpha: 0 }) });
}

/** Runs `body` with a kernel scope that frees every intermediate; returns what `body` keeps. */
function scoped(backend: KernelBackend, body: (k: KernelScope) => TensorInfo): TensorInfo {
  const k = kernelScope(backend, 'wasm');
  try {
    return k.keep(body(k));
  } finally {
    k.release();
  }
}

function statsKernel(args: { inputs: { x: TensorInfo }; backend: KernelBackend }): TensorInfo {
  const { inputs, backend } = args;
  const { x } = inputs;
  const [rows, ch] = rowsAndChannels(x.shape);
  const k = kernelScope(backend, 'wasm');
  try {
    const mean = channelSums(k, backend, x).map((s) => s / rows);
    // Two passes, as the cpu path: the variance of the centred values, not E[x²] − μ².
    const centred = affine(k, backend, x, new Float64Array(ch).fill(1), mean.map((m) => -m), false);
    const squares = k.run('Square', { x: centred });
    const variance = channelSums(k, backend, squares).map((s) => s / rows);
    const out = new Float64Array(2 * ch);
    out.set(mean, 0);
    out.set(variance, ch);
    return upload(backend, [2 * ch], out);
  } finally {
    k.release();
  }
}

function movingAverageKernel(args: { inputs: { moving: TensorInfo; stats: TensorInfo }; backend: KernelBackend; attrs?: NamedAttrMap }): TensorInfo {
  const { inputs, backend } = args;
  const { momentum, offset } = args.attrs as unknown as { momentum: number; offset: number };
  const moving = read(backend, inputs.moving);
  const stats = read(backend, inputs.stats);
  // Float32 arithmetic in the cpu path's order: moving·momentum + stat·(1 − momentum).
  const f = Math.fround;
  const rest = f(1 - momentum);
  return upload(backend, [moving.length], moving.map((m, c) => f(f(m * f(momentum)) + f(stats[offset + c] * rest))));
}

interface NormaliseAttrs {
  epsilon: number;
  varianceOffset: number;
  relu: boolean;
  stride: number;
}

/** 1/√(σ² + ε) per channel, from `variance` at `offset`. */
function invStdOf(backend: KernelBackend, variance: TensorInfo, offset: number, ch: number, epsilon: number): Float64Array {
  const v = read(backend, variance);
  return Float64Array.from({ length: ch }, (_, c) => 1 / Math.sqrt(v[offset + c] + epsilon));
}

function normaliseKernel(args: {
  inputs: { x: TensorInfo; mean: TensorInfo; variance: TensorInfo; gamma: TensorInfo; beta: TensorInfo; shortcut?: TensorInfo };
  backend: KernelBackend;
  attrs?: NamedAttrMap;
}): TensorInfo {
  const { inputs, backend } = args;
  const { x, shortcut } = inputs;
  const a = args.attrs as unknown as NormaliseAttrs;
  const [, ch] = rowsAndChannels(x.shape);
  const invStd = invStdOf(backend, inputs.variance, a.varianceOffset, ch, a.epsilon);
  const mean = read(backend, inputs.mean);
  const gamma = read(backend, inputs.gamma);
  const beta = read(backend, inputs.beta);
  const scale = invStd.map((s, c) => gamma[c] * s);
  const shift = scale.map((s, c) => beta[c] - mean[c] * s);
  return scoped(backend, (k) => {
    if (shortcut === undefined) return affine(k, backend, x, scale, shift, a.relu);
    const y = affine(k, backend, x, scale, shift, false);
    const sum = k.run('Add', { a: y, b: projected(k, shortcut, a.stride, x.shape[3]) });
    return a.relu ? k.run('Relu', { x: sum }) : sum;
  });
}

/**
 * The shortcut as the output sees it: x[:, ::stride, ::stride, :] with zero channels appended
 * up to `channels` (ResNet's option A). The 1×1 'valid' average pool is the strided subsample
 * batch-norm.ts's unfused path uses.
 */
function projected(k: KernelScope, s: TensorInfo, stride: number, channels: number): TensorInfo {
  const sub = stride === 1 ? s : k.run('AvgPool', { x: s }, { filterSize: [1, 1], strides: [stride, stride], pad: 'valid', dimRoundingMode: undefined });
  const extra = channels - s.shape[3];
  return extra > 0 ? k.run('PadV2', { x: sub }, { paddings: [[0, 0], [0, 0], [0, 0], [0, extra]], constantValue: 0 }) : sub;
}

/**
 * The training-mode gradients [∂x, ∂γ, ∂β] of `normalise` with the batch statistics `stats`
 * ([2C]: mean, then variance), given the upstream dy (and y, for the ReLU). gy = ∂ReLU·dy is
 * formed once; then ∂β = Σ gy, ∂γ = Σ gy·x̂ = (Σ gy·x − μ·Σ gy)/σ, and
 * ∂x = γ/σ·(gy − ∂β/M − x̂·∂γ/M), rearranged per channel into a·gy + b·x + k: eight
 * full-size passes with ReLU, where the three separate kernels (and tfjs's ops before them)
 * took thirteen and nine.
 */
function gradsKernel(args: {
  inputs: { dy: TensorInfo; y?: TensorInfo; x: TensorInfo; stats: TensorInfo; gamma: TensorInfo };
  backend: KernelBackend;
  attrs?: NamedAttrMap;
}): TensorInfo[] {
  const { inputs, backend } = args;
  const { dy, y, x } = inputs;
  const { epsilon, relu } = args.attrs as unknown as { epsilon: number; relu: boolean };
  const [rows, ch] = rowsAndChannels(dy.shape);
  const s = read(backend, inputs.stats);
  const invStd = invStdOf(backend, inputs.stats, ch, ch, epsilon);
  const gamma = read(backend, inputs.gamma);
  const k = kernelScope(backend, 'wasm');
  try {
    const gy = upstream(k, dy, y, relu);
    const dBeta = channelSums(k, backend, gy);
    const sumGyX = channelSums(k, backend, k.run('Multiply', { a: gy, b: x }));
    const dGamma = Float64Array.from({ length: ch }, (_, c) => (sumGyX[c] - s[c] * dBeta[c]) * invStd[c]);
    const a = invStd.map((is, c) => gamma[c] * is);
    // a·x̂·∂γ/M = b'·x − b'·μ with b' = a·∂γ/(σ·M).
    const b = a.map((ac, c) => (-ac * dGamma[c] * invStd[c]) / rows);
    const shift = a.map((ac, c) => (-ac * dBeta[c]) / rows - b[c] * s[c]);
    const dx = k.keep(k.run('Add', { a: affine(k, backend, gy, a, shift, false), b: affine(k, backend, x, b, null, false) }));
    return [dx, upload(backend, [ch], dGamma), upload(backend, [ch], dBeta)];
  } finally {
    k.release();
  }
}

/** ∂x of an inference-mode `normalise` (fixed statistics `stats`, the variance): γ/σ̄·gy. */
function gradXKernel(args: {
  inputs: { dy: TensorInfo; y?: TensorInfo; stats: TensorInfo; gamma: TensorInfo; x?: TensorInfo };
  backend: KernelBackend;
  attrs?: NamedAttrMap;
}): TensorInfo {
  const { inputs, backend } = args;
  const { dy, y, stats } = inputs;
  const at = args.attrs as unknown as { epsilon: number; relu: boolean; varianceOffset: number };
  // The batch form goes through BN_GRADS on wasm (normaliseGrads); only the fixed form comes here.
  if (inputs.x !== undefined) throw new Error(`${BN_GRAD_X} on wasm: the batch-statistics gradient is ${BN_GRADS}`);
  const ch = dy.shape[3];
  const invStd = invStdOf(backend, stats, at.varianceOffset, ch, at.epsilon);
  const gamma = read(backend, inputs.gamma);
  return scoped(backend, (k) => affine(k, backend, upstream(k, dy, y, at.relu), invStd.map((s, c) => gamma[c] * s), null, false));
}

interface GradShortcutAttrs {
  relu: boolean;
  stride: number;
  shape: number[];
}

/**
 * The shortcut input's gradient: gy at the pixels the stride kept, 0 elsewhere, on the input's
 * own channels. Spread by the reshape-and-pad of wasm-conv-grad.ts's dilation, then cropped.
 */
function gradShortcutKernel(args: { inputs: { dy: TensorInfo; y?: TensorInfo }; backend: KernelBackend; attrs?: NamedAttrMap }): TensorInfo {
  const { inputs, backend } = args;
  const a = args.attrs as unknown as GradShortcutAttrs;
  const [n, oh, ow, ch] = inputs.dy.shape;
  const [, sh, sw, sc] = a.shape;
  const st = a.stride;
  return scoped(backend, (k) => {
    let g = upstream(k, inputs.dy, inputs.y, a.relu);
    if (sc < ch) g = k.run('Slice', { x: g }, { begin: [0, 0, 0, 0], size: [n, oh, ow, sc] });
    if (st === 1) return g === inputs.dy ? k.run('Identity', { x: g }) : g;
    const rows = k.run('Reshape', { x: g }, { shape: [n * oh, 1, ow, sc] });
    const spread = k.run('PadV2', { x: rows }, { paddings: [[0, 0], [0, st - 1], [0, 0], [0, (st - 1) * sc]], constantValue: 0 });
    const full = k.run('Reshape', { x: spread }, { shape: [n, oh * st, ow * st, sc] });
    if (oh * st === sh && ow * st === sw) return full;
    return k.run('Slice', { x: full }, { begin: [0, 0, 0, 0], size: [n, sh, sw, sc] });
  });
}

/** Registers the kernels for wasm (cpu keeps tfjs's ops). Idempotent. */
export function registerWasmBatchNormKernels(): void {
  const kernels: Record<string, unknown> = {
    [BN_STATS]: statsKernel,
    [BN_MOVING_AVERAGE]: movingAverageKernel,
    [BN_NORMALISE]: normaliseKernel,
    [BN_GRADS]: gradsKernel,
    [BN_GRAD_X]: gradXKernel,
    [BN_GRAD_SHORTCUT]: gradShortcutKernel,
  };
  for (const [kernelName, kernelFunc] of Object.entries(kernels)) {
    if (tf.getKernel(kernelName, 'wasm') === undefined) {
      tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: kernelFunc as KernelFunc });
    }
  }
}
