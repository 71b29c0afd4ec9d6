import * as tf from '@tensorflow/tfjs';
import type { NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { defineOp, runKernel } from '../op.ts';
import { f32, i32, loop, perChannelProgram, rowsAndChannels, run, upstream } from './webgpu-shared.ts';
import { activation, channels, positive, vector } from './check.ts';

/** A training-mode batch norm's ∂β = Σ gy or ∂γ = Σ gy·x̂ per channel, gy = ∂ReLU·dy (webgpu: one dispatch each). */
export const BN_GRAD_SUM = 'LabelLeakBnGradSum';

export interface GradSumAttrs {
  epsilon: number;
  relu: boolean;
  /** 'beta': Σ gy; 'gamma': Σ gy·x̂. */
  of: 'beta' | 'gamma';
}

function webgpuGradSum(args: { inputs: { dy: TensorInfo; y?: TensorInfo; x?: TensorInfo; stats?: TensorInfo }; backend: unknown; attrs?: NamedAttrMap }): TensorInfo {
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

export interface GradInputs {
  dy: tf.Tensor4D;
  /** The output the ReLU produced (read only when `relu`). */
  y?: tf.Tensor4D;
  x?: tf.Tensor4D;
  /** The batch statistics [2C], mean then variance. */
  stats?: tf.Tensor1D;
}

/** dy through the ReLU that produced y: dy·step(y). */
export const throughRelu = (dy: tf.Tensor4D, y: tf.Tensor4D | undefined, relu: boolean): tf.Tensor4D =>
  (relu && y !== undefined ? tf.mul(dy, tf.step(y)) : dy) as tf.Tensor4D;

type GradSum = (inputs: GradInputs, attrs: GradSumAttrs) => tf.Tensor1D;

export const gradSum = defineOp<GradSum>({
  name: 'batch-norm ∂γ/∂β sum',
  reference: ({ dy, y, x, stats }, { epsilon, relu, of }) =>
    tf.tidy(() => {
      const gy = throughRelu(dy, y, relu);
      if (of === 'beta') return tf.sum(gy, [0, 1, 2]) as tf.Tensor1D;
      const c = dy.shape[3];
      const invStd = tf.rsqrt(tf.add(tf.slice(stats!, c, c), epsilon));
      return tf.sum(tf.mul(gy, tf.mul(tf.sub(x!, tf.slice(stats!, 0, c)), invStd)), [0, 1, 2]) as tf.Tensor1D;
    }),
  fused: ({ dy, y, x, stats }, attrs) => runKernel(BN_GRAD_SUM, { dy, y: attrs.relu ? y : undefined, x, stats }, attrs),
  kernels: { webgpu: { [BN_GRAD_SUM]: webgpuGradSum } },
  check: {
    run: (rng, call) => {
      const c = channels(rng);
      const x = activation(rng, c);
      const relu = rng.next() < 0.5;
      const stats = tf.concat([vector(rng, c), positive(rng, c)]) as tf.Tensor1D;
      return [call({ dy: activation(rng, c, x.shape), y: activation(rng, c, x.shape), x, stats }, { epsilon: 1e-5, relu, of: rng.next() < 0.5 ? 'beta' : 'gamma' })];
    },
    tolerance: 1e-5,
    why: 'sums in another order (a tree in workgroup memory): float32 rounding; a wrong channel or term is off by order 1',
  },
});
