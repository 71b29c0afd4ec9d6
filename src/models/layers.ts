import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../util/rng.ts';
import { glorotUniform, heNormal } from './init.ts';

/**
 * Hand-written layers: variables plus a forward function. Each layer owns its variables;
 * a model lists them in a fixed order for the optimiser and checkpoints.
 */

let instance = 0;
/** tfjs variable names are global; a per-model prefix keeps two models apart. */
export function variablePrefix(model: string): string {
  instance += 1;
  return `${model}#${instance}`;
}

function variable(values: Float32Array | number[], shape: number[], name: string, trainable = true): tf.Variable {
  return tf.tidy(() => tf.variable(tf.tensor(values, shape, 'float32'), trainable, name));
}

export interface Dense {
  w: tf.Variable;
  b: tf.Variable;
}

export function dense(inF: number, outF: number, rng: Rng, name: string): Dense {
  return {
    w: variable(glorotUniform(inF * outF, inF, outF, rng), [inF, outF], `${name}/w`),
    b: variable(new Float32Array(outF), [outF], `${name}/b`),
  };
}

export function applyDense(l: Dense, x: tf.Tensor2D, relu: boolean): tf.Tensor2D {
  return tf.fused.matMul({ a: x, b: l.w as tf.Tensor2D, bias: l.b, activation: relu ? 'relu' : 'linear' }) as tf.Tensor2D;
}

export interface Conv {
  w: tf.Variable;
  /** Absent when a BatchNorm follows (its β is the bias). */
  b?: tf.Variable;
  stride: number;
}

export function conv(k: number, inC: number, outC: number, stride: number, bias: boolean, rng: Rng, name: string): Conv {
  return {
    w: variable(heNormal(k * k * inC * outC, k * k * inC, rng), [k, k, inC, outC], `${name}/w`),
    b: bias ? variable(new Float32Array(outC), [outC], `${name}/b`) : undefined,
    stride,
  };
}

/** 'same' padding: a stride-2 layer halves the size (rounding up). */
export function applyConv(l: Conv, x: tf.Tensor4D, relu: boolean): tf.Tensor4D {
  return tf.fused.conv2d({
    x,
    filter: l.w as tf.Tensor4D,
    strides: l.stride,
    pad: 'same',
    bias: l.b,
    activation: relu ? 'relu' : 'linear',
  });
}

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
 * Training normalises with the batch's own statistics (gradients flow through them) and
 * moves the averages; evaluation uses the averages and changes nothing.
 */
export function applyBatchNorm(l: BatchNorm, x: tf.Tensor4D, training: boolean): tf.Tensor4D {
  const gamma = l.gamma as tf.Tensor1D;
  const beta = l.beta as tf.Tensor1D;
  if (!training) return tf.batchNorm4d(x, l.movingMean as tf.Tensor1D, l.movingVar as tf.Tensor1D, beta, gamma, BN_EPSILON);
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  // assign() is not recorded on the gradient tape, so the update cannot leak into ∂L.
  tf.tidy(() => {
    // The biased batch variance, as Keras keeps it; the difference is negligible at batch ≥ 32.
    l.movingMean.assign(tf.add(tf.mul(l.movingMean, BN_MOMENTUM), tf.mul(mean, 1 - BN_MOMENTUM)));
    l.movingVar.assign(tf.add(tf.mul(l.movingVar, BN_MOMENTUM), tf.mul(variance, 1 - BN_MOMENTUM)));
  });
  return tf.batchNorm4d(x, mean as tf.Tensor1D, variance as tf.Tensor1D, beta, gamma, BN_EPSILON);
}

export function disposeAll(vars: tf.Variable[]): void {
  for (const v of vars) v.dispose();
}
