import * as tf from '@tensorflow/tfjs';
import type { KernelBackend, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { defineOp, runKernel } from '../op.ts';
import { read, upload } from './wasm-shared.ts';
import { flatProgram } from '../webgpu-program.ts';
import { f32, i32, run } from './webgpu-shared.ts';
import { channels, vector } from './check.ts';

/** moving·momentum + stats[offset..+C)·(1 − momentum): one moving average of a layer. */
export const BN_MOVING_AVERAGE = 'LabelLeakBnMovingAverage';

export interface MovingAverageAttrs {
  momentum: number;
  offset: number;
}

function webgpuMovingAverage(args: { inputs: { moving: TensorInfo; stats: TensorInfo }; backend: unknown; attrs?: NamedAttrMap }): TensorInfo {
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

function wasmMovingAverage(args: { inputs: { moving: TensorInfo; stats: TensorInfo }; backend: KernelBackend; attrs?: NamedAttrMap }): TensorInfo {
  const { inputs, backend } = args;
  const { momentum, offset } = args.attrs as unknown as { momentum: number; offset: number };
  const moving = read(backend, inputs.moving);
  const stats = read(backend, inputs.stats);
  // Float32 arithmetic in the cpu path's order: moving·momentum + stat·(1 − momentum).
  const f = Math.fround;
  const rest = f(1 - momentum);
  return upload(backend, [moving.length], moving.map((m, c) => f(f(m * f(momentum)) + f(stats[offset + c] * rest))));
}

type MovingAverage = (moving: tf.Tensor1D, stats: tf.Tensor1D, attrs: MovingAverageAttrs) => tf.Tensor1D;

export const movingAverage = defineOp<MovingAverage>({
  name: 'batch-norm moving average',
  reference: (moving, stats, { momentum, offset }) =>
    tf.tidy(() => tf.add(tf.mul(moving, momentum), tf.mul(tf.slice(stats, offset, moving.shape[0]), 1 - momentum)) as tf.Tensor1D),
  fused: (moving, stats, attrs) => runKernel(BN_MOVING_AVERAGE, { moving, stats }, attrs),
  kernels: { webgpu: { [BN_MOVING_AVERAGE]: webgpuMovingAverage }, wasm: { [BN_MOVING_AVERAGE]: wasmMovingAverage } },
  check: {
    run: (rng, call) => {
      const c = channels(rng);
      const offset = rng.next() < 0.5 ? 0 : c;
      return [call(vector(rng, c), vector(rng, 2 * c), { momentum: 0.9, offset })];
    },
    tolerance: 1e-6,
    why: 'the same float32 operations in the same order; a shader may contract a·b + c into one rounding',
  },
});
