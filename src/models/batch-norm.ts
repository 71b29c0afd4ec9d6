import * as tf from '@tensorflow/tfjs';
import {
  batchStats,
  fusedBatchNormAvailable,
  movingAverage,
  normalise,
  normaliseGrads,
  normaliseGradXFixed,
  shortcutGrad,
  type ChannelStats,
  type FusedShortcut,
} from '../backend/webgpu-batch-norm.ts';
import { channelAffine, channelSum } from './channel-ops.ts';
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

/** A layer's variables, in the order models list them (checkpoints rely on it): γ, β for the optimiser; the moving averages as state. */
export function bnVariables(b: BatchNorm): { trainable: tf.Variable[]; state: tf.Variable[] } {
  return { trainable: [b.gamma, b.beta], state: [b.movingMean, b.movingVar] };
}

export function batchNorm(channels: number, name: string): BatchNorm {
  return {
    gamma: variable(new Float32Array(channels).fill(1), [channels], `${name}/gamma`),
    beta: variable(new Float32Array(channels), [channels], `${name}/beta`),
    movingMean: variable(new Float32Array(channels), [channels], `${name}/moving_mean`, false),
    movingVar: variable(new Float32Array(channels).fill(1), [channels], `${name}/moving_var`, false),
  };
}

/** ∂ of a ReLU that produced y: dy where y > 0. */
function throughRelu(dy: tf.Tensor, y: tf.Tensor | undefined): tf.Tensor4D {
  return (y === undefined ? dy : tf.mul(dy, tf.step(y))) as tf.Tensor4D;
}

/**
 * Batch normalisation with the batch's own statistics (optionally followed by ReLU), with
 * the gradient written out in closed form: with x̂ = (x − μ)/σ and M values per channel,
 *   ∂β = Σ dy,  ∂γ = Σ dy·x̂,  ∂x = γ/σ · (dy − ∂β/M − x̂·∂γ/M).
 * tfjs's own route (tf.moments, then FusedBatchNorm's gradient, which tiles 1/σ to the full
 * activation shape) took a third of a ResNet-20 training step on wasm.
 * `onStats` sees the batch mean and (biased) variance, for the moving averages.
 */
function normaliseWithBatchStats(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  relu: boolean,
  onStats: (mean: tf.Tensor1D, variance: tf.Tensor1D) => void,
): tf.Tensor4D {
  const op = tf.customGrad((...args) => {
    const [xs, g, b, save] = args as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
    const m = xs.size / xs.shape[3];
    const mean = tf.div(channelSum(xs), m) as tf.Tensor1D;
    const centred = channelAffine(xs, tf.onesLike(mean), tf.neg(mean));
    const variance = tf.div(channelSum(tf.mul(centred, centred) as tf.Tensor4D), m) as tf.Tensor1D;
    onStats(mean, variance);
    const invStd = tf.rsqrt(tf.add(variance, BN_EPSILON)) as tf.Tensor1D;
    const scale = tf.mul(g, invStd) as tf.Tensor1D;
    const y = channelAffine(xs, scale, tf.sub(b, tf.mul(mean, scale)) as tf.Tensor1D, relu);
    save(relu ? [xs, mean, invStd, g, y] : [xs, mean, invStd, g]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sMean, sInvStd, sGamma, sy] = saved as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D, tf.Tensor?];
        const gy = throughRelu(dy, sy);
        const xHat = channelAffine(sx, sInvStd, tf.neg(tf.mul(sMean, sInvStd)) as tf.Tensor1D);
        const dBeta = channelSum(gy);
        const dGamma = channelSum(tf.mul(gy, xHat) as tf.Tensor4D);
        const a = tf.mul(sGamma, sInvStd) as tf.Tensor1D;
        const dx = tf.add(
          channelAffine(gy, a, tf.neg(tf.mul(a, tf.div(dBeta, m))) as tf.Tensor1D),
          channelAffine(xHat, tf.neg(tf.mul(a, tf.div(dGamma, m))) as tf.Tensor1D, null),
        );
        return [dx, dGamma, dBeta];
      },
    };
  });
  return op(x, gamma, beta) as tf.Tensor4D;
}

/**
 * Inference-mode normalisation with the moving averages, y = γ(x − μ̄)/σ̄ + β, as one
 * per-channel affine map. Attacks differentiate it with respect to x, so it carries its own
 * gradient (the affine map's kernel has no gradient on wasm).
 */
function normaliseWithMovingStats(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  movingMean: tf.Tensor1D,
  movingVar: tf.Tensor1D,
  relu: boolean,
): tf.Tensor4D {
  const op = tf.customGrad((...args) => {
    const [xs, g, b, save] = args as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
    const invStd = tf.rsqrt(tf.add(movingVar, BN_EPSILON)) as tf.Tensor1D;
    const scale = tf.mul(g, invStd) as tf.Tensor1D;
    const y = channelAffine(xs, scale, tf.sub(b, tf.mul(movingMean, scale)) as tf.Tensor1D, relu);
    save(relu ? [xs, invStd, g, y] : [xs, invStd, g]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sInvStd, sGamma, sy] = saved as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.Tensor?];
        const gy = throughRelu(dy, sy);
        const xHat = channelAffine(sx, sInvStd, tf.neg(tf.mul(movingMean, sInvStd)) as tf.Tensor1D);
        return [
          channelAffine(gy, tf.mul(sGamma, sInvStd) as tf.Tensor1D, null),
          channelSum(tf.mul(gy, xHat) as tf.Tensor4D),
          channelSum(gy),
        ];
      },
    };
  });
  return op(x, gamma, beta) as tf.Tensor4D;
}

/**
 * A residual connection added after the normalisation and before the ReLU: ResNet's
 * shortcut, `x` itself, or with `project` the paper's option A (x[:, ::s, ::s, :] with
 * `extraChannels` zero channels appended; no parameters).
 */
export interface Residual {
  x: tf.Tensor4D;
  project: { stride: number; extraChannels: number } | null;
}

function shortcut(x: tf.Tensor4D, p: Residual['project']): tf.Tensor4D {
  if (p === null) return x;
  // A 1×1 average pool with stride s is x[:, ::s, ::s, :] with a gradient wasm has; 'valid'
  // gives the same size as 'same' for a 1×1 window and avoids wasm's SAME-padding bug.
  const sub = p.stride === 1 ? x : tf.avgPool(x, 1, p.stride, 'valid');
  return p.extraChannels > 0 ? tf.pad(sub, [[0, 0], [0, 0], [0, 0], [0, p.extraChannels]]) : sub;
}

/**
 * BatchNorm, then (when given) the residual added, then ReLU when `relu` is set. Training
 * normalises with the batch's own statistics (gradients flow through them) and moves the
 * averages; evaluation uses the averages and changes nothing.
 *
 * On webgpu and wasm this runs as fused kernels (src/backend/webgpu-batch-norm.ts,
 * src/backend/wasm-batch-norm.ts; one set of ops, each backend's kernels). There, evaluation
 * mode treats γ, β and the moving statistics as constants: it differentiates with respect to
 * x (and the residual input) only, since nothing here trains in evaluation mode (training
 * steps pass training = true; attacks differentiate evaluation mode with respect to the
 * input). Asking it for ∂γ or ∂β gets no gradient. cpu (and tensorflow) differentiate all of them.
 */
export function applyBatchNorm(l: BatchNorm, x: tf.Tensor4D, training: boolean, relu = false, residual?: Residual): tf.Tensor4D {
  if (fusedBatchNormAvailable()) return fusedBatchNorm(l, x, training, relu, residual);
  if (residual === undefined) return unfusedBatchNorm(l, x, training, relu);
  // ResNet's block as it always was on cpu and wasm: BN, add the shortcut, ReLU.
  const sum = tf.add(unfusedBatchNorm(l, x, training, false), shortcut(residual.x, residual.project)) as tf.Tensor4D;
  return relu ? tf.relu(sum) : sum;
}

function unfusedBatchNorm(l: BatchNorm, x: tf.Tensor4D, training: boolean, relu: boolean): tf.Tensor4D {
  const gamma = l.gamma as tf.Tensor1D;
  const beta = l.beta as tf.Tensor1D;
  if (!training) {
    return normaliseWithMovingStats(x, gamma, beta, l.movingMean as tf.Tensor1D, l.movingVar as tf.Tensor1D, relu);
  }
  return normaliseWithBatchStats(x, gamma, beta, relu, (mean, variance) => {
    // The biased batch variance, as Keras keeps it; the difference is negligible at batch ≥ 32.
    l.movingMean.assign(tf.add(tf.mul(l.movingMean, BN_MOMENTUM), tf.mul(mean, 1 - BN_MOMENTUM)));
    l.movingVar.assign(tf.add(tf.mul(l.movingVar, BN_MOMENTUM), tf.mul(variance, 1 - BN_MOMENTUM)));
  });
}

/** The fused form of applyBatchNorm (webgpu, wasm): the same arithmetic in fused kernels, with the same gradients. */
function fusedBatchNorm(l: BatchNorm, x: tf.Tensor4D, training: boolean, relu: boolean, residual?: Residual): tf.Tensor4D {
  const gamma = l.gamma as tf.Tensor1D;
  const beta = l.beta as tf.Tensor1D;
  const stride = residual?.project?.stride ?? 1;
  const fused = (s: tf.Tensor4D | undefined): FusedShortcut | undefined => (s === undefined ? undefined : { x: s, stride });
  const inputs: tf.Tensor[] = residual === undefined ? [] : [residual.x];
  if (!training) {
    const moving: ChannelStats = { mean: l.movingMean as tf.Tensor1D, variance: l.movingVar as tf.Tensor1D, varianceOffset: 0 };
    // γ, β and the moving statistics are closed over, not inputs: no gradient reaches them.
    const op = tf.customGrad((...args) => {
      const save = args.pop() as tf.GradSaveFunc;
      const [xs, s] = args as [tf.Tensor4D, tf.Tensor4D?];
      const y = normalise(xs, moving, gamma, beta, BN_EPSILON, relu, fused(s));
      save(relu ? [y] : []);
      return {
        value: y,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const sy = saved[0] as tf.Tensor4D | undefined;
          const dx = normaliseGradXFixed(dy as tf.Tensor4D, sy, moving, gamma, BN_EPSILON, relu);
          return s === undefined ? [dx] : [dx, shortcutGrad(dy as tf.Tensor4D, sy, relu, stride, s.shape)];
        },
      };
    });
    return op(x, ...inputs) as tf.Tensor4D;
  }
  const op = tf.customGrad((...args) => {
    const save = args.pop() as tf.GradSaveFunc;
    const [xs, g, b, s] = args as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.Tensor4D?];
    const stats = batchStats(xs);
    l.movingMean.assign(movingAverage(l.movingMean as tf.Tensor1D, stats, 'mean', BN_MOMENTUM));
    l.movingVar.assign(movingAverage(l.movingVar as tf.Tensor1D, stats, 'variance', BN_MOMENTUM));
    const y = normalise(xs, stats, g, b, BN_EPSILON, relu, fused(s));
    save(relu ? [xs, stats.mean, g, y] : [xs, stats.mean, g]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sStats, sGamma, sy] = saved as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.Tensor4D?];
        const batch: ChannelStats = { mean: sStats, variance: sStats, varianceOffset: sx.shape[3] };
        const grads: tf.Tensor[] = normaliseGrads(dy as tf.Tensor4D, sy, sx, batch, sGamma, BN_EPSILON, relu);
        if (s !== undefined) grads.push(shortcutGrad(dy as tf.Tensor4D, sy, relu, stride, s.shape));
        return grads;
      },
    };
  });
  return op(x, gamma, beta, ...inputs) as tf.Tensor4D;
}
