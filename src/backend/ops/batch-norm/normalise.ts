import * as tf from '@tensorflow/tfjs';
import type { KernelBackend, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { defineOp, runKernel } from '../op.ts';
import { flatProgram } from '../webgpu-program.ts';
import type { KernelScope } from '../../kernel-scope.ts';
import { affine, invStdOf, read, rowsAndChannels as wasmRows, scoped } from './wasm-shared.ts';
import { channelOf, f32, i32, rowsAndChannels, run } from './webgpu-shared.ts';
import { activation, channels, positive, vector } from './check.ts';

/**
 * γ(x − μ)/√(σ² + ε) + β per channel, + a shortcut (ResNet's option A of He et al. 2016, §4.2,
 * read inside the kernel: the block input subsampled, x[:, ::stride, ::stride, :], with zero
 * channels appended up to the output's C; stride 1 and no extra channels is the identity
 * shortcut), then ReLU when `relu` is set.
 */
export const BN_NORMALISE = 'LabelLeakBnNormalise';

export interface NormaliseAttrs {
  epsilon: number;
  varianceOffset: number;
  relu: boolean;
  stride: number;
}

function webgpuNormalise(args: {
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

function wasmNormalise(args: {
  inputs: { x: TensorInfo; mean: TensorInfo; variance: TensorInfo; gamma: TensorInfo; beta: TensorInfo; shortcut?: TensorInfo };
  backend: KernelBackend;
  attrs?: NamedAttrMap;
}): TensorInfo {
  const { inputs, backend } = args;
  const { x, shortcut } = inputs;
  const a = args.attrs as unknown as NormaliseAttrs;
  const [, ch] = wasmRows(x.shape);
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

export interface NormaliseInputs {
  x: tf.Tensor4D;
  /** Means in [0, C). */
  mean: tf.Tensor1D;
  /** Variances in [varianceOffset, varianceOffset + C). */
  variance: tf.Tensor1D;
  gamma: tf.Tensor1D;
  beta: tf.Tensor1D;
  shortcut?: tf.Tensor4D;
}

type Normalise = (inputs: NormaliseInputs, attrs: NormaliseAttrs) => tf.Tensor4D;

/** x[:, ::stride, ::stride, :] with zero channels appended up to `channels`. */
export function shortcutOf(s: tf.Tensor4D, stride: number, channels: number): tf.Tensor4D {
  return tf.tidy(() => {
    // A 1×1 'valid' average pool with stride s is the subsample, with a gradient every backend has.
    const sub = stride === 1 ? s : tf.avgPool(s, 1, stride, 'valid');
    const extra = channels - s.shape[3];
    return extra > 0 ? tf.pad(sub, [[0, 0], [0, 0], [0, 0], [0, extra]]) : sub;
  });
}

export const normalise = defineOp<Normalise>({
  name: 'batch-norm normalise',
  reference: ({ x, mean, variance, gamma, beta, shortcut }, { epsilon, varianceOffset, relu, stride }) =>
    tf.tidy(() => {
      const c = x.shape[3];
      const invStd = tf.rsqrt(tf.add(tf.slice(variance, varianceOffset, c), epsilon));
      const scale = tf.mul(gamma, invStd);
      let y = tf.add(tf.mul(x, scale), tf.sub(beta, tf.mul(tf.slice(mean, 0, c), scale)));
      if (shortcut !== undefined) y = tf.add(y, shortcutOf(shortcut, stride, c));
      return (relu ? tf.relu(y) : y) as tf.Tensor4D;
    }),
  fused: (inputs, attrs) => runKernel(BN_NORMALISE, { ...inputs }, attrs),
  kernels: { webgpu: { [BN_NORMALISE]: webgpuNormalise }, wasm: { [BN_NORMALISE]: wasmNormalise } },
  check: {
    run: (rng, call) => {
      const c = channels(rng);
      const stride = 1 + rng.int(2);
      const x = activation(rng, c);
      const kind = rng.int(3); // none, identity, projection (fewer channels, stride)
      const sc = kind === 2 ? 1 + rng.int(c) : c;
      const st = kind === 2 ? stride : 1;
      const [n, h, w] = x.shape;
      const shortcut = kind === 0 ? undefined : activation(rng, sc, [n, kind === 2 ? h * st - rng.int(st) : h, kind === 2 ? w * st - rng.int(st) : w]);
      const fixed = rng.next() < 0.5;
      const stats = fixed ? { mean: vector(rng, c), variance: positive(rng, c), varianceOffset: 0 } : (() => { const s = tf.concat([vector(rng, c), positive(rng, c)]) as tf.Tensor1D; return { mean: s, variance: s, varianceOffset: c }; })();
      return [call({ x, mean: stats.mean, variance: stats.variance, gamma: vector(rng, c), beta: vector(rng, c), shortcut }, { epsilon: 1e-5, varianceOffset: stats.varianceOffset, relu: rng.next() < 0.5, stride: st })];
    },
    tolerance: 1e-5,
    why: 'the same formula with the per-channel coefficients in float64 (wasm) or a contracted multiply-add (webgpu): float32 rounding; a wrong channel, pixel or shortcut is off by order 1',
  },
});
