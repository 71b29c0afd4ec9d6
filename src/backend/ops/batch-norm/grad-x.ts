import * as tf from '@tensorflow/tfjs';
import type { KernelBackend, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { defineOp, runKernel } from '../op.ts';
import { flatProgram } from '../webgpu-program.ts';
import { affine, invStdOf, read, scoped, upstream as wasmUpstream } from './wasm-shared.ts';
import { channelOf, f32, i32, rowsAndChannels, run, upstream } from './webgpu-shared.ts';
import { throughRelu } from './grad-sum.ts';
import { activation, channels, positive, vector } from './check.ts';

/** ∂x of a batch norm: with batch statistics (x, ∂γ, ∂β given) or fixed (moving) ones. */
export const BN_GRAD_X = 'LabelLeakBnGradX';

export interface GradXAttrs {
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
function webgpuGradX(args: {
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

/** ∂x of an inference-mode `normalise` (fixed statistics `stats`, the variance): γ/σ̄·gy. */
function wasmGradX(args: {
  inputs: { dy: TensorInfo; y?: TensorInfo; stats: TensorInfo; gamma: TensorInfo; x?: TensorInfo };
  backend: KernelBackend;
  attrs?: NamedAttrMap;
}): TensorInfo {
  const { inputs, backend } = args;
  const { dy, y, stats } = inputs;
  const at = args.attrs as unknown as { epsilon: number; relu: boolean; varianceOffset: number };
  // The batch form goes through grads.ts's kernel on wasm; only the fixed form comes here.
  if (inputs.x !== undefined) throw new Error(`${BN_GRAD_X} on wasm: the batch-statistics gradient is grads.ts's kernel`);
  const ch = dy.shape[3];
  const invStd = invStdOf(backend, stats, at.varianceOffset, ch, at.epsilon);
  const gamma = read(backend, inputs.gamma);
  return scoped(backend, (k) => affine(k, backend, wasmUpstream(k, dy, y, at.relu), invStd.map((s, c) => gamma[c] * s), null, false));
}

export interface GradXInputs {
  dy: tf.Tensor4D;
  /** The output the ReLU produced (read only when `relu`). */
  y?: tf.Tensor4D;
  /** Batch statistics [2C] (mean, variance), or the moving variance [C]. */
  stats: tf.Tensor1D;
  gamma: tf.Tensor1D;
  /** With batch statistics: the input and the sums of grad-sum.ts. */
  x?: tf.Tensor4D;
  dGamma?: tf.Tensor1D;
  dBeta?: tf.Tensor1D;
}

type GradX = (inputs: GradXInputs, attrs: GradXAttrs) => tf.Tensor4D;

export const gradX = defineOp<GradX>({
  name: 'batch-norm ∂x',
  reference: ({ dy, y, stats, gamma, x, dGamma, dBeta }, { epsilon, relu, varianceOffset }) =>
    tf.tidy(() => {
      const c = dy.shape[3];
      const gy = throughRelu(dy, y, relu);
      const invStd = tf.rsqrt(tf.add(tf.slice(stats, varianceOffset, c), epsilon));
      const scale = tf.mul(gamma, invStd);
      if (x === undefined || dGamma === undefined || dBeta === undefined) return tf.mul(gy, scale) as tf.Tensor4D;
      const m = dy.size / c;
      const xHat = tf.mul(tf.sub(x, tf.slice(stats, 0, c)), invStd);
      return tf.mul(scale, tf.sub(tf.sub(gy, tf.div(dBeta, m)), tf.mul(xHat, tf.div(dGamma, m)))) as tf.Tensor4D;
    }),
  fused: ({ dy, y, stats, gamma, x, dGamma, dBeta }, attrs) => runKernel(BN_GRAD_X, { dy, y: attrs.relu ? y : undefined, stats, gamma, x, dGamma, dBeta }, attrs),
  kernels: { webgpu: { [BN_GRAD_X]: webgpuGradX }, wasm: { [BN_GRAD_X]: wasmGradX } },
  check: {
    // The fixed form on every backend; the batch form where it has a kernel (webgpu: wasm runs grads.ts instead).
    run: (rng, call, backend) => {
      const c = channels(rng);
      const dy = activation(rng, c);
      const inputs = { dy, y: activation(rng, c, dy.shape), gamma: vector(rng, c) };
      const relu = rng.next() < 0.5;
      if (backend === 'wasm' || rng.next() < 0.5) return [call({ ...inputs, stats: positive(rng, c) }, { epsilon: 1e-5, relu, varianceOffset: 0 })];
      const stats = tf.concat([vector(rng, c), positive(rng, c)]) as tf.Tensor1D;
      return [call({ ...inputs, stats, x: activation(rng, c, dy.shape), dGamma: vector(rng, c), dBeta: vector(rng, c) }, { epsilon: 1e-5, relu, varianceOffset: c })];
    },
    tolerance: 1e-5,
    why: 'the same formula, per-channel coefficients in float64 (wasm) or contracted (webgpu): float32 rounding; a wrong channel or term is off by order 1',
  },
});
