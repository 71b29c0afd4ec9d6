import * as tf from '@tensorflow/tfjs';
import type { TensorInfo } from '@tensorflow/tfjs';
import type { FlatProgram, Uniform, WebgpuBackendLike } from '../webgpu-program.ts';

/**
 * What the webgpu batch-norm kernels share. Activations are NHWC, read as M = N·H·W rows of C
 * channels. Per-channel sums give each channel one workgroup whose threads stride over the rows
 * and meet in workgroup memory: one dispatch, no transpose. That leaves C workgroups (16–64 in
 * ResNet-20) to read the whole activation with a stride of C floats; the alternative (partial
 * sums, then a second pass) costs a second dispatch per sum, and host time per dispatch is what
 * limits a step (docs/gpu.md §6). Per-step scalars (ε, momentum, M) travel as uniforms, so
 * nothing is uploaded as a tensor.
 */

const flat = (t: TensorInfo): TensorInfo => ({ ...t, shape: [tf.util.sizeFromShape(t.shape)] });
export const run = (backend: unknown, program: FlatProgram, inputs: TensorInfo[], uniforms: Uniform[]): TensorInfo =>
  (backend as WebgpuBackendLike).runWebGPUProgram(program, inputs.map(flat), 'float32', uniforms);
export const f32 = (v: number): Uniform => ({ type: 'float32', data: [v] });
export const i32 = (v: number): Uniform => ({ type: 'int32', data: [v] });

/** Channels of an NHWC activation, and its rows N·H·W. */
export function rowsAndChannels(shape: number[]): [number, number] {
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
export function perChannelProgram(key: string, variableNames: string[], channels: number, outputs: number, rows: number, body: string, uniforms: string): FlatProgram {
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
export function loop(rows: number, body: string): string {
  return `for (var m = i32(localId.x); m < rows; m = m + ${threadsFor(rows)}) {
          let i = m * ch + c;
          ${body}
        }`;
}

/** WGSL that sets `c` and the per-channel `invStd` of element `index` (inputs MEAN, VAR). */
export const channelOf = `let c = index % uniforms.ch;
          let invStd = inverseSqrt(VAR[uniforms.varOffset + c] + uniforms.eps);`;


/** ∂ through the ReLU that produced Y: dy·step(y), as tf.mul(dy, tf.step(y)) computes it. */
export const upstream = (relu: boolean) => (relu ? 'DY[i] * select(0.0, 1.0, Y[i] > 0.0)' : 'DY[i]');
