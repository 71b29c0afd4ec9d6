import * as tf from '@tensorflow/tfjs';
import type { NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { flatProgram, registerWebgpuKernels, runsHere, type WebgpuBackendLike } from './webgpu-program.ts';

/**
 * SGD with momentum and weight decay as two kernels per variable on webgpu, where tfjs's ops
 * take six dispatches (g + λw, μv, + g, lr·step, w − …) and upload three scalars (λ, μ, lr)
 * every step. Hyper-parameters travel as uniforms (written with each dispatch anyway), so no
 * per-step upload remains. Each reproduces src/train/sgd.ts's arithmetic in the same order:
 *   g' = g + λ·w;   v' = μ·v + g';   w' = w − lr·(Nesterov ? g' + μ·v' : v').
 */
export const SGD_VELOCITY = 'LabelLeakSgdVelocity';
export const SGD_STEP = 'LabelLeakSgdStep';

export interface SgdVelocityAttrs {
  momentum: number;
  decay: number;
}
export interface SgdStepAttrs extends SgdVelocityAttrs {
  learningRate: number;
  nesterov: boolean;
}

function velocity(args: { inputs: { v: TensorInfo; g: TensorInfo; w: TensorInfo }; backend: unknown; attrs?: NamedAttrMap }): TensorInfo {
  const { v, g, w } = args.inputs;
  const { momentum, decay } = args.attrs as unknown as SgdVelocityAttrs;
  const n = tf.util.sizeFromShape(v.shape);
  const program = flatProgram(
    'll_sgd_velocity',
    ['V', 'G', 'W'],
    n,
    `let g = G[index] + W[index] * uniforms.decay;
          setOutputAtIndex(index, V[index] * uniforms.momentum + g);`,
    'momentum : f32, decay : f32,',
  );
  const out = (args.backend as WebgpuBackendLike).runWebGPUProgram(program, [v, g, w], 'float32', [
    { type: 'float32', data: [momentum] },
    { type: 'float32', data: [decay] },
  ]);
  return out;
}

function step(args: { inputs: { w: TensorInfo; v: TensorInfo; g: TensorInfo }; backend: unknown; attrs?: NamedAttrMap }): TensorInfo {
  const { w, v, g } = args.inputs;
  const { momentum, decay, learningRate, nesterov } = args.attrs as unknown as SgdStepAttrs;
  const n = tf.util.sizeFromShape(w.shape);
  const program = flatProgram(
    'll_sgd_step',
    ['W', 'V', 'G'],
    n,
    `var s = V[index];
          if (uniforms.nesterov != 0) {
            s = (G[index] + W[index] * uniforms.decay) + s * uniforms.momentum;
          }
          setOutputAtIndex(index, W[index] - s * uniforms.lr);`,
    'momentum : f32, decay : f32, lr : f32, nesterov : i32,',
  );
  const out = (args.backend as WebgpuBackendLike).runWebGPUProgram(program, [w, v, g], 'float32', [
    { type: 'float32', data: [momentum] },
    { type: 'float32', data: [decay] },
    { type: 'float32', data: [learningRate] },
    { type: 'int32', data: [nesterov ? 1 : 0] },
  ]);
  return out;
}

/** Registers both kernels for webgpu (kernels of other backends are left as they are). Idempotent. */
export function registerWebgpuSgdKernels(): void {
  registerWebgpuKernels({ [SGD_VELOCITY]: velocity, [SGD_STEP]: step });
}

/** Whether the active backend runs the fused update (only webgpu registers it). */
export function fusedSgdAvailable(): boolean {
  return runsHere(SGD_STEP);
}

/**
 * One variable's update with the fused kernels: [new velocity, new weights]. Flat views (a
 * reshape is free on webgpu) keep it to one shader per kernel, whatever the variable's rank.
 */
export function fusedSgdUpdate(w: tf.Tensor, v: tf.Tensor, g: tf.Tensor, attrs: SgdStepAttrs): [tf.Tensor, tf.Tensor] {
  return tf.tidy(() => {
    const [wf, vf, gf] = [w, v, g].map((t) => t.reshape([-1]));
    const vNew = tf.engine().runKernel(SGD_VELOCITY, { v: vf, g: gf, w: wf }, { momentum: attrs.momentum, decay: attrs.decay } as unknown as NamedAttrMap) as tf.Tensor;
    const wNew = tf.engine().runKernel(SGD_STEP, { w: wf, v: vNew, g: gf }, attrs as unknown as NamedAttrMap) as tf.Tensor;
    return [vNew.reshape(v.shape), wNew.reshape(w.shape)];
  });
}
