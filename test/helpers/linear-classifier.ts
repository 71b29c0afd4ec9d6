import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import type { Classifier } from '../../src/models/types.ts';

/**
 * Small classifiers whose maths the property tests can redo in float64, plus fast-check
 * generators for them. Weights are row-major [in][out].
 */
export interface ImageShape {
  height: number;
  width: number;
  channels: number;
}

export interface LinearParams extends ImageShape {
  kind: 'linear';
  numClasses: number;
  weights: number[]; // [d][K]
  bias: number[]; // [K]
}

export interface HiddenParams extends ImageShape {
  kind: 'hidden';
  numClasses: number;
  hidden: number;
  w1: number[]; // [d][H]
  b1: number[]; // [H]
  w2: number[]; // [H][K]
  b2: number[]; // [K]
}

export type ModelParams = LinearParams | HiddenParams;

export const inputSize = (s: ImageShape): number => s.height * s.width * s.channels;

/** A Classifier that also records every `training` flag it was called with. */
export interface TestClassifier extends Classifier {
  readonly params: ModelParams;
  readonly calls: boolean[];
}

function dense(w: tf.Variable, b: tf.Variable, x: tf.Tensor2D): tf.Tensor2D {
  return tf.add(tf.matMul(x, w), b);
}

/** logits = flatten(x)·W + b (linear) or tanh(flatten(x)·W₁ + b₁)·W₂ + b₂ (one hidden layer). */
export function makeClassifier(p: ModelParams): TestClassifier {
  const d = inputSize(p);
  const K = p.numClasses;
  const vars =
    p.kind === 'linear'
      ? [tf.variable(tf.tensor2d(p.weights, [d, K])), tf.variable(tf.tensor1d(p.bias))]
      : [
          tf.variable(tf.tensor2d(p.w1, [d, p.hidden])),
          tf.variable(tf.tensor1d(p.b1)),
          tf.variable(tf.tensor2d(p.w2, [p.hidden, K])),
          tf.variable(tf.tensor1d(p.b2)),
        ];
  const calls: boolean[] = [];
  return {
    name: `test-${p.kind}`,
    numClasses: K,
    trainable: vars,
    state: [],
    params: p,
    calls,
    logits(x, training) {
      calls.push(training);
      return tf.tidy(() => {
        const flat = tf.reshape(x, [x.shape[0], d]) as tf.Tensor2D;
        if (p.kind === 'linear') return dense(vars[0], vars[1], flat);
        return dense(vars[2], vars[3], tf.tanh(dense(vars[0], vars[1], flat)));
      });
    },
    dispose() {
      tf.dispose(vars);
    },
  };
}

// ---- float64 reference maths -------------------------------------------------------

function affine(x: ArrayLike<number>, w: number[], b: number[], inSize: number, outSize: number): number[] {
  const out = b.slice();
  for (let i = 0; i < inSize; i++) for (let j = 0; j < outSize; j++) out[j] += x[i] * w[i * outSize + j];
  return out;
}

/** Logits of one example (flattened image) in float64. */
export function logits64(p: ModelParams, x: ArrayLike<number>): number[] {
  const d = inputSize(p);
  if (p.kind === 'linear') return affine(x, p.weights, p.bias, d, p.numClasses);
  const h = affine(x, p.w1, p.b1, d, p.hidden).map(Math.tanh);
  return affine(h, p.w2, p.b2, p.hidden, p.numClasses);
}

export function softmax64(z: number[]): number[] {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** CE(label, logits(x)) of one example in float64. */
export function crossEntropy64(p: ModelParams, x: ArrayLike<number>, label: number): number {
  const z = logits64(p, x);
  const m = Math.max(...z);
  const lse = m + Math.log(z.reduce((a, v) => a + Math.exp(v - m), 0));
  return lse - z[label];
}

/** ∂CE/∂x of one example for a linear model: W·(softmax − onehot), in float64. */
export function linearInputGradient64(p: LinearParams, x: ArrayLike<number>, label: number): number[] {
  const K = p.numClasses;
  const delta = softmax64(logits64(p, x));
  delta[label] -= 1;
  const g = new Array<number>(inputSize(p)).fill(0);
  for (let i = 0; i < g.length; i++) for (let j = 0; j < K; j++) g[i] += p.weights[i * K + j] * delta[j];
  return g;
}

// ---- generators -----------------------------------------------------------------------

const weight = fc.float({ min: -2, max: 2, noNaN: true });
/** Pixels in [0, 1], with the edges (where clipping bites) well represented. */
const pixel = fc.oneof(fc.float({ min: 0, max: 1, noNaN: true }), fc.constantFrom(0, 1));

export const imageShape: fc.Arbitrary<ImageShape> = fc.record({
  height: fc.integer({ min: 1, max: 3 }),
  width: fc.integer({ min: 1, max: 3 }),
  channels: fc.integer({ min: 1, max: 3 }),
});

export function linearParams(shape: ImageShape, numClasses: number): fc.Arbitrary<LinearParams> {
  const d = inputSize(shape);
  return fc.record({
    weights: fc.array(weight, { minLength: d * numClasses, maxLength: d * numClasses }),
    bias: fc.array(weight, { minLength: numClasses, maxLength: numClasses }),
  }).map((w) => ({ kind: 'linear' as const, ...shape, numClasses, ...w }));
}

export function hiddenParams(shape: ImageShape, numClasses: number): fc.Arbitrary<HiddenParams> {
  const d = inputSize(shape);
  return fc.integer({ min: 1, max: 4 }).chain((hidden) =>
    fc.record({
      w1: fc.array(weight, { minLength: d * hidden, maxLength: d * hidden }),
      b1: fc.array(weight, { minLength: hidden, maxLength: hidden }),
      w2: fc.array(weight, { minLength: hidden * numClasses, maxLength: hidden * numClasses }),
      b2: fc.array(weight, { minLength: numClasses, maxLength: numClasses }),
    }).map((w) => ({ kind: 'hidden' as const, ...shape, numClasses, hidden, ...w })),
  );
}

/** A batch of images with labels, for a model of the given kind(s). */
export interface Problem {
  params: ModelParams;
  batch: number;
  images: number[]; // NHWC, flattened
  labels: number[];
}

export function problem(kinds: ReadonlyArray<'linear' | 'hidden'> = ['linear', 'hidden']): fc.Arbitrary<Problem> {
  return fc
    .record({
      shape: imageShape,
      numClasses: fc.integer({ min: 2, max: 4 }),
      batch: fc.integer({ min: 1, max: 3 }),
      kind: fc.constantFrom(...kinds),
    })
    .chain(({ shape, numClasses, batch, kind }) =>
      fc.record({
        params: kind === 'linear' ? linearParams(shape, numClasses) : hiddenParams(shape, numClasses),
        batch: fc.constant(batch),
        images: fc.array(pixel, { minLength: batch * inputSize(shape), maxLength: batch * inputSize(shape) }),
        labels: fc.array(fc.integer({ min: 0, max: numClasses - 1 }), { minLength: batch, maxLength: batch }),
      }),
    );
}

function imagesTensor(pr: Problem): tf.Tensor4D {
  const { height, width, channels } = pr.params;
  return tf.tensor4d(pr.images, [pr.batch, height, width, channels]);
}

function labelsTensor(pr: Problem): tf.Tensor1D {
  return tf.tensor1d(pr.labels, 'int32');
}

/** Example `i` of a flat NHWC batch. */
export function row(values: ArrayLike<number>, i: number, d: number): number[] {
  return Array.from(values).slice(i * d, (i + 1) * d);
}

/** Build the model and tensors for a problem, run `body`, dispose everything. */
export function withProblem<T>(
  pr: Problem,
  body: (model: TestClassifier, x: tf.Tensor4D, y: tf.Tensor1D) => T,
): T {
  const model = makeClassifier(pr.params);
  const x = imagesTensor(pr);
  const y = labelsTensor(pr);
  try {
    return body(model, x, y);
  } finally {
    tf.dispose([x, y]);
    model.dispose();
  }
}
