import * as tf from '@tensorflow/tfjs';
import type { NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { defineOp, normals } from './op.ts';
import { flatProgram, type WebgpuBackendLike } from './webgpu-program.ts';

/**
 * One variable's SGD update with momentum and weight decay. On webgpu two kernels per variable, where tfjs's ops
 * take six dispatches (g + λw, μv, + g, lr·step, w − …) and upload three scalars (λ, μ, lr)
 * every step. Hyper-parameters travel as uniforms (written with each dispatch anyway), so no
 * per-step upload remains. Each reproduces the reference's arithmetic in the same order:
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

type SgdUpdate = (w: tf.Tensor, v: tf.Tensor, g: tf.Tensor, attrs: SgdStepAttrs) => [tf.Tensor, tf.Tensor];

/** [new velocity, new weights]; `decay` 0 adds no decay term. */
const reference: SgdUpdate = (w, v, g, { momentum, decay, learningRate, nesterov }) =>
  tf.tidy(() => {
    const gd = decay > 0 ? g.add(w.mul(decay)) : g;
    const vNew = v.mul(momentum).add(gd);
    const s = nesterov ? gd.add(vNew.mul(momentum)) : vNew;
    return [vNew, w.sub(s.mul(learningRate))];
  });

/** Flat views (a reshape is free on webgpu) keep it to one shader per kernel, whatever the variable's rank. */
const fused: SgdUpdate = (w, v, g, attrs) =>
  tf.tidy(() => {
    const [wf, vf, gf] = [w, v, g].map((t) => t.reshape([-1]));
    const vNew = tf.engine().runKernel(SGD_VELOCITY, { v: vf, g: gf, w: wf }, { momentum: attrs.momentum, decay: attrs.decay } as unknown as NamedAttrMap) as tf.Tensor;
    const wNew = tf.engine().runKernel(SGD_STEP, { w: wf, v: vNew, g: gf }, attrs as unknown as NamedAttrMap) as tf.Tensor;
    return [vNew.reshape(v.shape), wNew.reshape(w.shape)];
  });

export const sgdUpdate = defineOp<SgdUpdate>({
  name: 'SGD update',
  reference,
  fused,
  kernels: { webgpu: { [SGD_VELOCITY]: velocity, [SGD_STEP]: step } },
  check: {
    run: (rng, call) => {
      const shape = [1 + rng.int(5), 1 + rng.int(4), 1 + rng.int(3)].slice(0, 1 + rng.int(3));
      const n = tf.util.sizeFromShape(shape);
      const [w, v, g] = [0, 1, 2].map(() => tf.tensor(normals(n, rng), shape));
      const attrs = { momentum: [0, 0.9][rng.int(2)], decay: [0, 5e-4][rng.int(2)], learningRate: 0.01 + rng.next() * 0.2, nesterov: rng.next() < 0.5 };
      return call(w, v, g, attrs);
    },
    tolerance: 1e-6,
    why: 'the same operations in the same order; a shader compiler may contract a·b + c into one rounding (a few float32 ulps); a wrong term or hyper-parameter is off by far more',
  },
});
