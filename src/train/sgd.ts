import * as tf from '@tensorflow/tfjs';

/** SGD with (optionally Nesterov) momentum and L2 weight decay, as in He et al.'s CIFAR ResNets. */
export interface SgdConfig {
  momentum: number;
  nesterov: boolean;
  /** L2 coefficient added to the gradient of every trainable variable of rank > 1 (kernels, not biases/BN). */
  weightDecay: number;
}

/**
 * The optimiser's state is one velocity per trainable variable. It is written out by hand,
 * instead of using tf.train.momentum, so that checkpoints can save and restore it exactly
 * and every hyper-parameter is visible here.
 */
export class Sgd {
  readonly velocities: tf.Variable[];

  constructor(
    private readonly params: tf.Variable[],
    readonly config: SgdConfig,
  ) {
    // tidy: tf.variable keeps its own reference, so the zeros it starts from must not outlive it.
    this.velocities = params.map((p) => tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
  }

  /** v ← μv + g (+ λw);  w ← w − lr·(g + μv) with Nesterov, else w − lr·v. */
  apply(grads: tf.Tensor[], learningRate: number): void {
    const { momentum, nesterov, weightDecay } = this.config;
    tf.tidy(() => {
      this.params.forEach((p, i) => {
        let g = grads[i];
        if (weightDecay > 0 && p.rank > 1) g = g.add(p.mul(weightDecay));
        const v = this.velocities[i].mul(momentum).add(g);
        this.velocities[i].assign(v);
        const step = nesterov ? g.add(v.mul(momentum)) : v;
        p.assign(p.sub(step.mul(learningRate)));
      });
    });
  }

  dispose(): void {
    this.velocities.forEach((v) => v.dispose());
  }
}

/** Piecewise-constant learning rate: `base`, multiplied by `gamma` at each milestone epoch. */
export interface LrSchedule {
  base: number;
  milestones: number[];
  gamma: number;
  /** Linear warm-up from base/10 over this many epochs (helps short runs with BatchNorm). */
  warmupEpochs?: number;
}

/** Learning rate at a (fractional) epoch. */
export function learningRateAt(s: LrSchedule, epoch: number): number {
  const warm = s.warmupEpochs ?? 0;
  if (epoch < warm) return s.base * (0.1 + 0.9 * (epoch / warm));
  const passed = s.milestones.filter((m) => epoch >= m).length;
  return s.base * s.gamma ** passed;
}
