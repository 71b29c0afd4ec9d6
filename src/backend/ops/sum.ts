import * as tf from '@tensorflow/tfjs';
import type { SumAttrs, TensorInfo } from '@tensorflow/tfjs';
import { defineOp, normals, type Kernel } from './op.ts';
import { adapterInfoOf, barrierFreeKernelsSuit, flatProgram, type WebgpuBackendLike } from './webgpu-program.ts';

/** The reduced axes as one run: [outer, reduced, inner] sizes of x viewed flat, or undefined when they are not adjacent (tfjs's kernel then). */
function contiguousRun(shape: number[], axes: number[]): { outer: number; reduced: number; inner: number } | undefined {
  const sorted = [...axes].sort((a, b) => a - b);
  if (sorted.some((a, i) => i > 0 && a !== sorted[i - 1] + 1)) return undefined;
  const size = (from: number, to: number) => shape.slice(from, to).reduce((n, d) => n * d, 1);
  const [first, last] = [sorted[0], sorted[sorted.length - 1]];
  return { outer: size(0, first), reduced: size(first, last + 1), inner: size(last + 1, shape.length) };
}

/**
 * The sum over one contiguous run of axes, as one dispatch with a thread per output element
 * that adds its values in order, on software adapters. tfjs-backend-webgpu's Sum transposes the
 * reduced axes innermost (a dispatch) and then reduces each output in a workgroup through
 * workgroup memory, seven barriers for 128 values. SwiftShader runs each barrier as a coroutine
 * switch (see mat-mul.ts): in an MLP training step the bias gradients, sums of [128, 512] over
 * the batch, took 310 of the step's 834 ms (`label-leak bench --backends webgpu --only mlp-mnist
 * --profile`, 2026-12-06). On a GPU tfjs's reduction is the right one and stays.
 * The order of the additions is the cpu backend's (each output's values in index order).
 */
const webgpuSum: Kernel = (args: { inputs: { x: TensorInfo }; backend: unknown; attrs: SumAttrs }, stock) => {
  const { x } = args.inputs;
  if (!barrierFreeKernelsSuit(adapterInfoOf(args.backend)) || x.dtype !== 'float32') return stock!(args as never) as TensorInfo;
  const axes = tf.util.parseAxisParam(args.attrs.axis, x.shape);
  const run = axes.length > 0 ? contiguousRun(x.shape, axes) : undefined;
  if (run === undefined || run.outer * run.inner === 0) return stock!(args as never) as TensorInfo;
  const program = flatProgram(
    'll_sum_run',
    ['X'],
    run.outer * run.inner,
    `let a = index / uniforms.inner;
          let base = a * uniforms.reduced * uniforms.inner + (index - a * uniforms.inner);
          var total = 0.0;
          for (var r = 0; r < uniforms.reduced; r = r + 1) { total = total + X[base + r * uniforms.inner]; }
          setOutputAtIndex(index, total);`,
    'reduced : i32, inner : i32,',
  );
  const flat: TensorInfo = { dataId: x.dataId, dtype: x.dtype, shape: [tf.util.sizeFromShape(x.shape)] };
  const out = (args.backend as WebgpuBackendLike).runWebGPUProgram(program, [flat], 'float32', [
    { type: 'int32', data: [run.reduced] },
    { type: 'int32', data: [run.inner] },
  ]);
  const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const shape = args.attrs.keepDims ? kept : x.shape.filter((_, i) => !axes.includes(i));
  return { dataId: out.dataId, dtype: out.dtype, shape };
};

type Sum = (x: tf.Tensor, axes: number[], keepDims: boolean) => tf.Tensor;

/** tf.sum over a run of axes (a bias gradient's sum over the batch, a mean's over the last axis). */
export const sum = defineOp<Sum>({
  name: 'sum over axes',
  reference: (x, axes, keepDims) => tf.sum(x, axes, keepDims),
  kernels: { webgpu: { Sum: webgpuSum } },
  check: {
    // Ranks 1–4, a contiguous run of axes (leading, trailing or inside) or, now and then, two
    // axes apart (tfjs's kernel then), with and without keepDims; up to 300 values reduced per
    // output so that long sums are reached.
    run: (rng, call) => {
      const rank = 1 + rng.int(4);
      const shape = Array.from({ length: rank }, () => 1 + rng.int(rank === 1 ? 300 : 9));
      const first = rng.int(rank);
      const last = first + rng.int(rank - first);
      const axes = rank > 2 && rng.next() < 0.2 ? [0, rank - 1] : Array.from({ length: last - first + 1 }, (_, i) => first + i);
      const x = tf.tensor(normals(tf.util.sizeFromShape(shape), rng), shape);
      return [call(x, axes, rng.next() < 0.5)];
    },
    tolerance: 1e-6,
    why: "each output's values added in index order, as the cpu backend adds them: equal but for SwiftShader's float handling (measured 0); a wrong stride, axis or shape is off by order 1",
  },
});
