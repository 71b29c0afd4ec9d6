import * as tf from '@tensorflow/tfjs';
import { variable } from './layers.ts';

/**
 * Moving averages move this far toward each batch's statistics per training step. Keras
 * uses 0.99; the short CPU runs of the fast tier see few steps, and with 0.99 the averages
 * would still be close to their initial values at evaluation time.
 */
export const BN_MOMENTUM = 0.9;
export const BN_EPSILON = 1e-5;

export interface BatchNorm {
  gamma: tf.Variable;
  beta: tf.Variable;
  movingMean: tf.Variable;
  movingVar: tf.Variable;
}

export function batchNorm(channels: number, name: string): BatchNorm {
  return {
    gamma: variable(new Float32Array(channels).fill(1), [channels], `${name}/gamma`),
    beta: variable(new Float32Array(channels), [channels], `${name}/beta`),
    movingMean: variable(new Float32Array(channels), [channels], `${name}/moving_mean`, false),
    movingVar: variable(new Float32Array(channels).fill(1), [channels], `${name}/moving_var`, false),
  };
}

/**
 * Batch normalisation with batch statistics, with its gradient written out in closed form:
 * with x̂ = (x − μ)/σ and M values per channel,
 *   ∂β = Σ dy,  ∂γ = Σ dy·x̂,  ∂x = γ/σ · (dy − ∂β/M − x̂·∂γ/M).
 * tfjs's own route (tf.moments, then the FusedBatchNorm gradient, which tiles 1/σ to the
 * full activation shape) took a third of a ResNet-20 training step on wasm.
 * `onStats` sees the batch mean and (biased) variance, for the moving averages.
 */
function normaliseWithBatchStats(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  onStats: (mean: tf.Tensor1D, variance: tf.Tensor1D) => void,
): tf.Tensor4D {
  const op = tf.customGrad((...args) => {
    const [xs, g, b, save] = args as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
    const mean = tf.mean(xs, [0, 1, 2]) as tf.Tensor1D;
    const variance = tf.mean(tf.squaredDifference(xs, mean), [0, 1, 2]) as tf.Tensor1D;
    onStats(mean, variance);
    const invStd = tf.rsqrt(tf.add(variance, BN_EPSILON)) as tf.Tensor1D;
    save([xs, mean, invStd, g]);
    return {
      value: tf.batchNorm4d(xs, mean, variance, b, g, BN_EPSILON),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sMean, sInvStd, sGamma] = saved;
        const m = sx.size / sMean.size;
        const xHat = tf.mul(tf.sub(sx, sMean), sInvStd);
        const dBeta = tf.sum(dy, [0, 1, 2]);
        const dGamma = tf.sum(tf.mul(dy, xHat), [0, 1, 2]);
        const centred = tf.sub(tf.sub(dy, tf.div(dBeta, m)), tf.mul(xHat, tf.div(dGamma, m)));
        const dx = tf.mul(centred, tf.mul(sGamma, sInvStd));
        return [dx, dGamma, dBeta];
      },
    };
  });
  return op(x, gamma, beta) as tf.Tensor4D;
}

/**
 * Training normalises with the batch's own statistics (gradients flow through them) and
 * moves the averages; evaluation uses the averages and changes nothing.
 */
export function applyBatchNorm(l: BatchNorm, x: tf.Tensor4D, training: boolean): tf.Tensor4D {
  const gamma = l.gamma as tf.Tensor1D;
  const beta = l.beta as tf.Tensor1D;
  if (!training) return tf.batchNorm4d(x, l.movingMean as tf.Tensor1D, l.movingVar as tf.Tensor1D, beta, gamma, BN_EPSILON);
  return normaliseWithBatchStats(x, gamma, beta, (mean, variance) => {
    // The biased batch variance, as Keras keeps it; the difference is negligible at batch ≥ 32.
    l.movingMean.assign(tf.add(tf.mul(l.movingMean, BN_MOMENTUM), tf.mul(mean, 1 - BN_MOMENTUM)));
    l.movingVar.assign(tf.add(tf.mul(l.movingVar, BN_MOMENTUM), tf.mul(variance, 1 - BN_MOMENTUM)));
  });
}
