import * as tf from '@tensorflow/tfjs';
import { attack, lossGradientSign } from '../attacks/index.ts';
import type { AttackName } from '../spec/names.ts';
import { buildClassifier, type ModelSpec } from '../models/spec.ts';
import type { InputShape } from '../models/shape.ts';
import { Sgd, type SgdConfig } from '../train/sgd.ts';
import { trainStep, type AdversarialTraining } from '../train/step.ts';
import { makeRng } from '../util/rng.ts';
import { gpuCounts } from '../backend/webgpu-counts.ts';

/**
 * What one training step and the evaluation passes of a model cost: kernels (the host time
 * per dispatch bounds a webgpu step; docs/gpu.md §6) and multiply-accumulates (what the GPU
 * itself computes).
 *
 * Both are counted on a twin of the model with every width 2, at a batch of 4: the count
 * depends on the layers and the ops, not on widths or batch, so the twin costs milliseconds
 * where the real model would cost seconds (minutes on SwiftShader). 4, not 2: half of a
 * batch of 2 is one image, for which tfjs-webgpu convolves by im2col + product, two
 * dispatches where larger batches take one. On webgpu (a GPU, or SwiftShader on any
 * machine) the kernels are the compute dispatches, counted at dawn.node's API
 * (src/backend/webgpu-counts.ts): what a GPU runs, this project's fused kernels included.
 * Elsewhere they are tfjs kernels counted with tf.profile (cpu's are tfjs's reference
 * decomposition, one per op, as docs/gpu.md counted ResNet-20's), which counts every op a
 * webgpu kernel of this project fuses away. MACs are read off the real model's forward pass
 * at batch 1.
 */
export interface StepCost {
  /** Kernels of one training step (with its adversarial batch, if any). */
  trainStep: number;
  /** Kernels of one inference forward pass (any batch). */
  forward: number;
  /** Kernels of crafting one batch with each attack (iterative ones: all their steps). */
  attack: Partial<Record<AttackName, number>>;
  /** Kernels of one clean input gradient (the loss-vs-ε sweep takes one per batch). */
  inputGradient: number;
  /** Multiply-accumulates of one image's forward pass (convolutions and matrix products). */
  forwardMacs: number;
  /** What the counts are: webgpu dispatches, or tfjs kernels of the backend named. */
  countedAs: 'webgpu dispatches' | `${string} kernels`;
}

/** The same layers with every width 2: the kernels it runs are the model's. */
function structuralTwin(spec: ModelSpec): ModelSpec {
  switch (spec.kind) {
    case 'mlp':
      return { ...spec, hidden: spec.hidden.map(() => 2) };
    case 'cnn':
      return { ...spec, channels: spec.channels.map(() => 2), ...(spec.dense ? { dense: 2 } : {}) };
    case 'resnet':
      return { ...spec, width: 1 };
    case 'fastnet':
      return { ...spec, stem: 2, widths: (spec.widths ?? [64, 256, 256]).map(() => 2) };
  }
}

type Kernels = Awaited<ReturnType<typeof tf.profile>>['kernels'];

/**
 * How many kernels `f` runs: dispatches on webgpu (recorded as tfjs encodes them, so no wait
 * is needed), tfjs kernels elsewhere.
 */
async function countOf(f: () => Promise<unknown> | tf.TensorContainer): Promise<number> {
  if (tf.getBackend() !== 'webgpu') return (await kernelsOf(f)).length;
  const before = gpuCounts().dispatches;
  const out = await f();
  const dispatches = gpuCounts().dispatches - before;
  tf.dispose(out as tf.TensorContainer);
  return dispatches;
}

async function kernelsOf(f: () => Promise<unknown> | tf.TensorContainer): Promise<Kernels> {
  const info = await tf.profile(async () => {
    const out = await f();
    if (out instanceof tf.Tensor) out.dispose();
    return [];
  });
  return info.kernels;
}

const MAC_KERNELS = new Set(['Conv2D', 'FusedConv2D', 'DepthwiseConv2dNative', 'FusedDepthwiseConv2D', 'BatchMatMul', '_FusedMatMul', 'MatMul']);

/** Σ of multiply-accumulates of the convolutions and matrix products among `kernels`. */
function macsOf(kernels: Kernels): number {
  let macs = 0;
  for (const k of kernels) {
    if (!MAC_KERNELS.has(k.name)) continue;
    const outSize = (k.outputShapes[0] ?? []).reduce((a: number, b: number) => a * b, 1);
    const [a = [], b = []] = k.inputShapes;
    if (k.name.includes('Conv')) {
      // Filter [kh, kw, in, out] (depthwise [kh, kw, in, multiplier]): kh·kw·in MACs per output value (depthwise kh·kw).
      macs += outSize * (k.name.includes('Depthwise') ? b[0] * b[1] : b[0] * b[1] * b[2]);
    } else {
      // [m, k]·[k, n]: k MACs per output value (the forward passes measured here do not transpose).
      macs += outSize * a[a.length - 1];
    }
  }
  return macs;
}

/**
 * Counts a step's kernels on the active backend. `attacks` are the evaluation's (each with
 * its ε, steps and step size as the evaluation runs them).
 */
export async function measureStepCost(
  spec: ModelSpec,
  input: InputShape,
  numClasses: number,
  adversarial: AdversarialTraining | null,
  attacks: { attack: AttackName; eps: number; steps?: number; stepSize?: number }[],
  /** The optimiser's settings change its kernels (Nesterov adds some per variable). */
  optimiser: SgdConfig = { momentum: 0.9, nesterov: false, weightDecay: 1e-4 },
): Promise<StepCost> {
  const batch = 4;
  const rng = makeRng(0, 'step-cost');
  const onWebgpu = tf.getBackend() === 'webgpu';
  const twin = buildClassifier(structuralTwin(spec), input, numClasses, rng.fork('twin'));
  let sgd!: Sgd;
  tf.tidy(() => {
    sgd = new Sgd(twin.trainable, { momentum: optimiser.momentum, nesterov: optimiser.nesterov, weightDecay: optimiser.weightDecay });
  });
  const x = tf.randomUniform([batch, input.height, input.width, input.channels], 0, 1, 'float32', 1) as tf.Tensor4D;
  const y = tf.tensor1d([0, 1, 2, 3].map((c) => c % numClasses), 'int32');
  try {
    // First use compiles or caches on some backends; count the second.
    tf.dispose(trainStep(twin, sgd, { x, y }, adversarial, 0.01, rng.fork('warm')));
    const trainKernels = await countOf(() => trainStep(twin, sgd, { x, y }, adversarial, 0.01, rng.fork('step')));
    const forward = await countOf(() => twin.logits(x, false));
    const attackCounts: StepCost['attack'] = {};
    for (const a of attacks) {
      attackCounts[a.attack] = await countOf(() => attack(a.attack, twin, x, y, a.eps, { training: false, rng: rng.fork(a.attack), steps: a.steps, stepSize: a.stepSize }));
    }
    const inputGradient = await countOf(() => lossGradientSign(twin, x, y, { training: false }));
    const real = buildClassifier(spec, input, numClasses, rng.fork('real'));
    const one = tf.zeros([1, input.height, input.width, input.channels]) as tf.Tensor4D;
    const forwardMacs = macsOf(await kernelsOf(() => real.logits(one, false)));
    one.dispose();
    real.dispose();
    const countedAs = onWebgpu ? 'webgpu dispatches' : (`${tf.getBackend()} kernels` as const);
    return { trainStep: trainKernels, forward, attack: attackCounts, inputGradient, forwardMacs, countedAs };
  } finally {
    tf.dispose([x, y]);
    sgd.dispose();
    twin.dispose();
  }
}
