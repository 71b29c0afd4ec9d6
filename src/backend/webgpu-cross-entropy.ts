import * as tf from '@tensorflow/tfjs';
import type { GradConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { flatProgram, registerWebgpuKernels, runsHere, type Uniform, type WebgpuBackendLike } from './webgpu-program.ts';

/**
 * Softmax cross-entropy from logits and integer labels as one kernel forward and one backward on
 * webgpu, where tfjs's `losses.softmaxCrossEntropy` over a one-hot matrix takes about twenty
 * (oneHot, max, sub, exp, sum, log, add, sub, mul, neg, sum forward; exp, sub, mul backward; the
 * loss weights' fill, ones, concat, div; ones for the sum's gradient), several of them uploading a
 * scalar or a `ones` tensor every step.
 *
 * Each row i has a weight wᵢ = (i < k ? wAdversarial : wClean), taken from uniforms: the training
 * step's per-example weights (λ for the k adversarial rows, 1 for the others, over m − k + λk)
 * cost no tensor, no dispatch and no upload. The attacks use weights 1.
 *
 * The arithmetic is tfjs's (ops/losses/softmax_cross_entropy.ts), in its order:
 *   lseᵢ = maxᵢ + log Σⱼ exp(xᵢⱼ − maxᵢ);   lossᵢ = −(xᵢ,yᵢ − lseᵢ)·wᵢ
 *   ∂/∂xᵢⱼ = (dyᵢ·wᵢ)·(exp(xᵢⱼ − lseᵢ) − [j = yᵢ])
 * A label outside [0, classes) picks nothing, as tfjs's oneHot gives a row of zeros for it.
 */
export const CROSS_ENTROPY = 'LabelLeakSoftmaxCrossEntropy';
export const CROSS_ENTROPY_GRAD = 'LabelLeakSoftmaxCrossEntropyGrad';

export interface CrossEntropyAttrs {
  /** 'each': one loss per row, shape [m]; 'sum': Σᵢ lossᵢ·wᵢ, a scalar. */
  reduction: 'each' | 'sum';
  /** The first `k` rows have weight `adversarialWeight`, the others `cleanWeight`. */
  k: number;
  adversarialWeight: number;
  cleanWeight: number;
}

/** Row i's log-sum-exp, as `lse`, and its label, as `y` (WGSL, shared by both kernels). */
const ROW = `
          let c = uniforms.classes;
          let base = row * c;
          var mx = Logits[base];
          for (var j = 1; j < c; j = j + 1) { mx = max(mx, Logits[base + j]); }
          var s = 0.0;
          for (var j = 0; j < c; j = j + 1) { s = s + exp(Logits[base + j] - mx); }
          let lse = mx + log(s);
          let y = Labels[row];
          let w = select(uniforms.wClean, uniforms.wAdv, row < uniforms.k);`;

const LOSS = `
          var picked = 0.0;
          if (y >= 0 && y < c) { picked = -(Logits[base + y] - lse); }`;

const UNIFORMS = 'classes : i32, k : i32, wAdv : f32, wClean : f32,';

function weightUniforms(classes: number, a: CrossEntropyAttrs): Uniform[] {
  return [
    { type: 'int32', data: [classes] },
    { type: 'int32', data: [a.k] },
    { type: 'float32', data: [a.adversarialWeight] },
    { type: 'float32', data: [a.cleanWeight] },
  ];
}

function forward(args: { inputs: { logits: TensorInfo; labels: TensorInfo }; backend: unknown; attrs?: NamedAttrMap }): TensorInfo {
  const { logits, labels } = args.inputs;
  const attrs = args.attrs as unknown as CrossEntropyAttrs;
  const [rows, classes] = logits.shape;
  const backend = args.backend as WebgpuBackendLike;
  // The sum is one thread over all rows, in row order like tfjs's sum on cpu: a batch's m·classes
  // exponentials are a few microseconds of one GPU thread, less than a second dispatch would cost.
  const program =
    attrs.reduction === 'each'
      ? flatProgram('ll_ce_each', ['Logits', 'Labels'], rows, `let row = index;${ROW}${LOSS}
          setOutputAtIndex(index, picked * w);`, UNIFORMS)
      : flatProgram('ll_ce_sum', ['Logits', 'Labels'], 1, `var total = 0.0;
          for (var row = 0; row < uniforms.rows; row = row + 1) {${ROW}${LOSS}
            total = total + picked * w;
          }
          setOutputAtIndex(index, total);`, `${UNIFORMS} rows : i32,`);
  const uniforms = weightUniforms(classes, attrs);
  if (attrs.reduction === 'sum') uniforms.push({ type: 'int32', data: [rows] });
  const out = backend.runWebGPUProgram(program, [logits, labels], 'float32', uniforms);
  const shape = attrs.reduction === 'each' ? [rows] : [];
  return { dataId: out.dataId, shape, dtype: out.dtype };
}

interface GradInputs {
  logits: TensorInfo;
  labels: TensorInfo;
  dy: TensorInfo;
}

/**
 * A scalar dy that still lives on the CPU (the engine's seed `ones([])` for a loss that is the
 * root of the gradient) travels as a uniform: as a buffer it would be one upload per step.
 */
function backward(args: { inputs: GradInputs; backend: unknown; attrs?: NamedAttrMap }): TensorInfo {
  const { logits, labels, dy } = args.inputs;
  const attrs = args.attrs as unknown as CrossEntropyAttrs;
  const [rows, classes] = logits.shape;
  const backend = args.backend as WebgpuBackendLike;
  const scalarDy = tf.util.sizeFromShape(dy.shape) === 1;
  const dyOnCpu = scalarDy && backend.shouldExecuteOnCPU([dy]);
  const dyRead = dyOnCpu ? 'uniforms.dy' : scalarDy ? 'Dy[0]' : 'Dy[row]';
  const program = flatProgram(
    dyOnCpu ? 'll_ce_grad_u' : scalarDy ? 'll_ce_grad_s' : 'll_ce_grad',
    dyOnCpu ? ['Logits', 'Labels'] : ['Logits', 'Labels', 'Dy'],
    rows * classes,
    `let row = index / uniforms.classes;${ROW}
          let onehot = select(0.0, 1.0, index - base == y);
          setOutputAtIndex(index, (${dyRead} * w) * (exp(Logits[index] - lse) - onehot));`,
    `${UNIFORMS}${dyOnCpu ? ' dy : f32,' : ''}`,
  );
  const uniforms = weightUniforms(classes, attrs);
  if (dyOnCpu) uniforms.push({ type: 'float32', data: [(backend.readSync(dy.dataId) as Float32Array)[0]] });
  const out = backend.runWebGPUProgram(program, dyOnCpu ? [logits, labels] : [logits, labels, dy], 'float32', uniforms);
  return { dataId: out.dataId, shape: [rows, classes], dtype: out.dtype };
}

/**
 * The gradient goes through the registry rather than tf.customGrad: the engine then asks for the
 * labels' gradient only when the labels depend on what is differentiated (step-LL's argmin of the
 * logits), so the usual step computes no zeros for them.
 */
const gradient: GradConfig = {
  kernelName: CROSS_ENTROPY,
  inputsToSave: ['logits', 'labels'],
  gradFunc: (dy, saved, attrs) => {
    const [logits, labels] = saved;
    return {
      logits: () => tf.engine().runKernel(CROSS_ENTROPY_GRAD, { logits, labels, dy: dy as tf.Tensor }, attrs) as tf.Tensor,
      // The engine wants float32 gradients, whatever the input's dtype; nothing reads this one
      // (an int32 label's only producers, argmax/argmin/cast, pass a zero gradient on).
      labels: () => tf.zeros(labels.shape),
    };
  },
};

/** Registers both kernels for webgpu and the forward kernel's gradient. Idempotent. */
export function registerWebgpuCrossEntropy(): void {
  registerWebgpuKernels({ [CROSS_ENTROPY]: forward, [CROSS_ENTROPY_GRAD]: backward });
  // Only webgpu has the forward kernel, so this gradient is never reached on another backend.
  if (tf.getGradient(CROSS_ENTROPY) === undefined) tf.registerGradient(gradient);
}

/** Whether the active backend runs the fused cross-entropy (only webgpu registers it). */
export function fusedCrossEntropyAvailable(): boolean {
  return runsHere(CROSS_ENTROPY);
}

/**
 * Softmax cross-entropy of `logits` [m, classes] against integer `labels` [m]: each row's loss
 * ([m]) or their weighted sum (a scalar); differentiable in the logits.
 */
export function fusedCrossEntropy(labels: tf.Tensor1D, logits: tf.Tensor2D, attrs: CrossEntropyAttrs): tf.Tensor {
  return tf.tidy(() => {
    // A no-op for int32 labels (the usual case), so no dispatch.
    const ints = tf.cast(labels, 'int32');
    return tf.engine().runKernel(CROSS_ENTROPY, { logits, labels: ints }, attrs as unknown as NamedAttrMap) as tf.Tensor;
  });
}
