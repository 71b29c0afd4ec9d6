import * as tf from '@tensorflow/tfjs';
import { permutation, type Rng } from '../util/rng.ts';
import type { ImageSet } from './types.ts';

function checkIndices(set: ImageSet, indices: ArrayLike<number>, what: string): void {
  for (let i = 0; i < indices.length; i++) {
    const k = indices[i];
    if (!Number.isInteger(k) || k < 0 || k >= set.count) {
      throw new RangeError(`${what}: index ${k} at position ${i} is outside the image set (0..${set.count - 1})`);
    }
  }
}

/** Pixels of the chosen images as float32 in [0, 1], NHWC, in index order. */
export function batchPixels(set: ImageSet, indices: ArrayLike<number>): Float32Array {
  checkIndices(set, indices, 'batchPixels');
  const size = set.height * set.width * set.channels;
  const out = new Float32Array(indices.length * size);
  const scale = 1 / 255;
  const src = set.images;
  for (let i = 0; i < indices.length; i++) {
    const from = indices[i] * size;
    const to = i * size;
    for (let p = 0; p < size; p++) out[to + p] = src[from + p] * scale;
  }
  return out;
}

/**
 * A float batch built on demand from the uint8 set: one typed-array fill, one upload per
 * tensor. The caller owns (and disposes) both tensors.
 */
export function makeBatch(set: ImageSet, indices: ArrayLike<number>): { x: tf.Tensor4D; y: tf.Tensor1D } {
  const pixels = batchPixels(set, indices);
  const labels = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) labels[i] = set.labels[indices[i]];
  const x = tf.tensor4d(pixels, [indices.length, set.height, set.width, set.channels], 'float32');
  const y = tf.tensor1d(labels, 'int32');
  return { x, y };
}

/** A copy of the chosen images and labels, in index order. */
export function subset(set: ImageSet, indices: ArrayLike<number>): ImageSet {
  checkIndices(set, indices, 'subset');
  const size = set.height * set.width * set.channels;
  const images = new Uint8Array(indices.length * size);
  const labels = new Uint8Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const k = indices[i];
    images.set(set.images.subarray(k * size, (k + 1) * size), i * size);
    labels[i] = set.labels[k];
  }
  return { images, labels, count: indices.length, height: set.height, width: set.width, channels: set.channels };
}

/**
 * Indices of a class-balanced sample: classes take turns (each drawing from its own seeded
 * order) until n are chosen, so counts differ by at most one while every class has images left.
 */
export function stratifiedIndices(labels: Uint8Array, n: number, rng: Rng): Int32Array {
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const list = byClass.get(labels[i]);
    if (list) list.push(i);
    else byClass.set(labels[i], [i]);
  }
  // Classes take turns in a seeded order, so when n is not a multiple of the class count
  // the extra images do not always go to the lowest labels.
  const sorted = [...byClass.keys()].sort((a, b) => a - b);
  const classes = Array.from(permutation(rng, sorted.length), (j) => sorted[j]);
  const queues = classes.map((c) => {
    const members = byClass.get(c)!;
    const order = permutation(rng, members.length);
    return Array.from(order, (j) => members[j]);
  });
  const chosen: number[] = [];
  for (let round = 0; chosen.length < n; round++) {
    for (const q of queues) {
      if (round < q.length && chosen.length < n) chosen.push(q[round]);
    }
  }
  // Taking turns leaves the classes cycling in order; a training order must not.
  const shuffle = permutation(rng, chosen.length);
  return Int32Array.from(shuffle, (j) => chosen[j]);
}

/** n images chosen by the seeded stream `rng`, in random order; class-balanced when stratified. */
export function seededSubset(set: ImageSet, n: number, rng: Rng, opts: { stratified?: boolean } = {}): ImageSet {
  if (!Number.isInteger(n) || n < 0 || n > set.count) {
    throw new RangeError(`seededSubset: n = ${n} must be an integer in 0..${set.count} (the set's size)`);
  }
  const indices = opts.stratified
    ? stratifiedIndices(set.labels.subarray(0, set.count), n, rng)
    : permutation(rng, set.count).subarray(0, n);
  return subset(set, indices);
}
