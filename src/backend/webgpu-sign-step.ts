import * as tf from '@tensorflow/tfjs';
import type { NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { flatProgram, registerWebgpuKernels, runsHere, type Uniform, type WebgpuBackendLike } from './webgpu-program.ts';

/**
 * The one-step attacks' move, clip(x ± (εᵢ/levels)·sign(gᵢ), 0, 1), as one kernel on webgpu,
 * where tfjs's ops take six dispatches (sign, cast, div, mul, add, clip) and upload the divisor
 * (a scalar) every call. The per-example ε is read from its tensor (drawn each step: data, not a
 * constant); one ε for the whole batch travels as a uniform. Same operations in the same order
 * as src/attacks/one-step.ts and epsilon.ts: e = ε/levels, then x + e·s (or x − e·s), then clip.
 * e·s is exact (s is −1, 0 or 1), so only the division may round differently from cpu.
 */
export const SIGN_STEP = 'LabelLeakSignStep';

export interface SignStepAttrs {
  /** +1: away from the label (FGSM); −1: toward it (step-LL, step-rand). */
  direction: 1 | -1;
  /** ε is divided by this (pixel levels of the [0, 1] scale). */
  levels: number;
  /** One ε for every example; absent: the input `eps` holds one per example. */
  eps?: number;
}

function signStep(args: { inputs: { x: TensorInfo; g: TensorInfo; eps?: TensorInfo }; backend: unknown; attrs?: NamedAttrMap }): TensorInfo {
  const { x, g, eps } = args.inputs;
  const attrs = args.attrs as unknown as SignStepAttrs;
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

/** Registers the kernel for webgpu. Idempotent. */
export function registerWebgpuSignStep(): void {
  registerWebgpuKernels({ [SIGN_STEP]: signStep });
}

/** Whether the active backend runs the fused step (only webgpu registers it). */
export function fusedSignStepAvailable(): boolean {
  return runsHere(SIGN_STEP);
}

/**
 * clip(x ± (ε/levels)·sign(g), 0, 1) for a batch `x` of NHWC images and the loss gradient `g`;
 * ε a number or one per example ([batch], already checked by the caller).
 */
export function fusedSignStep(x: tf.Tensor4D, g: tf.Tensor4D, eps: number | tf.Tensor1D, attrs: Omit<SignStepAttrs, 'eps'>): tf.Tensor4D {
  return tf.tidy(() => {
    if (typeof eps === 'number') {
      return tf.engine().runKernel(SIGN_STEP, { x, g }, { ...attrs, eps } as unknown as NamedAttrMap) as tf.Tensor4D;
    }
    return tf.engine().runKernel(SIGN_STEP, { x, g, eps: tf.cast(eps, 'float32') }, attrs as unknown as NamedAttrMap) as tf.Tensor4D;
  });
}
