import * as tf from '@tensorflow/tfjs';
import type { NamedAttrMap, NamedTensorMap, TensorInfo } from '@tensorflow/tfjs';
import { flatProgram, registerWebgpuKernels, runsHere, type FlatProgram, type Uniform, type WebgpuBackendLike } from './webgpu-program.ts';

/**
 * Batch normalisation (+ residual add, + ReLU) as a handful of webgpu kernels. Built from tfjs
 * ops it cost ~25–30 dispatches per layer per forward and backward (Mul/Add/Neg/Div/Sub/Rsqrt,
 * sums that transpose the whole activation first, and scalars such as 1/M and ε uploaded as
 * tensors); here a training-mode layer takes 1 statistics kernel, 1 normalise kernel and 2
 * moving-average kernels forward, and 2 sums + 1 ∂x kernel (+ 1 for a shortcut) backward.
 * Per-step scalars (ε, momentum, M) travel as uniforms, so nothing is uploaded as a tensor.
 *
 * Activations are NHWC, read as M = N·H·W rows of C channels. Per-channel sums give each
 * channel one workgroup whose threads stride over the rows and meet in workgroup memory: one
 * dispatch, no transpose. That leaves C workgroups (16–64 in ResNet-20) to read the whole
 * activation with a stride of C floats; the alternative (partial sums, then a second pass)
 * costs a second dispatch per sum, and host time per dispatch is what limits a step
 * (docs/gpu.md §6).
 *
 * The arithmetic follows src/models/batch-norm.ts (the cpu/wasm path) operation by operation;
 * only the order of the sums differs (tree in workgroup memory against tfjs's sequential loop).
 */
export const BN_STATS = 'LabelLeakBnStats';
export const BN_MOVING_AVERAGE = 'LabelLeakBnMovingAverage';
export const BN_NORMALISE = 'LabelLeakBnNormalise';
export const BN_GRAD_SUM = 'LabelLeakBnGradSum';
export const BN_GRAD_X = 'LabelLeakBnGradX';
export const BN_GRAD_SHORTCUT = 'LabelLeakBnGradShortcut';
/**
 * All three training-mode gradients [∂x, ∂γ, ∂β] in one kernel, for a backend that has it
 * (wasm: ∂ReLU is then formed once, not once per sum and again for ∂x). webgpu runs the two
 * sums and ∂x above: there each is one dispatch.
 */
export const BN_GRADS = 'LabelLeakBnGrads';

/** Per-channel statistics: mean in `mean[0..C)`, variance in `variance[varianceOffset..+C)`. */
export interface ChannelStats {
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
  /** C when both live in one [2C] tensor (the batch statistics), 0 for the moving averages. */
  varianceOffset: number;
}

/**
 * ResNet's shortcut (option A of He et al. 2016, §4.2) read inside the kernel: the block
 * input subsampled, x[:, ::stride, ::stride, :], with zero channels appended up to the
 * output's C; stride 1 and no extra channels is the identity shortcut.
 */
export interface FusedShortcut {
  x: tf.Tensor4D;
  stride: number;
}

const flat = (t: TensorInfo): TensorInfo => ({ ...t, shape: [tf.util.sizeFromShape(t.shape)] });
const run = (backend: unknown, program: FlatProgram, inputs: TensorInfo[], uniforms: Uniform[]): TensorInfo =>
  (backend as WebgpuBackendLike).runWebGPUProgram(program, inputs.map(flat), 'float32', uniforms);
const f32 = (v: number): Uniform => ({ type: 'float32', data: [v] });
const i32 = (v: number): Uniform => ({ type: 'int32', data: [v] });

/** Channels of an NHWC activation, and its rows N·H·W. */
function rowsAndChannels(shape: number[]): [number, number] {
  const c = shape[shape.length - 1];
  return [tf.util.sizeFromShape(shape) / c, c];
}

// tfjs's ReduceProgram makes the same choice: more threads only pay for long reductions.
const threadsFor = (rows: number) => (rows >= 4096 ? 256 : 64);

/**
 * One workgroup per channel, each writing `outputs` values per channel itself. `body` runs in
 * every thread with `c` (the channel) and `rows`, `ch` in scope, and may call
 * `channelTotal(v)`, which returns Σ v over the workgroup's threads to all of them (it holds
 * barriers, so every thread must call it the same number of times).
 */
function perChannelProgram(key: string, variableNames: string[], channels: number, outputs: number, rows: number, body: string, uniforms: string): FlatProgram {
  const threads = threadsFor(rows);
  return {
    variableNames,
    outputShape: [channels * outputs],
    shaderKey: `${key}_${threads}`,
    dispatchLayout: { x: [0] },
    dispatch: [channels, 1, 1],
    workgroupSize: [threads, 1, 1],
    size: true,
    uniforms: `rows : i32, ch : i32, ${uniforms}`,
    getUserCode: () => `
      var<workgroup> partial : array<f32, ${threads}>;

      fn channelTotal(v : f32) -> f32 {
        partial[localId.x] = v;
        workgroupBarrier();
        for (var stride = ${threads / 2}u; stride > 0u; stride = stride >> 1u) {
          if (localId.x < stride) {
            partial[localId.x] = partial[localId.x] + partial[localId.x + stride];
          }
          workgroupBarrier();
        }
        let total = partial[0];
        // Every thread has read the total before the next call overwrites it.
        workgroupBarrier();
        return total;
      }

      fn main(index : i32) {
        let c = i32(workgroupId.x);
        let rows = uniforms.rows;
        let ch = uniforms.ch;
        ${body}
      }`,
  };
}

/**
 * This thread's share of channel c's rows, with `i` the element's flat index; `rows` decides
 * the workgroup size as perChannelProgram does.
 */
function loop(rows: number, body: string): string {
  return `for (var m = i32(localId.x); m < rows; m = m + ${threadsFor(rows)}) {
          let i = m * ch + c;
          ${body}
        }`;
}

function statsKernel(args: { inputs: { x: TensorInfo }; backend: unknown }): TensorInfo {
  const { x } = args.inputs;
  const [rows, ch] = rowsAndChannels(x.shape);
  const program = perChannelProgram(
    'll_bn_stats',
    ['X'],
    ch,
    2,
    rows,
    // Two passes, as the cpu path: the variance of the centred values, not E[x²] − μ².
    `var s = 0.0;
        ${loop(rows, 's = s + X[i];')}
        let mean = channelTotal(s) / f32(rows);
        var q = 0.0;
        ${loop(rows, 'let d = X[i] - mean; q = q + d * d;')}
        let variance = channelTotal(q) / f32(rows);
        if (localId.x == 0u) {
          result[c] = mean;
          result[ch + c] = variance;
        }`,
    '',
  );
  return run(args.backend, program, [x], [i32(rows), i32(ch)]);
}

interface MovingAverageAttrs {
  momentum: number;
  offset: number;
}

function movingAverageKernel(args: { inputs: { moving: TensorInfo; stats: TensorInfo }; backend: unknown; attrs?: NamedAttrMap }): TensorInfo {
  const { moving, stats } = args.inputs;
  const { momentum, offset } = args.attrs as unknown as MovingAverageAttrs;
  const program = flatProgram(
    'll_bn_moving_average',
    ['MOVING', 'STATS'],
    moving.shape[0],
    'setOutputAtIndex(index, MOVING[index] * uniforms.momentum + STATS[uniforms.offset + index] * uniforms.rest);',
    'momentum : f32, rest : f32, offset : i32,',
  );
  return run(args.backend, program, [moving, stats], [f32(momentum), f32(1 - momentum), i32(offset)]);
}

interface NormaliseAttrs {
  epsilon: number;
  varianceOffset: number;
  relu: boolean;
  stride: number;
}

/** WGSL that sets `c` and the per-channel `invStd` of element `index` (inputs MEAN, VAR). */
const channelOf = `let c = index % uniforms.ch;
          let invStd = inverseSqrt(VAR[uniforms.varOffset + c] + uniforms.eps);`;

function normaliseKernel(args: {
  inputs: { x: TensorInfo; mean: TensorInfo; variance: TensorInfo; gamma: TensorInfo; beta: TensorInfo; shortcut?: TensorInfo };
  backend: unknown;
  attrs?: NamedAttrMap;
}): TensorInfo {
  const { x, mean, variance, gamma, beta, shortcut } = args.inputs;
  const a = args.attrs as unknown as NormaliseAttrs;
  const [, ch] = rowsAndChannels(x.shape);
  const [, outH, outW] = x.shape;
  const s = shortcut?.shape ?? [1, 1, 1, 1];
  // The shortcut's pixel (n, h·stride, w·stride); channels past its own C are the zeros of option A.
  const residual = `
          let pixel = index / uniforms.ch;
          let w = pixel % uniforms.outW;
          let h = (pixel / uniforms.outW) % uniforms.outH;
          let n = pixel / (uniforms.outW * uniforms.outH);
          if (c < uniforms.sC) {
            y = y + S[((n * uniforms.sH + h * uniforms.stride) * uniforms.sW + w * uniforms.stride) * uniforms.sC + c];
          }`;
  const program = flatProgram(
    `ll_bn_normalise_${shortcut ? 'res' : 'plain'}_${a.relu ? 'relu' : 'linear'}`,
    ['X', 'MEAN', 'VAR', 'GAMMA', 'BETA', ...(shortcut ? ['S'] : [])],
    tf.util.sizeFromShape(x.shape),
    `${channelOf}
          let scale = GAMMA[c] * invStd;
          var y = X[index] * scale + (BETA[c] - MEAN[c] * scale);
          ${shortcut ? residual : ''}
          ${a.relu ? 'y = max(y, 0.0);' : ''}
          setOutputAtIndex(index, y);`,
    'ch : i32, eps : f32, varOffset : i32, outH : i32, outW : i32, sH : i32, sW : i32, sC : i32, stride : i32,',
  );
  const out = run(args.backend, program, [x, mean, variance, gamma, beta, ...(shortcut ? [shortcut] : [])], [
    i32(ch), f32(a.epsilon), i32(a.varianceOffset), i32(outH), i32(outW), i32(s[1]), i32(s[2]), i32(s[3]), i32(a.stride),
  ]);
  return { ...out, shape: x.shape };
}

/** ∂ through the ReLU that produced Y: dy·step(y), as tf.mul(dy, tf.step(y)) computes it. */
const upstream = (relu: boolean) => (relu ? 'DY[i] * select(0.0, 1.0, Y[i] > 0.0)' : 'DY[i]');

interface GradSumAttrs {
  epsilon: number;
  relu: boolean;
  /** 'beta': Σ gy; 'gamma': Σ gy·x̂. */
  of: 'beta' | 'gamma';
}

function gradSumKernel(args: { inputs: { dy: TensorInfo; y?: TensorInfo; x?: TensorInfo; stats?: TensorInfo }; backend: unknown; attrs?: NamedAttrMap }): TensorInfo {
  const { dy, y, x, stats } = args.inputs;
  const a = args.attrs as unknown as GradSumAttrs;
  const [rows, ch] = rowsAndChannels(dy.shape);
  const term = a.of === 'beta' ? 'gy' : 'gy * ((X[i] - mean) * invStd)';
  const program = perChannelProgram(
    `ll_bn_grad_sum_${a.of}_${a.relu ? 'relu' : 'linear'}`,
    ['DY', ...(a.relu ? ['Y'] : []), ...(a.of === 'gamma' ? ['X', 'STATS'] : [])],
    ch,
    1,
    rows,
    `${a.of === 'gamma' ? 'let mean = STATS[c];\n        let invStd = inverseSqrt(STATS[ch + c] + uniforms.eps);' : ''}
        var s = 0.0;
        ${loop(rows, `let gy = ${upstream(a.relu)}; s = s + ${term};`)}
        let total = channelTotal(s);
        if (localId.x == 0u) {
          result[c] = total;
        }`,
    'eps : f32,',
  );
  // WebGPU drops bindings a shader does not read, so only the inputs it reads are bound.
  const inputs = [dy, ...(a.relu && y ? [y] : []), ...(a.of === 'gamma' && x && stats ? [x, stats] : [])];
  return run(args.backend, program, inputs, [i32(rows), i32(ch), f32(a.epsilon)]);
}

interface GradXAttrs {
  epsilon: number;
  relu: boolean;
  varianceOffset: number;
}

/**
 * ∂x. With batch statistics (`stats` the [2C] of batchStats, and x, dGamma, dBeta given):
 * γ/σ·(gy − ∂β/M − x̂·∂γ/M); with fixed (moving) statistics (`stats` the variance): γ/σ·gy.
 * The batch form binds 8 storage buffers with ReLU, WebGPU's default per-shader limit; that is
 * why mean and variance come as one tensor.
 */
function gradXKernel(args: {
  inputs: { dy: TensorInfo; y?: TensorInfo; stats: TensorInfo; gamma: TensorInfo; x?: TensorInfo; dGamma?: TensorInfo; dBeta?: TensorInfo };
  backend: unknown;
  attrs?: NamedAttrMap;
}): TensorInfo {
  const { dy, y, stats, gamma, x, dGamma, dBeta } = args.inputs;
  const a = args.attrs as unknown as GradXAttrs;
  const [rows, ch] = rowsAndChannels(dy.shape);
  const batchInputs = x !== undefined && dGamma !== undefined && dBeta !== undefined ? [x, dGamma, dBeta] : [];
  const batch = batchInputs.length > 0;
  const program = flatProgram(
    `ll_bn_grad_x_${batch ? 'batch' : 'fixed'}_${a.relu ? 'relu' : 'linear'}`,
    ['DY', ...(a.relu ? ['Y'] : []), 'VAR', 'GAMMA', ...(batch ? ['X', 'DGAMMA', 'DBETA'] : [])],
    tf.util.sizeFromShape(dy.shape),
    `let i = index;
          ${channelOf}
          let gy = ${upstream(a.relu)};
          let scale = GAMMA[c] * invStd;
          ${
            batch
              ? `let xHat = (X[i] - VAR[c]) * invStd;
          let m = f32(uniforms.rows);
          setOutputAtIndex(index, scale * (gy - DBETA[c] / m - xHat * (DGAMMA[c] / m)));`
              : 'setOutputAtIndex(index, gy * scale);'
          }`,
    'ch : i32, eps : f32, varOffset : i32, rows : i32,',
  );
  const inputs = [dy, ...(a.relu && y ? [y] : []), stats, gamma, ...batchInputs];
  const out = run(args.backend, program, inputs, [i32(ch), f32(a.epsilon), i32(a.varianceOffset), i32(rows)]);
  return { ...out, shape: dy.shape };
}

interface GradShortcutAttrs {
  relu: boolean;
  stride: number;
  /** The shortcut input's shape [N, H, W, C]. */
  shape: number[];
}

/**
 * The shortcut input's gradient: gy at the pixels the stride kept, 0 elsewhere, and only the
 * channels the input has (the appended zero channels have no source).
 */
function gradShortcutKernel(args: { inputs: { dy: TensorInfo; y?: TensorInfo }; backend: unknown; attrs?: NamedAttrMap }): TensorInfo {
  const { dy, y } = args.inputs;
  const a = args.attrs as unknown as GradShortcutAttrs;
  const [, outH, outW, ch] = dy.shape;
  const [, sH, sW, sC] = a.shape;
  const program = flatProgram(
    `ll_bn_grad_shortcut_${a.relu ? 'relu' : 'linear'}`,
    ['DY', ...(a.relu ? ['Y'] : [])],
    tf.util.sizeFromShape(a.shape),
    `let c = index % uniforms.sC;
          let pixel = index / uniforms.sC;
          let w = pixel % uniforms.sW;
          let h = (pixel / uniforms.sW) % uniforms.sH;
          let n = pixel / (uniforms.sW * uniforms.sH);
          var g = 0.0;
          if (h % uniforms.stride == 0 && w % uniforms.stride == 0) {
            let i = ((n * uniforms.outH + h / uniforms.stride) * uniforms.outW + w / uniforms.stride) * uniforms.ch + c;
            g = ${upstream(a.relu)};
          }
          setOutputAtIndex(index, g);`,
    'outH : i32, outW : i32, ch : i32, sH : i32, sW : i32, sC : i32, stride : i32,',
  );
  const out = run(args.backend, program, [dy, ...(a.relu && y ? [y] : [])], [outH, outW, ch, sH, sW, sC, a.stride].map(i32));
  return { ...out, shape: a.shape };
}

/** Registers the kernels for webgpu (other backends keep tfjs's ops). Idempotent. */
export function registerWebgpuBatchNormKernels(): void {
  registerWebgpuKernels({
    [BN_STATS]: statsKernel,
    [BN_MOVING_AVERAGE]: movingAverageKernel,
    [BN_NORMALISE]: normaliseKernel,
    [BN_GRAD_SUM]: gradSumKernel,
    [BN_GRAD_X]: gradXKernel,
    [BN_GRAD_SHORTCUT]: gradShortcutKernel,
  });
}

/** Whether the active backend runs batch norm as fused kernels: these on webgpu, wasm-batch-norm.ts's (same names) on wasm. */
export function fusedBatchNormAvailable(): boolean {
  return runsHere(BN_NORMALISE);
}

const kernel = <T extends tf.Tensor>(name: string, inputs: Record<string, tf.Tensor | undefined>, attrs: object): T => {
  const given = Object.fromEntries(Object.entries(inputs).filter(([, t]) => t !== undefined)) as NamedTensorMap;
  return tf.engine().runKernel(name, given, attrs as unknown as NamedAttrMap) as T;
};

/** The batch's per-channel mean and biased variance, as one [2C] tensor (mean first). */
export function batchStats(x: tf.Tensor4D): ChannelStats {
  const stats = kernel<tf.Tensor1D>(BN_STATS, { x }, {});
  return { mean: stats, variance: stats, varianceOffset: x.shape[3] };
}

/** moving·momentum + batch·(1 − momentum), for the mean or the variance of `stats`. */
export function movingAverage(moving: tf.Tensor1D, stats: ChannelStats, of: 'mean' | 'variance', momentum: number): tf.Tensor1D {
  const attrs: MovingAverageAttrs = of === 'mean' ? { momentum, offset: 0 } : { momentum, offset: stats.varianceOffset };
  return kernel(BN_MOVING_AVERAGE, { moving, stats: of === 'mean' ? stats.mean : stats.variance }, attrs);
}

/** γ(x − μ)/√(σ² + ε) + β per channel, + the shortcut, then ReLU when `relu` is set. */
export function normalise(
  x: tf.Tensor4D,
  stats: ChannelStats,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  epsilon: number,
  relu: boolean,
  shortcut?: FusedShortcut,
): tf.Tensor4D {
  if (shortcut !== undefined) checkShortcut(x.shape, shortcut.x.shape, shortcut.stride);
  const attrs: NormaliseAttrs = { epsilon, varianceOffset: stats.varianceOffset, relu, stride: shortcut?.stride ?? 1 };
  return kernel(BN_NORMALISE, { x, mean: stats.mean, variance: stats.variance, gamma, beta, shortcut: shortcut?.x }, attrs);
}

/**
 * The gradients of a training-mode `normalise` (batch statistics) given the upstream `dy` and
 * its output `y` (needed only when `relu`): [∂x, ∂γ, ∂β].
 */
export function normaliseGrads(dy: tf.Tensor4D, y: tf.Tensor4D | undefined, x: tf.Tensor4D, stats: ChannelStats, gamma: tf.Tensor1D, epsilon: number, relu: boolean): [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D] {
  if (stats.varianceOffset !== x.shape[3] || stats.mean !== stats.variance) throw new Error('normaliseGrads: needs the batch statistics of batchStats()');
  if (runsHere(BN_GRADS)) {
    const given = Object.fromEntries(Object.entries({ dy, y: relu ? y : undefined, x, stats: stats.mean, gamma }).filter(([, t]) => t !== undefined)) as NamedTensorMap;
    const [dx, dGamma, dBeta] = tf.engine().runKernel(BN_GRADS, given, { epsilon, relu } as unknown as NamedAttrMap) as tf.Tensor[];
    return [dx as tf.Tensor4D, dGamma as tf.Tensor1D, dBeta as tf.Tensor1D];
  }
  const sum = (of: GradSumAttrs['of']) => kernel<tf.Tensor1D>(BN_GRAD_SUM, { dy, y: relu ? y : undefined, x, stats: stats.mean }, { epsilon, relu, of });
  const dGamma = sum('gamma');
  const dBeta = sum('beta');
  const attrs: GradXAttrs = { epsilon, relu, varianceOffset: stats.varianceOffset };
  const dx = kernel<tf.Tensor4D>(BN_GRAD_X, { dy, y: relu ? y : undefined, stats: stats.mean, gamma, x, dGamma, dBeta }, attrs);
  return [dx, dGamma, dBeta];
}

/** ∂x of an inference-mode `normalise` (fixed statistics): γ/σ̄·gy. */
export function normaliseGradXFixed(dy: tf.Tensor4D, y: tf.Tensor4D | undefined, stats: ChannelStats, gamma: tf.Tensor1D, epsilon: number, relu: boolean): tf.Tensor4D {
  const attrs: GradXAttrs = { epsilon, relu, varianceOffset: stats.varianceOffset };
  return kernel(BN_GRAD_X, { dy, y: relu ? y : undefined, stats: stats.variance, gamma }, attrs);
}

/** ∂ of the shortcut input (shape `shape`) of a `normalise` with a shortcut. */
export function shortcutGrad(dy: tf.Tensor4D, y: tf.Tensor4D | undefined, relu: boolean, stride: number, shape: number[]): tf.Tensor4D {
  const attrs: GradShortcutAttrs = { relu, stride, shape };
  return kernel(BN_GRAD_SHORTCUT, { dy, y: relu ? y : undefined }, attrs);
}

function checkShortcut(out: number[], s: number[], stride: number): void {
  const [n, h, w, c] = out;
  if (s[0] !== n || Math.ceil(s[1] / stride) !== h || Math.ceil(s[2] / stride) !== w || s[3] > c) {
    throw new Error(`batch norm shortcut: input [${s}] with stride ${stride} does not fit the output [${out}]`);
  }
}
