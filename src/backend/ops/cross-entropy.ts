import * as tf from '@tensorflow/tfjs';
import type { GradConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { defineOp, normals } from './op.ts';
import { flatProgram, type Uniform, type WebgpuBackendLike } from './webgpu-program.ts';

/**
 * Softmax cross-entropy from logits and integer labels: on webgpu one kernel forward and one
 * backward, where tfjs's `losses.softmaxCrossEntropy` over a one-hot matrix takes about twenty
 * (oneHot, max, sub, exp, sum, log, add, sub, mul, neg, sum forward; exp, sub, mul backward; the
 * loss weights' fill, ones, concat, div; ones for the sum's gradient), several of them uploading a
 * scalar or a `ones` tensor every step.
 *
 * Each row i has a weight wᵢ = (i < k ? wAdversarial : wClean), taken from uniforms: the training
 * step's per-example weights (λ for the k adversarial rows, 1 for the others, over m − k + λk)
 * cost no tensor, no dispatch and no upload. The attacks use weights 1 (UNWEIGHTED).
 *
 * The arithmetic is the reference's, tfjs's (ops/losses/softmax_cross_entropy.ts), in its order:
 *   lseᵢ = maxᵢ + log Σⱼ exp(xᵢⱼ − maxᵢ);   lossᵢ = −(xᵢ,yᵢ − lseᵢ)·wᵢ
 *   ∂/∂xᵢⱼ = (dyᵢ·wᵢ)·(exp(xᵢⱼ − lseᵢ) − [j = yᵢ])
 * A label outside [0, classes) picks nothing, as tfjs's oneHot gives a row of zeros for it.
 */
export const CROSS_ENTROPY = 'LabelLeakSoftmaxCrossEntropy';
export const CROSS_ENTROPY_GRAD = 'LabelLeakSoftmaxCrossEntropyGrad';

export interface CrossEntropyAttrs {
  /** 'each': one loss per row, shape [m]; 'sum': Σᵢ lossᵢ·wᵢ, a scalar. */
  reduction: 'each' | 'sum';
  /** The first `k` rows have weight `adversarialWeight`, the others `cleanWeight` (float32 numbers). */
  k: number;
  adversarialWeight: number;
  cleanWeight: number;
}

/** Every example weighs 1. */
export const UNWEIGHTED = { k: 0, adversarialWeight: 1, cleanWeight: 1 } as const;

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

/**
 * Softmax cross-entropy of `logits` [m, classes] against integer `labels` [m]: each row's loss
 * ([m]) or their weighted sum (a scalar); differentiable in the logits.
 */
type CrossEntropy = (labels: tf.Tensor1D, logits: tf.Tensor2D, attrs: CrossEntropyAttrs) => tf.Tensor;

const reference: CrossEntropy = (labels, logits, a) =>
  tf.tidy(() => {
    const onehot = tf.oneHot(tf.cast(labels, 'int32'), logits.shape[1]);
    const each = tf.losses.softmaxCrossEntropy(onehot, logits, undefined, 0, tf.Reduction.NONE);
    const unweighted = a.k === 0 && a.cleanWeight === 1;
    if (unweighted) return a.reduction === 'each' ? each : tf.sum(each);
    const m = logits.shape[0];
    // The float32 weights as the kernels read them: λ/(m − k + λk) and 1/(m − k + λk) rounded once.
    const weighted = tf.mul(each, tf.concat([tf.fill([a.k], a.adversarialWeight), tf.fill([m - a.k], a.cleanWeight)]));
    return a.reduction === 'each' ? weighted : tf.sum(weighted);
  });

const fused: CrossEntropy = (labels, logits, attrs) =>
  tf.tidy(() => {
    // A no-op for int32 labels (the usual case), so no dispatch.
    const ints = tf.cast(labels, 'int32');
    return tf.engine().runKernel(CROSS_ENTROPY, { logits, labels: ints }, attrs as unknown as NamedAttrMap) as tf.Tensor;
  });

export const crossEntropy = defineOp<CrossEntropy>({
  name: 'softmax cross-entropy',
  reference,
  fused,
  kernels: { webgpu: { [CROSS_ENTROPY]: forward, [CROSS_ENTROPY_GRAD]: backward } },
  gradients: [gradient],
  check: {
    // Labels outside [0, classes) pick nothing; weighted rows as the training step has them;
    // labels taken from the logits themselves (step-LL: no gradient through them); a scalar dy
    // on the GPU (as a kernel leaves it) as well as one on the CPU.
    run: (rng, call) => {
      const m = 1 + rng.int(9);
      const classes = 2 + rng.int(9);
      const logits = tf.tensor2d(normals(m * classes, rng).map((v) => 4 * v), [m, classes]);
      const labels = tf.tensor1d(Int32Array.from({ length: m }, () => (rng.next() < 0.1 ? classes : rng.int(classes))), 'int32');
      const k = rng.int(m + 1);
      const lambda = [1, 0.3][rng.int(2)];
      const d = Math.fround(m - k + lambda * k);
      const weights = rng.next() < 0.5 ? UNWEIGHTED : { k, adversarialWeight: Math.fround(Math.fround(lambda) / d), cleanWeight: Math.fround(1 / d) };
      const attrs: CrossEntropyAttrs = { reduction: rng.next() < 0.5 ? 'each' : 'sum', ...weights };
      const dy = attrs.reduction === 'each' ? tf.tensor1d(normals(m, rng)) : tf.scalar(rng.normal());
      // Drawn on every backend, so that both runs see the same inputs.
      const dyOnGpu = rng.next() < 0.5;
      const upload = (tf.backend() as unknown as { uploadToGPU?(id: object): void }).uploadToGPU;
      if (dyOnGpu && upload !== undefined) upload.call(tf.backend(), dy.dataId);
      const leastLikely = rng.next() < 0.3;
      const loss = (l: tf.Tensor) => call(leastLikely ? (tf.argMin(l, 1) as tf.Tensor1D) : labels, l as tf.Tensor2D, attrs);
      const { value, grad } = tf.valueAndGrad(loss)(logits, dy);
      return [value, grad];
    },
    tolerance: 1e-5,
    why: 'the same formula; exp and log in WGSL are not correctly rounded and the sum is one loop on both, so a few ulps of the largest loss; a wrong label, weight or row is off by order 1',
  },
});
