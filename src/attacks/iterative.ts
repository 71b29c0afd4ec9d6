import * as tf from '@tensorflow/tfjs';
import type { Classifier } from '../models/types.ts';
import { pixelsToUnit, unitEpsilon } from './epsilon.ts';
import { leastLikelyClass, lossGradientSign, type AttackOptions } from './gradient.ts';

export interface IterativeOptions extends AttackOptions {
  /** Radius of the L∞ ball, pixel units. */
  eps: number;
  /** Pixel units per step; default 1 (Kurakin et al. 2016). */
  stepSize?: number;
  /** Default round(min(ε + 4, 1.25ε)) (Kurakin et al. 2016). */
  steps?: number;
}

/** Kurakin, Goodfellow & Bengio (2016): enough steps to reach the ball's edge, and a few more. */
export function defaultIterations(eps: number): number {
  return Math.round(Math.min(eps + 4, 1.25 * eps));
}

/** Checks the options before any forward pass; returns the step count to run. */
function checkedSteps(opts: IterativeOptions): number {
  pixelsToUnit(opts.eps);
  pixelsToUnit(opts.stepSize ?? 1);
  const steps = opts.steps ?? defaultIterations(opts.eps);
  if (!Number.isInteger(steps) || steps < 0) {
    throw new RangeError(`steps must be an integer ≥ 0, got ${steps}`);
  }
  return steps;
}

/**
 * x_{k+1} = Clip_{x,ε}(x_k + direction·α·sign(∇ L(labels, x_k))), where Clip_{x,ε} is the
 * projection onto the L∞ ball of radius ε around x intersected with [0, 1]. Each step is
 * its own tidy so a long run holds only the current iterate.
 */
function iterate(
  model: Classifier,
  x: tf.Tensor4D,
  labels: tf.Tensor1D,
  direction: 1 | -1,
  steps: number,
  opts: IterativeOptions,
): tf.Tensor4D {
  const n = x.shape[0];
  const [lo, hi, alpha] = tf.tidy(() => {
    const e = unitEpsilon(opts.eps, n);
    return [
      tf.maximum(tf.sub(x, e), 0),
      tf.minimum(tf.add(x, e), 1),
      tf.mul(unitEpsilon(opts.stepSize ?? 1, n), direction),
    ];
  });
  let current = tf.clone(x);
  try {
    for (let k = 0; k < steps; k++) {
      const next = tf.tidy(() => {
        const sign = lossGradientSign(model, current, labels, opts);
        return tf.minimum(tf.maximum(tf.add(current, tf.mul(alpha, sign)), lo), hi) as tf.Tensor4D;
      });
      current.dispose();
      current = next;
    }
    return current;
  } catch (err) {
    current.dispose();
    throw err;
  } finally {
    tf.dispose([lo, hi, alpha]);
  }
}

/** Iterative FGSM / BIM with the true label. */
export function bim(model: Classifier, x: tf.Tensor4D, y: tf.Tensor1D, opts: IterativeOptions): tf.Tensor4D {
  return iterate(model, x, y, 1, checkedSteps(opts), opts);
}

/** Iterative least-likely: descends toward the least likely class of the clean x, kept fixed. */
export function iterLL(model: Classifier, x: tf.Tensor4D, opts: IterativeOptions): tf.Tensor4D {
  const steps = checkedSteps(opts);
  const target = leastLikelyClass(model, x, opts);
  try {
    return iterate(model, x, target, -1, steps, opts);
  } finally {
    target.dispose();
  }
}
