import * as tf from '@tensorflow/tfjs';
import { sgdUpdate } from '../backend/ops/index.ts';

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
        const decay = weightDecay > 0 && p.rank > 1 ? weightDecay : 0;
        const [v, w] = sgdUpdate(p, this.velocities[i], grads[i], { momentum, decay, learningRate, nesterov });
        this.velocities[i].assign(v);
        p.assign(w);
      });
    });
  }

  dispose(): void {
    this.velocities.forEach((v) => v.dispose());
  }
}

/**
 * Learning rate: `base`, multiplied by `gamma` at each milestone epoch; with `anneal:
 * 'linear'` also scaled down linearly from the end of the warm-up to 0 at the last epoch
 * (with no milestones and a warm-up, the one-cycle "triangle" of Page's ResNet-9 and
 * airbench, which short runs need: a step schedule spends too few steps at a low rate).
 */
export interface LrSchedule {
  base: number;
  milestones: number[];
  gamma: number;
  /** Linear warm-up from base/10 over this many epochs (helps short runs with BatchNorm). */
  warmupEpochs?: number;
  /** 'linear': decay to 0 at the end of training (the run's last epoch); absent: no decay. */
  anneal?: 'linear';
}

/** Learning rate at a (fractional) epoch of a run of `totalEpochs` (needed only by `anneal`). */
export function learningRateAt(s: LrSchedule, epoch: number, totalEpochs = Infinity): number {
  const warm = s.warmupEpochs ?? 0;
  if (epoch < warm) return s.base * (0.1 + 0.9 * (epoch / warm));
  const passed = s.milestones.filter((m) => epoch >= m).length;
  const stepped = s.base * s.gamma ** passed;
  if (s.anneal !== 'linear' || !Number.isFinite(totalEpochs) || totalEpochs <= warm) return stepped;
  return stepped * Math.max(0, (totalEpochs - epoch) / (totalEpochs - warm));
}
