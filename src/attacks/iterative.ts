import * as tf from '@tensorflow/tfjs';
import type { Classifier } from '../models/types.ts';
import type { Rng } from '../util/rng.ts';
import { pixelsToUnit, unitEpsilon, type Epsilon } from './epsilon.ts';
import { crossEntropyEach, leastLikelyClass, lossAndGradientSign, lossGradientSign, type AttackOptions } from './gradient.ts';

export interface IterativeOptions extends AttackOptions {
  /** Radius of the L∞ ball, pixel units. */
  eps: number;
  /** Pixel units per step; default 1 (Kurakin et al. 2016). */
  stepSize?: number;
  /** Default round(min(ε + 4, 1.25ε)) (Kurakin et al. 2016). */
  steps?: number;
}

export interface PgdOptions extends Omit<IterativeOptions, 'eps'> {
  /** Radius of the L∞ ball, pixel units; a tensor gives one per example (then `steps` is required). */
  eps: Epsilon;
  /** Draws the uniform random start, so a seed fixes the attack. */
  rng: Rng;
}

/** Kurakin, Goodfellow & Bengio (2016): enough steps to reach the ball's edge, and a few more. */
export function defaultIterations(eps: number): number {
  return Math.round(Math.min(eps + 4, 1.25 * eps));
}

/** Checks the options before any forward pass; returns the step count to run. */
function checkedSteps(eps: Epsilon, opts: Omit<IterativeOptions, 'eps'>): number {
  if (typeof eps === 'number') pixelsToUnit(eps);
  else if (opts.steps === undefined) {
    throw new Error('a per-example ε needs opts.steps: the default step count depends on one ε');
  }
  pixelsToUnit(opts.stepSize ?? 1);
  const steps = opts.steps ?? defaultIterations(eps as number);
  if (!Number.isInteger(steps) || steps < 0) {
    throw new RangeError(`steps must be an integer ≥ 0, got ${steps}`);
  }
  return steps;
}

/** Where an iteration starts, what it ascends, and whether it returns its best iterate or its last. */
interface Walk {
  labels: tf.Tensor1D;
  /** Away from the labels (+1, raises their loss) or toward them (−1). */
  direction: 1 | -1;
  steps: number;
  eps: Epsilon;
  /** Owned by the walk (disposed or returned); absent: x itself. */
  start?: tf.Tensor4D;
  /** Keep, per example, the iterate of highest loss seen, the start included (else the last). */
  keepBest?: boolean;
}

/** The L∞ ball of radius ε around x intersected with [0, 1], as elementwise bounds. */
function ballBounds(x: tf.Tensor4D, eps: Epsilon): [tf.Tensor, tf.Tensor] {
  return tf.tidy(() => {
    const e = unitEpsilon(eps, x.shape[0]);
    return [tf.maximum(tf.sub(x, e), 0), tf.minimum(tf.add(x, e), 1)];
  });
}

/**
 * x_{k+1} = Clip_{x,ε}(x_k + direction·α·sign(∇ L(labels, x_k))), where Clip_{x,ε} is the
 * projection onto the L∞ ball of radius ε around x intersected with [0, 1]. Each step is
 * its own tidy so a long run holds only the current iterate (and, keeping the best, that one).
 */
function iterate(model: Classifier, x: tf.Tensor4D, walk: Walk, opts: Omit<IterativeOptions, 'eps'>): tf.Tensor4D {
  const n = x.shape[0];
  const [lo, hi] = ballBounds(x, walk.eps);
  const alpha = tf.tidy(() => tf.mul(unitEpsilon(opts.stepSize ?? 1, n), walk.direction));
  let current = walk.start ?? tf.clone(x);
  /** The best iterate so far and its loss per example; empty until the first loss is known. */
  const best: tf.Tensor[] = [];
  /** Makes `current` the best where its loss is higher (the first call takes it everywhere); disposes `loss`. */
  const keep = (loss: tf.Tensor1D) => {
    const next = tf.tidy(() => {
      if (best.length === 0) return [tf.clone(current), tf.clone(loss)];
      const higher = tf.greater(loss, best[1]);
      return [tf.where(tf.reshape(higher, [n, 1, 1, 1]), current, best[0]), tf.where(higher, loss, best[1])];
    });
    tf.dispose([loss, ...best.splice(0, 2, ...next)]);
  };
  try {
    for (let k = 0; k < walk.steps; k++) {
      let sign: tf.Tensor4D;
      if (walk.keepBest) {
        const step = lossAndGradientSign(model, current, walk.labels, opts);
        keep(step.loss);
        sign = step.sign;
      } else {
        sign = lossGradientSign(model, current, walk.labels, opts);
      }
      const next = tf.tidy(() => tf.minimum(tf.maximum(tf.add(current, tf.mul(alpha, sign)), lo), hi) as tf.Tensor4D);
      tf.dispose([current, sign]);
      current = next;
    }
    if (!walk.keepBest || walk.steps === 0) return current;
    keep(tf.tidy(() => crossEntropyEach(walk.labels, model.logits(current, opts.training ?? false))));
    current.dispose();
    best[1].dispose();
    return best[0] as tf.Tensor4D;
  } catch (err) {
    tf.dispose([current, ...best]);
    throw err;
  } finally {
    tf.dispose([lo, hi, alpha]);
  }
}

/** Iterative FGSM / BIM with the true label. */
export function bim(model: Classifier, x: tf.Tensor4D, y: tf.Tensor1D, opts: IterativeOptions): tf.Tensor4D {
  return iterate(model, x, { labels: y, direction: 1, steps: checkedSteps(opts.eps, opts), eps: opts.eps }, opts);
}

/** Iterative least-likely: descends toward the least likely class of the clean x, kept fixed. */
export function iterLL(model: Classifier, x: tf.Tensor4D, opts: IterativeOptions): tf.Tensor4D {
  const steps = checkedSteps(opts.eps, opts);
  const target = leastLikelyClass(model, x, opts);
  try {
    return iterate(model, x, { labels: target, direction: -1, steps, eps: opts.eps }, opts);
  } finally {
    target.dispose();
  }
}

/** A uniform draw from the L∞ ball of radius ε around x, clipped to [0, 1]: Madry et al.'s random start. */
export function randomStart(x: tf.Tensor4D, eps: Epsilon, rng: Rng): tf.Tensor4D {
  const u = new Float32Array(x.size);
  for (let i = 0; i < u.length; i++) u[i] = rng.next();
  return tf.tidy(() => {
    const [lo, hi] = ballBounds(x, eps);
    const offset = tf.mul(tf.sub(tf.mul(tf.tensor(u, x.shape), 2), 1), unitEpsilon(eps, x.shape[0]));
    return tf.minimum(tf.maximum(tf.add(x, offset), lo), hi) as tf.Tensor4D;
  });
}

/**
 * Projected gradient descent on the true label's loss (Madry et al. 2018): BIM's steps from a
 * seeded uniform random start in the ε-ball. Madry et al. return the last iterate; this returns,
 * per example, the iterate of highest loss, the start included (as AutoAttack's APGD does), so
 * an evaluation never reports PGD weaker than its own random start. One forward pass more than
 * `steps` (the loss of the last iterate); none with zero steps.
 */
export function pgd(model: Classifier, x: tf.Tensor4D, y: tf.Tensor1D, opts: PgdOptions): tf.Tensor4D {
  const steps = checkedSteps(opts.eps, opts);
  const start = randomStart(x, opts.eps, opts.rng);
  return iterate(model, x, { labels: y, direction: 1, steps, eps: opts.eps, start, keepBest: true }, opts);
}
