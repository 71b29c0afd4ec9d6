import * as tf from '@tensorflow/tfjs';
import { attack, fgsmAlong, lossGradientSign } from '../attacks/index.ts';
import type { AttackName } from '../spec/names.ts';
import { makeBatch } from '../data/batches.ts';
import type { ImageSet } from '../data/types.ts';
import type { Classifier } from '../models/types.ts';
import type { Rng } from '../util/rng.ts';

/** One point of the write-up's loss-versus-ε curve (ε in 0–255 pixel units). */
export interface EpsPoint {
  eps: number;
  loss: number;
  acc: number;
}

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
  /** The same, at the `alongSign` ε values, kept apart from the curve. */
  alongSign?: EpsPoint[];
  /** Mean over images of the perturbation's L∞ size, 0–255 pixel units, keyed by attack name: what the attack really moved. */
  perturbation?: Record<string, number>;
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
 * loss-versus-ε sweep is FGSM at each ε, as the write-up's curve: every image moves along
 * the sign of its clean true-label gradient, taken once per batch for all ε.
 *
 * `alongSign`: ε values at which the loss along the same sign is reported without joining the
 * curve (preconditions read the loss at a small ε: it rises for any model, leaking or not).
 * `perturbationSize`: also measure each attack's mean L∞ step (a no-op attack shows 0).
 * Neither draws from `rng` nor changes any other number.
 */
export async function evaluate(
  model: Classifier,
  set: ImageSet,
  opts: {
    batchSize: number;
    attacks: AttackEval[];
    epsSweep?: number[];
    alongSign?: number[];
    perturbationSize?: boolean;
    rng: Rng;
    /** Images done so far, after each batch: for a progress bar over attacks that take minutes. */
    onBatch?: (done: number) => void;
  },
): Promise<Evaluation> {
  const clean: Tally = { correct: 0, loss: 0 };
  const adv = opts.attacks.map(() => ({ correct: 0, loss: 0 }));
  const linf = opts.attacks.map(() => 0);
  const sweep = (opts.epsSweep ?? []).map(() => ({ correct: 0, loss: 0 }));
  const along = (opts.alongSign ?? []).map(() => ({ correct: 0, loss: 0 }));
  for (let start = 0; start < set.count; start += opts.batchSize) {
    const idx = Array.from({ length: Math.min(opts.batchSize, set.count - start) }, (_, i) => start + i);
    const { x, y } = makeBatch(set, idx);
    try {
      await tally(model, x, y, clean);
      for (const [i, a] of opts.attacks.entries()) {
        const xa = attack(a.attack, model, x, y, a.eps, { training: false, rng: opts.rng, steps: a.steps, stepSize: a.stepSize });
        if (opts.perturbationSize) {
          const size = tf.tidy(() => xa.sub(x).abs().max([1, 2, 3]).sum());
          try {
            linf[i] += (await size.data())[0] * 255;
          } finally {
            size.dispose();
          }
        }
        await tally(model, xa, y, adv[i], true);
      }
      if (sweep.length > 0 || along.length > 0) {
        const direction = lossGradientSign(model, x, y, { training: false });
        try {
          for (const [i, eps] of (opts.epsSweep ?? []).entries()) {
            await tally(model, fgsmAlong(x, direction, eps), y, sweep[i], true);
          }
          for (const [i, eps] of (opts.alongSign ?? []).entries()) {
            await tally(model, fgsmAlong(x, direction, eps), y, along[i], true);
          }
        } finally {
          direction.dispose();
        }
      }
    } finally {
      tf.dispose([x, y]);
    }
    opts.onBatch?.(idx.length + start);
  }
  const n = set.count;
  const adversarial: Evaluation['adversarial'] = {};
  opts.attacks.forEach((a, i) => (adversarial[a.attack] = { acc: adv[i].correct / n, loss: adv[i].loss / n }));
  return {
    cleanAcc: clean.correct / n,
    cleanLoss: clean.loss / n,
    adversarial,
    lossVsEps: opts.epsSweep?.map((eps, i) => ({ eps, loss: sweep[i].loss / n, acc: sweep[i].correct / n })),
    ...(opts.alongSign ? { alongSign: opts.alongSign.map((eps, i) => ({ eps, loss: along[i].loss / n, acc: along[i].correct / n })) } : {}),
    ...(opts.perturbationSize ? { perturbation: Object.fromEntries(opts.attacks.map((a, i) => [a.attack, linf[i] / n])) } : {}),
  };
}
