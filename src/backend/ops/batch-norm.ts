import * as tf from '@tensorflow/tfjs';
import { defineOp, normals } from './op.ts';
import { batchStats } from './batch-norm/stats.ts';
import { movingAverage } from './batch-norm/moving-average.ts';
import { normalise } from './batch-norm/normalise.ts';
import { gradSum } from './batch-norm/grad-sum.ts';
import { gradX } from './batch-norm/grad-x.ts';
import { grads } from './batch-norm/grads.ts';
import { gradShortcut } from './batch-norm/grad-shortcut.ts';

/**
 * Moving averages move this far toward each batch's statistics per training step. Keras
 * uses 0.99; the short CPU runs of the fast tier see few steps, and with 0.99 the averages
 * would still be close to their initial values at evaluation time.
 */
export const BN_MOMENTUM = 0.9;
export const BN_EPSILON = 1e-5;

/** A layer's variables. */
export interface BatchNormVariables {
  gamma: tf.Variable;
  beta: tf.Variable;
  movingMean: tf.Variable;
  movingVar: tf.Variable;
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

type BatchNormLayer = (l: BatchNormVariables, x: tf.Tensor4D, training: boolean, relu: boolean, residual?: Residual) => tf.Tensor4D;

// ---- The reference: tfjs's ops (cpu, tensorflow).

/** Σ over batch, height and width: [N, H, W, C] → [C]. */
const channelSum = (x: tf.Tensor4D): tf.Tensor1D => tf.sum(x, [0, 1, 2]);

/** x·scale + shift per channel, optionally followed by ReLU. */
function channelAffine(x: tf.Tensor4D, scale: tf.Tensor1D, shift: tf.Tensor1D | null, relu = false): tf.Tensor4D {
  return tf.tidy(() => {
    const y = shift ? tf.add(tf.mul(x, scale), shift) : tf.mul(x, scale);
    return (relu ? tf.relu(y) : y) as tf.Tensor4D;
  });
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
 * per-channel affine map, with its own gradient.
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

function shortcut(x: tf.Tensor4D, p: Residual['project']): tf.Tensor4D {
  if (p === null) return x;
  // A 1×1 average pool with stride s is x[:, ::s, ::s, :] with a gradient wasm has; 'valid'
  // gives the same size as 'same' for a 1×1 window and avoids wasm's SAME-padding bug.
  const sub = p.stride === 1 ? x : tf.avgPool(x, 1, p.stride, 'valid');
  return p.extraChannels > 0 ? tf.pad(sub, [[0, 0], [0, 0], [0, 0], [0, p.extraChannels]]) : sub;
}

function unfused(l: BatchNormVariables, x: tf.Tensor4D, training: boolean, relu: boolean): tf.Tensor4D {
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

const reference: BatchNormLayer = (l, x, training, relu, residual) => {
  if (residual === undefined) return unfused(l, x, training, relu);
  // ResNet's block: BN, add the shortcut, ReLU.
  const sum = tf.add(unfused(l, x, training, false), shortcut(residual.x, residual.project)) as tf.Tensor4D;
  return relu ? tf.relu(sum) : sum;
};

// ---- The fused form: the kernels of batch-norm/*.ts (webgpu, wasm).

function checkShortcut(out: number[], s: number[], stride: number): void {
  const [n, h, w, c] = out;
  if (s[0] !== n || Math.ceil(s[1] / stride) !== h || Math.ceil(s[2] / stride) !== w || s[3] > c) {
    throw new Error(`batch norm shortcut: input [${s}] with stride ${stride} does not fit the output [${out}]`);
  }
}

/**
 * The same arithmetic in fused kernels, with the same gradients, except that evaluation mode
 * treats γ, β and the moving statistics as constants: it differentiates with respect to x (and
 * the residual input) only, since nothing trains in evaluation mode (training steps pass
 * training = true; attacks differentiate evaluation mode with respect to the input). Asking it
 * for ∂γ or ∂β gets no gradient.
 */
const fused: BatchNormLayer = (l, x, training, relu, residual) => {
  const gamma = l.gamma as tf.Tensor1D;
  const beta = l.beta as tf.Tensor1D;
  const stride = residual?.project?.stride ?? 1;
  const inputs: tf.Tensor[] = residual === undefined ? [] : [residual.x];
  const norm = (xs: tf.Tensor4D, mean: tf.Tensor1D, variance: tf.Tensor1D, varianceOffset: number, g: tf.Tensor1D, b: tf.Tensor1D, s?: tf.Tensor4D) => {
    if (s !== undefined) checkShortcut(xs.shape, s.shape, stride);
    return normalise({ x: xs, mean, variance, gamma: g, beta: b, shortcut: s }, { epsilon: BN_EPSILON, varianceOffset, relu, stride });
  };
  const shortcutGrad = (dy: tf.Tensor4D, y: tf.Tensor4D | undefined, s: tf.Tensor4D) => gradShortcut(dy, y, { relu, stride, shape: s.shape });
  if (!training) {
    const movingVar = l.movingVar as tf.Tensor1D;
    // γ, β and the moving statistics are closed over, not inputs: no gradient reaches them.
    const op = tf.customGrad((...args) => {
      const save = args.pop() as tf.GradSaveFunc;
      const [xs, s] = args as [tf.Tensor4D, tf.Tensor4D?];
      const y = norm(xs, l.movingMean as tf.Tensor1D, movingVar, 0, gamma, beta, s);
      save(relu ? [y] : []);
      return {
        value: y,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const sy = saved[0] as tf.Tensor4D | undefined;
          const dx = gradX({ dy: dy as tf.Tensor4D, y: sy, stats: movingVar, gamma }, { epsilon: BN_EPSILON, relu, varianceOffset: 0 });
          return s === undefined ? [dx] : [dx, shortcutGrad(dy as tf.Tensor4D, sy, s)];
        },
      };
    });
    return op(x, ...inputs) as tf.Tensor4D;
  }
  const op = tf.customGrad((...args) => {
    const save = args.pop() as tf.GradSaveFunc;
    const [xs, g, b, s] = args as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.Tensor4D?];
    const ch = xs.shape[3];
    // Mean in [0, C), variance in [C, 2C).
    const stats = batchStats(xs);
    l.movingMean.assign(movingAverage(l.movingMean as tf.Tensor1D, stats, { momentum: BN_MOMENTUM, offset: 0 }));
    l.movingVar.assign(movingAverage(l.movingVar as tf.Tensor1D, stats, { momentum: BN_MOMENTUM, offset: ch }));
    const y = norm(xs, stats, stats, ch, g, b, s);
    save(relu ? [xs, stats, g, y] : [xs, stats, g]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sStats, sGamma, sy] = saved as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.Tensor4D?];
        const d = dy as tf.Tensor4D;
        const epsilon = BN_EPSILON;
        let out: tf.Tensor[];
        if (grads.runsHere()) {
          out = grads({ dy: d, y: sy, x: sx, stats: sStats, gamma: sGamma }, { epsilon, relu });
        } else {
          const sums = { dy: d, y: sy, x: sx, stats: sStats };
          const dGamma = gradSum(sums, { epsilon, relu, of: 'gamma' });
          const dBeta = gradSum(sums, { epsilon, relu, of: 'beta' });
          out = [gradX({ dy: d, y: sy, stats: sStats, gamma: sGamma, x: sx, dGamma, dBeta }, { epsilon, relu, varianceOffset: ch }), dGamma, dBeta];
        }
        if (s !== undefined) out.push(shortcutGrad(d, sy, s));
        return out;
      },
    };
  });
  return op(x, gamma, beta, ...inputs) as tf.Tensor4D;
};

/**
 * BatchNorm, then (when given) the residual added, then ReLU when `relu` is set. Training
 * normalises with the batch's own statistics (gradients flow through them) and moves the
 * averages; evaluation uses the averages and changes nothing. Fused (see `fused`) where the
 * active backend has the normalise kernel.
 */
export const batchNorm = defineOp<BatchNormLayer>({
  name: 'batch norm (layer)',
  reference,
  fused,
  kernels: {},
  parts: [normalise, batchStats, movingAverage, gradSum, gradX, grads, gradShortcut],
  check: {
    // ∂x (and the shortcut's ∂) always; ∂γ, ∂β and the moving averages in training.
    run: (rng, call) => {
      const cs = 1 + rng.int(6);
      const kind = rng.int(3); // no shortcut, identity, projection
      const stride = kind === 2 ? 1 + rng.int(2) : 1;
      const extra = kind === 2 ? rng.int(3) : 0;
      const [n, hs, ws] = [1 + rng.int(4), 1 + rng.int(7), 1 + rng.int(7)];
      const shape: [number, number, number, number] = [n, Math.ceil(hs / stride), Math.ceil(ws / stride), cs + extra];
      const training = rng.next() < 0.5 && n * shape[1] * shape[2] >= 3;
      const relu = rng.next() < 0.5;
      const c = cs + extra;
      const vec = (scale: number, shift: number) => tf.tensor1d(normals(c, rng).map((v) => shift + scale * v));
      const l: BatchNormVariables = {
        gamma: tf.variable(vec(0.5, 1)),
        beta: tf.variable(vec(1, 0)),
        movingMean: tf.variable(vec(0.3, 0), false),
        movingVar: tf.variable(tf.abs(vec(0.2, 1.5)), false),
      };
      const x = tf.tensor4d(normals(tf.util.sizeFromShape(shape), rng), shape);
      const s = kind === 0 ? undefined : tf.tensor4d(normals(n * hs * ws * cs, rng), [n, hs, ws, cs]);
      const r = tf.tensor4d(normals(x.size, rng), shape);
      const residual = s === undefined ? undefined : { x: s, project: kind === 2 ? { stride, extraChannels: extra } : null };
      // tf.grads hands f the very tensors it differentiates: γ and β are the layer's own.
      const wrt: tf.Tensor[] = [x, ...(s ? [s] : []), ...(training ? [l.gamma, l.beta] : [])];
      const f = (...ts: tf.Tensor[]) => tf.sum(tf.mul(call(l, ts[0] as tf.Tensor4D, training, relu, residual && { ...residual, x: ts[1] as tf.Tensor4D }), r));
      const y = call(l, x, training, relu, residual);
      const out = [y, ...tf.grads(f)(wrt), l.movingMean.clone(), l.movingVar.clone()];
      tf.dispose([l.gamma, l.beta, l.movingMean, l.movingVar]);
      return out;
    },
    tolerance: 1e-5,
    why: 'the same formulas; sums in another order (pooled per image then float64 on wasm, a workgroup tree on webgpu) and per-channel coefficients in float64: float32 rounding (largest seen 4.0e-7, 2026-12-06); a wrong channel, index or formula is off by order 1',
  },
});
