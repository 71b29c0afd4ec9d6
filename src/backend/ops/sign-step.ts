import * as tf from '@tensorflow/tfjs';
import type { NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { defineOp, normals, runKernel } from './op.ts';
import { flatProgram, type Uniform, type WebgpuBackendLike } from './webgpu-program.ts';

/**
 * The one-step attacks' move, clip(x ± (εᵢ/levels)·sign(gᵢ), 0, 1). On webgpu one kernel, where
 * tfjs's ops take six dispatches (sign, cast, div, mul, add, clip) and upload the divisor (a
 * scalar) every call. The per-example ε is read from its tensor (drawn each step: data, not a
 * constant); one ε for the whole batch travels as a uniform. Same operations in the same order
 * as the reference: e = ε/levels, then x + e·s (or x − e·s), then clip. e·s is exact (s is −1,
 * 0 or 1), so only the division may round differently from cpu.
 */
export const SIGN_STEP = 'LabelLeakSignStep';

export interface SignStepAttrs {
  /** +1: away from the label (FGSM); −1: toward it (step-LL, step-rand). */
  direction: 1 | -1;
  /** ε is divided by this (pixel levels of the [0, 1] scale). */
  levels: number;
}

/** ε a number or one per example ([batch], already checked by the caller); g the loss gradient (or its sign). */
type SignStep = (x: tf.Tensor4D, g: tf.Tensor4D, eps: number | tf.Tensor1D, attrs: SignStepAttrs) => tf.Tensor4D;

const reference: SignStep = (x, g, eps, { direction, levels }) =>
  tf.tidy(() => {
    // ε on the [0, 1] scale, shaped to broadcast over the batch: both forms go through the same float32 division.
    const e = typeof eps === 'number' ? tf.div(tf.scalar(eps), levels) : tf.reshape(tf.div(tf.cast(eps, 'float32'), levels), [x.shape[0], 1, 1, 1]);
    const sign = tf.sign(g);
    const moved = direction === 1 ? tf.add(x, tf.mul(e, sign)) : tf.sub(x, tf.mul(e, sign));
    return tf.clipByValue(moved, 0, 1) as tf.Tensor4D;
  });

const fused: SignStep = (x, g, eps, attrs) =>
  tf.tidy(() =>
    typeof eps === 'number'
      ? runKernel<tf.Tensor4D>(SIGN_STEP, { x, g }, { ...attrs, eps })
      : runKernel<tf.Tensor4D>(SIGN_STEP, { x, g, eps: tf.cast(eps, 'float32') }, attrs),
  );

function webgpuSignStep(args: { inputs: { x: TensorInfo; g: TensorInfo; eps?: TensorInfo }; backend: unknown; attrs?: NamedAttrMap }): TensorInfo {
  const { x, g, eps } = args.inputs;
  const attrs = args.attrs as unknown as SignStepAttrs & { eps?: number };
  const n = tf.util.sizeFromShape(x.shape);
  const perExample = eps !== undefined;
  // Example i owns the flat range [i·perImage, (i + 1)·perImage) of NHWC images.
  const program = flatProgram(
    perExample ? 'll_sign_step_each' : 'll_sign_step',
    perExample ? ['X', 'G', 'E'] : ['X', 'G'],
    n,
    `let e = ${perExample ? 'E[index / uniforms.perImage]' : 'uniforms.eps'} / uniforms.levels;
          let moved = select(X[index] - e * sign(G[index]), X[index] + e * sign(G[index]), uniforms.direction > 0);
          setOutputAtIndex(index, clamp(moved, 0.0, 1.0));`,
    `direction : i32, levels : f32, ${perExample ? 'perImage : i32,' : 'eps : f32,'}`,
  );
  const uniforms: Uniform[] = [
    { type: 'int32', data: [attrs.direction] },
    { type: 'float32', data: [attrs.levels] },
    perExample ? { type: 'int32', data: [n / x.shape[0]] } : { type: 'float32', data: [attrs.eps ?? 0] },
  ];
  const out = (args.backend as WebgpuBackendLike).runWebGPUProgram(program, perExample ? [x, g, eps] : [x, g], 'float32', uniforms);
  return { dataId: out.dataId, shape: x.shape, dtype: out.dtype };
}

export const signStep = defineOp<SignStep>({
  name: 'sign step',
  reference,
  fused,
  kernels: { webgpu: { [SIGN_STEP]: webgpuSignStep } },
  check: {
    // Pixels in [0, 1], some exactly at the ends, so that clipping is exercised both ways; some
    // gradient entries exactly 0 (the pixel does not move); ε one number or one per example.
    run: (rng, call) => {
      const shape: [number, number, number, number] = [1 + rng.int(4), 1 + rng.int(5), 1 + rng.int(5), rng.next() < 0.5 ? 1 : 3];
      const n = tf.util.sizeFromShape(shape);
      const x = tf.tensor4d(Float32Array.from({ length: n }, () => Math.min(1, Math.max(0, rng.next() * 1.2 - 0.1))), shape);
      const g = tf.tensor4d(normals(n, rng).map((v) => (rng.next() < 0.3 ? 0 : v)), shape);
      const top = [1, 16, 255][rng.int(3)];
      const eps = rng.next() < 0.5 ? Math.fround(rng.next() * top) : tf.tensor1d(Float32Array.from({ length: shape[0] }, () => rng.next() * top));
      return [call(x, g, eps, { direction: rng.next() < 0.5 ? 1 : -1, levels: 255 })];
    },
    tolerance: 2.5e-7,
    why: 'e·sign(g) is exact and x ± e·s is rounded once on both, so only ε/255 may differ (WGSL division may be 2.5 ulps off): at most one ulp of a pixel ≤ 1; a wrong direction, ε, sign or clip is off by ε/255 or more',
  },
});
