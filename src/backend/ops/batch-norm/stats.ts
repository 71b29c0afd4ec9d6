import * as tf from '@tensorflow/tfjs';
import type { KernelBackend, TensorInfo } from '@tensorflow/tfjs';
import { defineOp, runKernel } from '../op.ts';
import { channelSums, rowsAndChannels as wasmRows, affine, upload } from './wasm-shared.ts';
import { kernelScope } from '../../kernel-scope.ts';
import { i32, loop, perChannelProgram, rowsAndChannels, run } from './webgpu-shared.ts';
import { activation, channels } from './check.ts';

/** The batch's per-channel mean and biased variance of an NHWC activation, as one [2C] tensor (mean first). */
export const BN_STATS = 'LabelLeakBnStats';

function webgpuStats(args: { inputs: { x: TensorInfo }; backend: unknown }): TensorInfo {
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

function wasmStats(args: { inputs: { x: TensorInfo }; backend: KernelBackend }): TensorInfo {
  const { inputs, backend } = args;
  const { x } = inputs;
  const [rows, ch] = wasmRows(x.shape);
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

type Stats = (x: tf.Tensor4D) => tf.Tensor1D;

export const batchStats = defineOp<Stats>({
  name: 'batch-norm statistics',
  // Two passes: the variance of the centred values, not E[x²] − μ².
  reference: (x) =>
    tf.tidy(() => {
      const m = x.size / x.shape[3];
      const mean = tf.div(tf.sum(x, [0, 1, 2]), m);
      const centred = tf.sub(x, mean);
      return tf.concat([mean, tf.div(tf.sum(tf.mul(centred, centred), [0, 1, 2]), m)]) as tf.Tensor1D;
    }),
  fused: (x) => runKernel(BN_STATS, { x }),
  kernels: { webgpu: { [BN_STATS]: webgpuStats }, wasm: { [BN_STATS]: wasmStats } },
  check: {
    run: (rng, call) => [call(activation(rng, channels(rng)))],
    tolerance: 1e-5,
    why: 'sums in another order (a tree in workgroup memory; pooled per image then float64): float32 rounding; a wrong channel or divisor is off by order 1',
  },
});
