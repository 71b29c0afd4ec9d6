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

export function variable(values: Float32Array | number[], shape: number[], name: string, trainable = true): tf.Variable {
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
  // tf.fused.conv2d wraps even a bare convolution in a custom gradient; measured on a
  // ResNet-20 step on wasm that wrapper cost more than the backward convolutions it calls.
  if (l.b === undefined && !relu) return tf.conv2d(x, l.w as tf.Tensor4D, l.stride, 'same');
  return tf.fused.conv2d({
    x,
    filter: l.w as tf.Tensor4D,
    strides: l.stride,
    pad: 'same',
    bias: l.b,
    activation: relu ? 'relu' : 'linear',
  });
}

export function disposeAll(vars: tf.Variable[]): void {
  for (const v of vars) v.dispose();
}
