import * as tf from '@tensorflow/tfjs';
import { batchNorm as batchNormOp, type BatchNormVariables, type Residual } from '../backend/ops/index.ts';
import { variable } from './layers.ts';

export { BN_EPSILON, BN_MOMENTUM, type Residual } from '../backend/ops/index.ts';

export type BatchNorm = BatchNormVariables;

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

/**
 * BatchNorm, then (when given) the residual added, then ReLU when `relu` is set. Training
 * normalises with the batch's own statistics (gradients flow through them) and moves the
 * averages; evaluation uses the averages and changes nothing (src/backend/ops/batch-norm.ts:
 * in fused kernels where the backend has them, where evaluation mode differentiates x and the
 * residual input only).
 */
export function applyBatchNorm(l: BatchNorm, x: tf.Tensor4D, training: boolean, relu = false, residual?: Residual): tf.Tensor4D {
  return batchNormOp(l, x, training, relu, residual);
}
