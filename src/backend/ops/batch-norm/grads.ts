import * as tf from '@tensorflow/tfjs';
import type { KernelBackend, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { defineOp, runKernel } from '../op.ts';
import { kernelScope } from '../../kernel-scope.ts';
import { affine, channelSums, invStdOf, read, rowsAndChannels, upload, upstream } from './wasm-shared.ts';
import { gradSum, type GradInputs } from './grad-sum.ts';
import { gradX } from './grad-x.ts';
import { activation, channels, positive, vector } from './check.ts';

/**
 * All three training-mode gradients [∂x, ∂γ, ∂β] in one kernel, for a backend that has it
 * (wasm: ∂ReLU is then formed once, not once per sum and again for ∂x). webgpu runs the two
 * sums and ∂x (grad-sum.ts, grad-x.ts): there each is one dispatch.
 */
export const BN_GRADS = 'LabelLeakBnGrads';

/**
 * The training-mode gradients [∂x, ∂γ, ∂β] of `normalise` with the batch statistics `stats`
 * ([2C]: mean, then variance), given the upstream dy (and y, for the ReLU). gy = ∂ReLU·dy is
 * formed once; then ∂β = Σ gy, ∂γ = Σ gy·x̂ = (Σ gy·x − μ·Σ gy)/σ, and
 * ∂x = γ/σ·(gy − ∂β/M − x̂·∂γ/M), rearranged per channel into a·gy + b·x + k: eight
 * full-size passes with ReLU, where the three separate kernels (and tfjs's ops before them)
 * took thirteen and nine.
 */
function wasmGrads(args: {
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

type Grads = (inputs: Required<Pick<GradInputs, 'dy' | 'x' | 'stats'>> & { y?: tf.Tensor4D; gamma: tf.Tensor1D }, attrs: { epsilon: number; relu: boolean }) => [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D];

export const grads = defineOp<Grads>({
  name: 'batch-norm gradients',
  reference: ({ dy, y, x, stats, gamma }, { epsilon, relu }) => {
    const sums = { dy, y, x, stats };
    const dGamma = gradSum.reference(sums, { epsilon, relu, of: 'gamma' });
    const dBeta = gradSum.reference(sums, { epsilon, relu, of: 'beta' });
    return [gradX.reference({ dy, y, stats, gamma, x, dGamma, dBeta }, { epsilon, relu, varianceOffset: dy.shape[3] }), dGamma, dBeta];
  },
  fused: ({ dy, y, x, stats, gamma }, attrs) => runKernel(BN_GRADS, { dy, y: attrs.relu ? y : undefined, x, stats, gamma }, attrs),
  kernels: { wasm: { [BN_GRADS]: wasmGrads } },
  check: {
    run: (rng, call) => {
      const c = channels(rng);
      const x = activation(rng, c);
      const stats = tf.concat([vector(rng, c), positive(rng, c)]) as tf.Tensor1D;
      return call({ dy: activation(rng, c, x.shape), y: activation(rng, c, x.shape), x, stats, gamma: vector(rng, c) }, { epsilon: 1e-5, relu: rng.next() < 0.5 });
    },
    tolerance: 1e-5,
    why: 'sums pooled per image then taken in float64, the closed form rearranged per channel: float32 rounding; a wrong channel or term is off by order 1',
  },
});
