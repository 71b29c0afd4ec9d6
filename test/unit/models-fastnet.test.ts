import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend } from '../../src/backend/select.ts';
import { FASTNET_DEFAULTS } from '../../src/models/fastnet.ts';
import { buildClassifier, parameterCount, type ModelSpec } from '../../src/models/spec.ts';
import type { Classifier } from '../../src/models/types.ts';
import { makeRng } from '../../src/util/rng.ts';

const cifar = { height: 32, width: 32, channels: 3 };
const mnist = { height: 28, width: 28, channels: 1 };

function build(spec: ModelSpec, input = cifar, seed = 1): Classifier {
  return buildClassifier(spec, input, 10, makeRng(seed, 'model'));
}

beforeAll(async () => {
  // Float32 finite differences need the reference kernels; wasm is checked against cpu in models-spec.
  await startBackend('cpu');
});
afterAll(async () => {
  await startBackend('wasm');
});

describe('fastnet shape', () => {
  it('defaults to the airbench widths 64-256-256 after a 32-channel stem: one BatchNorm per conv, a bias-free head', () => {
    const m = build({ kind: 'fastnet' });
    const [stem, w1, w2, w3] = [FASTNET_DEFAULTS.stem, ...FASTNET_DEFAULTS.widths];
    const conv = (i: number, o: number) => 9 * i * o + 2 * o; // kernel + BatchNorm γ, β
    const expected = conv(3, stem) + conv(stem, w1) + conv(w1, w1) + conv(w1, w2) + conv(w2, w2) + conv(w2, w3) + conv(w3, w3) + w3 * 10;
    expect(parameterCount(m)).toBe(expected);
    expect(m.state).toHaveLength(2 * 7);
    expect(m.trainable.at(-1)!.shape).toEqual([w3, 10]);
    m.dispose();
  });

  it('each group halves the image: three groups take 28×28 MNIST to 3×3 and still give [batch, classes]', () => {
    const m = build({ kind: 'fastnet', stem: 4, widths: [4, 4, 4] }, mnist);
    const x = tf.zeros([2, 28, 28, 1]) as tf.Tensor4D;
    const out = m.logits(x, false);
    expect(out.shape).toEqual([2, 10]);
    tf.dispose([x, out]);
    m.dispose();
  });

  it('refuses more groups than halvings of the image, naming the limit', () => {
    expect(() => build({ kind: 'fastnet', widths: [4, 4, 4, 4, 4, 4] })).toThrow(/at most 5 widths/);
  });

  it('scales the logits by `scale`: the same weights with scale 1 give 8× the default 1/8', () => {
    const a = build({ kind: 'fastnet', stem: 4, widths: [4, 4] }, { height: 8, width: 8, channels: 3 }, 3);
    const b = build({ kind: 'fastnet', stem: 4, widths: [4, 4], scale: 1 }, { height: 8, width: 8, channels: 3 }, 3);
    const x = tf.randomUniform([2, 8, 8, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
    const la = tf.tidy(() => a.logits(x, false).mul(8).dataSync());
    const lb = tf.tidy(() => b.logits(x, false).dataSync());
    Array.from(la).forEach((v, i) => expect(v).toBeCloseTo(lb[i], 4));
    tf.dispose(x);
    a.dispose();
    b.dispose();
  });
});

/**
 * ∇·d against the central difference (L(θ + hd) − L(θ − hd)) / 2h along a unit direction d:
 * a check of every gradient in the net (BatchNorm's hand-written closed forms, max-pool,
 * the head) at once. A float32 loss of order 1 rounds at ≈ 1e-7, so the difference carries
 * ≈ 1e-4 of noise at h = 1e-3, and a ReLU or max-pool switch inside ±h adds O(h): hence 2%.
 */
describe('fastnet gradients', () => {
  const input = { height: 4, width: 4, channels: 2 };
  const spec: ModelSpec = { kind: 'fastnet', stem: 3, widths: [4, 5], scale: 1 };
  const h = 1e-3;

  /** A random direction of norm 1 across all the given shapes together. */
  function unitDirection(shapes: number[][], rng: ReturnType<typeof makeRng>): tf.Tensor[] {
    const parts = shapes.map((shape) => Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()));
    const norm = Math.sqrt(parts.reduce((s, p) => s + p.reduce((t, v) => t + v * v, 0), 0));
    return parts.map((p, i) => tf.tensor(p.map((v) => v / norm), shapes[i]));
  }

  function fixture(seed: number) {
    const m = build(spec, input, seed);
    const x = tf.randomUniform([6, 4, 4, 2], 0, 1, 'float32', seed) as tf.Tensor4D;
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5], 'int32'), 10);
    return { m, x, y };
  }

  it.each([1, 2, 3])('the weight gradient (training mode, batch statistics) matches finite differences, seed %i', (seed) => {
    const { m, x, y } = fixture(seed);
    const loss = () => tf.losses.softmaxCrossEntropy(y, m.logits(x, true)) as tf.Scalar;
    const { value, grads } = tf.variableGrads(loss, m.trainable);
    const rng = makeRng(seed, 'direction');
    const dirs = unitDirection(m.trainable.map((v) => v.shape), rng);
    const analytic = tf.tidy(() => m.trainable.reduce((s, v, i) => s + tf.sum(tf.mul(grads[v.name], dirs[i])).dataSync()[0], 0));
    const original = m.trainable.map((v) => v.clone());
    const at = (sign: number) => {
      m.trainable.forEach((v, i) => v.assign(tf.tidy(() => original[i].add(dirs[i].mul(sign * h)))));
      // Moving averages move in training mode; they do not enter the training-mode loss.
      return tf.tidy(() => loss().dataSync()[0]);
    };
    const numeric = (at(1) - at(-1)) / (2 * h);
    expect(Math.abs(numeric - analytic) / Math.max(Math.abs(analytic), 1e-3)).toBeLessThan(0.02);
    tf.dispose([value, x, y, ...Object.values(grads), ...dirs, ...original]);
    m.dispose();
  });

  it.each([1, 2, 3])('the input gradient FGSM reads (inference mode) matches finite differences, seed %i', (seed) => {
    const { m, x, y } = fixture(seed);
    // Moving statistics that are not the identity, as after training.
    tf.dispose(m.logits(x, true));
    const loss = (input: tf.Tensor) => tf.losses.softmaxCrossEntropy(y, m.logits(input as tf.Tensor4D, false)) as tf.Scalar;
    const g = tf.grad(loss)(x);
    // Along the gradient itself the derivative is |∇ₓL|, large enough to stand above float32
    // rounding (along a random direction it is often below it for a net this small).
    const d = tf.tidy(() => g.div(tf.norm(g)));
    const analytic = tf.tidy(() => tf.norm(g).dataSync()[0]);
    const step = 1e-2;
    const numeric = tf.tidy(() => (loss(x.add(d.mul(step))).dataSync()[0] - loss(x.sub(d.mul(step))).dataSync()[0]) / (2 * step));
    expect(Math.abs(numeric - analytic) / analytic).toBeLessThan(0.02);
    tf.dispose([g, d, x, y]);
    m.dispose();
  });
});
