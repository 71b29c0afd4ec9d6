import * as tf from '@tensorflow/tfjs';
import { attack, lossGradientSign, type AttackName } from '../attacks/index.ts';
import { makeBatch } from '../data/batches.ts';
import type { ImageSet } from '../data/types.ts';
import type { EpsPoint } from '../experiments/types.ts';
import type { Classifier } from '../models/types.ts';
import type { Rng } from '../util/rng.ts';

export interface AttackEval {
  attack: AttackName;
  /** 0–255 pixel units. */
  eps: number;
  /** Iterative attacks only; defaults are Kurakin et al.'s. */
  steps?: number;
  stepSize?: number;
}

export interface Evaluation {
  cleanAcc: number;
  cleanLoss: number;
  /** Keyed by attack name. */
  adversarial: Record<string, { acc: number; loss: number }>;
  /** Loss and accuracy along the sign of the clean gradient (the write-up's figure). */
  lossVsEps?: EpsPoint[];
}

interface Tally {
  correct: number;
  loss: number;
}

/** Adds x's correct count and summed loss to `into`; with `owned`, x is disposed afterwards whatever happens. */
async function tally(model: Classifier, x: tf.Tensor4D, y: tf.Tensor1D, into: Tally, owned = false): Promise<void> {
  try {
    const [correct, loss] = tf.tidy(() => {
      const logits = model.logits(x, false);
      const c = logits.argMax(1).equal(y.toInt()).sum();
      const l = tf.losses.softmaxCrossEntropy(tf.oneHot(y, model.numClasses), logits, undefined, undefined, tf.Reduction.SUM);
      return [c, l];
    });
    try {
      // Asynchronous reads: webgpu in Node has no synchronous GPU readback.
      const [c, l] = await Promise.all([correct.data(), loss.data()]);
      into.correct += c[0];
      into.loss += l[0];
    } finally {
      tf.dispose([correct, loss]);
    }
  } finally {
    if (owned) x.dispose();
  }
}

/**
 * Clean and adversarial accuracy and mean cross-entropy on `set`, in batches. The
 * loss-versus-ε sweep moves every image along sign(∇ₓL) of its clean gradient, taken once,
 * exactly as the write-up's curve: x + ε·sign(∇ₓL(x, y_true)), clipped to [0, 1].
 */
export async function evaluate(
  model: Classifier,
  set: ImageSet,
  opts: { batchSize: number; attacks: AttackEval[]; epsSweep?: number[]; rng: Rng },
): Promise<Evaluation> {
  const clean: Tally = { correct: 0, loss: 0 };
  const adv = opts.attacks.map(() => ({ correct: 0, loss: 0 }));
  const sweep = (opts.epsSweep ?? []).map(() => ({ correct: 0, loss: 0 }));
  for (let start = 0; start < set.count; start += opts.batchSize) {
    const idx = Array.from({ length: Math.min(opts.batchSize, set.count - start) }, (_, i) => start + i);
    const { x, y } = makeBatch(set, idx);
    try {
      await tally(model, x, y, clean);
      for (const [i, a] of opts.attacks.entries()) {
        const xa = attack(a.attack, model, x, y, a.eps, { training: false, rng: opts.rng, steps: a.steps, stepSize: a.stepSize });
        await tally(model, xa, y, adv[i], true);
      }
      if (sweep.length > 0) {
        const direction = lossGradientSign(model, x, y, { training: false });
        try {
          for (const [i, eps] of opts.epsSweep!.entries()) {
            const moved = tf.tidy(() => x.add(direction.mul(eps / 255)).clipByValue(0, 1) as tf.Tensor4D);
            await tally(model, moved, y, sweep[i], true);
          }
        } finally {
          direction.dispose();
        }
      }
    } finally {
      tf.dispose([x, y]);
    }
  }
  const n = set.count;
  const adversarial: Evaluation['adversarial'] = {};
  opts.attacks.forEach((a, i) => (adversarial[a.attack] = { acc: adv[i].correct / n, loss: adv[i].loss / n }));
  return {
    cleanAcc: clean.correct / n,
    cleanLoss: clean.loss / n,
    adversarial,
    lossVsEps: opts.epsSweep?.map((eps, i) => ({ eps, loss: sweep[i].loss / n, acc: sweep[i].correct / n })),
  };
}
