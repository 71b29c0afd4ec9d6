import * as tf from '@tensorflow/tfjs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { startBackend } from '../../src/backend/select.ts';
import { BN_MOMENTUM } from '../../src/models/batch-norm.ts';
import { resnetBlocksPerStage } from '../../src/models/resnet.ts';
import { buildClassifier, modelSpecSchema, parameterCount, type ModelSpec } from '../../src/models/spec.ts';
import type { Classifier } from '../../src/models/types.ts';
import { makeRng } from '../../src/util/rng.ts';

const mnist = { height: 28, width: 28, channels: 1 };
const cifar = { height: 32, width: 32, channels: 3 };
const tiny = { height: 8, width: 8, channels: 3 };

const specs: ModelSpec[] = [
  { kind: 'mlp', hidden: [32, 16] },
  { kind: 'cnn', channels: [8, 16], dense: 24 },
  { kind: 'resnet', depth: 8 },
  { kind: 'fastnet', stem: 4, widths: [6, 8, 8], scale: 1 },
];

function build(spec: ModelSpec, input = tiny, seed = 1, classes = 10): Classifier {
  return buildClassifier(spec, input, classes, makeRng(seed, 'model'));
}

function weights(m: Classifier): Float32Array[] {
  return m.trainable.map((v) => v.dataSync() as Float32Array);
}

/** A fixed batch: deterministic pseudo-images and labels. */
function batch(n: number, input: { height: number; width: number; channels: number }, seed: number) {
  const rng = makeRng(seed, 'batch');
  const size = n * input.height * input.width * input.channels;
  const x = tf.tensor4d(Float32Array.from({ length: size }, () => rng.next()), [n, input.height, input.width, input.channels]);
  const y = tf.oneHot(tf.tensor1d(Array.from({ length: n }, (_, i) => i % 10), 'int32'), 10);
  return { x, y };
}

beforeAll(async () => {
  await startBackend('wasm');
});

describe('model shapes', () => {
  it.each([
    ['mlp', { kind: 'mlp', hidden: [64, 64] } as ModelSpec],
    ['cnn', { kind: 'cnn', channels: [16, 32, 64] } as ModelSpec],
    ['resnet', { kind: 'resnet', depth: 20 } as ModelSpec],
    ['fastnet', { kind: 'fastnet', stem: 8, widths: [8, 16, 16] } as ModelSpec],
  ])('%s maps a batch of MNIST and CIFAR images to [batch, classes] logits', (_, spec) => {
    for (const input of [mnist, cifar]) {
      const m = build(spec, input, 1, 7);
      const x = tf.zeros([3, input.height, input.width, input.channels]) as tf.Tensor4D;
      const train = m.logits(x, true);
      const evalOut = m.logits(x, false);
      expect(train.shape).toEqual([3, 7]);
      expect(evalOut.shape).toEqual([3, 7]);
      expect(m.numClasses).toBe(7);
      tf.dispose([x, train, evalOut]);
      m.dispose();
    }
  });

  it('an MLP with no hidden layers is the linear softmax model (one weight matrix and bias)', () => {
    const m = build({ kind: 'mlp', hidden: [] }, mnist);
    expect(m.trainable.map((v) => v.shape)).toEqual([[784, 10], [10]]);
    m.dispose();
  });
});

describe('seeded initialisation', () => {
  it.each(specs.map((s) => [s.kind, s] as const))('%s: the same seed gives identical weights, another seed different ones', (_, spec) => {
    const a = build(spec, tiny, 5);
    const b = build(spec, tiny, 5);
    const c = build(spec, tiny, 6);
    expect(weights(a)).toEqual(weights(b));
    const differs = weights(a).some((w, i) => w.some((v, j) => v !== weights(c)[i][j]));
    expect(differs).toBe(true);
    [a, b, c].forEach((m) => m.dispose());
  });

  it('conv weights have the He-normal spread √(2/fanIn)', () => {
    const m = build({ kind: 'resnet', depth: 20 }, cifar);
    // The last stage's convs: 3·3·64 inputs, 36 864 draws each.
    const w = m.trainable.find((v) => v.shape.join() === '3,3,64,64') as tf.Variable;
    const values = Array.from(w.dataSync() as Float32Array);
    const std = Math.sqrt(values.reduce((s, v) => s + v * v, 0) / values.length);
    expect(std).toBeCloseTo(Math.sqrt(2 / (3 * 3 * 64)), 2);
    m.dispose();
  });
});

describe('parameter counts', () => {
  it('ResNet-20 for CIFAR-10 has ≈ 0.27 M parameters (He et al. 2016, Table 6)', () => {
    const m = build({ kind: 'resnet', depth: 20 }, cifar);
    expect(parameterCount(m) / 1e6).toBeCloseTo(0.27, 2);
    m.dispose();
  });

  it('ResNet-56 has ≈ 0.85 M and a wider ResNet-20 scales with width²', () => {
    const r56 = build({ kind: 'resnet', depth: 56 }, cifar);
    expect(parameterCount(r56) / 1e6).toBeCloseTo(0.85, 1);
    r56.dispose();
    const r20 = build({ kind: 'resnet', depth: 20 }, cifar);
    const r20x2 = build({ kind: 'resnet', depth: 20, width: 2 }, cifar);
    const ratio = parameterCount(r20x2) / parameterCount(r20);
    expect(ratio).toBeGreaterThan(3.9);
    expect(ratio).toBeLessThan(4);
    r20.dispose();
    r20x2.dispose();
  });

  it('an MLP has Σ (fan-in + 1) · fan-out parameters', () => {
    const m = build({ kind: 'mlp', hidden: [100, 50] }, mnist);
    expect(parameterCount(m)).toBe((784 + 1) * 100 + (100 + 1) * 50 + (50 + 1) * 10);
    m.dispose();
  });

  it('BatchNorm keeps two moving statistics per normalised channel, outside the trainable list', () => {
    const m = build({ kind: 'resnet', depth: 20 }, cifar);
    // 19 BatchNorm layers (stem + 2 per block, 9 blocks), each a mean and a variance.
    expect(m.state).toHaveLength(38);
    expect(m.state.every((v) => !v.trainable)).toBe(true);
    expect(m.trainable.every((v) => v.trainable)).toBe(true);
    m.dispose();
  });
});

describe('ResNet depth', () => {
  it.each([20, 32, 56, 110])('accepts depth %i = 6k+2', (d) => {
    expect(resnetBlocksPerStage(d)).toBe((d - 2) / 6);
  });

  it.each([18, 21, 100, 2, 0, 20.5])('rejects depth %s with an error naming the 6k+2 rule', (d) => {
    expect(() => build({ kind: 'resnet', depth: d }, tiny)).toThrow(/6k\+2/);
  });
});

describe('BatchNorm moving averages', () => {
  it(`move toward the batch statistics (momentum ${BN_MOMENTUM}) only when training`, () => {
    const m = build({ kind: 'resnet', depth: 8 }, tiny);
    const { x } = batch(4, tiny, 3);
    const before = m.state.map((v) => v.dataSync().slice());
    tf.dispose(m.logits(x, false));
    expect(m.state.map((v) => v.dataSync().slice())).toEqual(before);

    tf.dispose(m.logits(x, true));
    const after = m.state.map((v) => v.dataSync().slice());
    expect(after).not.toEqual(before);
    // The stem's moving mean: (1 − momentum) of the batch mean of its conv output.
    const stemMean = tf.tidy(() => tf.mean(tf.conv2d(x, m.trainable[0] as tf.Tensor4D, 1, 'same'), [0, 1, 2]).dataSync());
    const expected = Array.from(stemMean, (v) => v * (1 - BN_MOMENTUM));
    Array.from(after[0]).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
    x.dispose();
    m.dispose();
  });
});

describe('training on wasm', () => {
  it.each(specs.map((s) => [s.kind, s] as const))('%s: plain SGD steps on a fixed batch reduce the loss', (_, spec) => {
    const m = build(spec, tiny, 2);
    const { x, y } = batch(16, tiny, 4);
    const lossOf = () => tf.losses.softmaxCrossEntropy(y, m.logits(x, true)) as tf.Scalar;
    const losses: number[] = [];
    for (let step = 0; step < 8; step++) {
      const { value, grads } = tf.variableGrads(lossOf, m.trainable);
      losses.push(value.dataSync()[0]);
      for (const v of m.trainable) {
        const next = tf.tidy(() => tf.sub(v, tf.mul(grads[v.name], 0.1)));
        v.assign(next);
        next.dispose();
      }
      tf.dispose([value, ...Object.values(grads)]);
    }
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[losses.length - 1]).toBeLessThan(losses[0] * 0.95);
    tf.dispose([x, y]);
    m.dispose();
  });

  it('every trainable variable of each kind gets a non-zero gradient', () => {
    for (const spec of specs) {
      const m = build(spec, tiny, 3);
      const { x, y } = batch(8, tiny, 5);
      const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, m.logits(x, true)) as tf.Scalar, m.trainable);
      for (const v of m.trainable) {
        expect(grads[v.name].shape).toEqual(v.shape);
        expect(tf.tidy(() => tf.max(tf.abs(grads[v.name])).dataSync()[0])).toBeGreaterThan(0);
      }
      tf.dispose([value, x, y, ...Object.values(grads)]);
      m.dispose();
    }
  });
});

describe('backends agree', () => {
  it('each kind gives the same logits on wasm and cpu for the same seed and batch (relative 1e-4)', async () => {
    const out: Record<string, Float32Array[]> = {};
    for (const backend of ['wasm', 'cpu'] as const) {
      await tf.setBackend(backend);
      out[backend] = specs.map((spec) => {
        const m = build(spec, tiny, 9);
        const { x, y } = batch(4, tiny, 6);
        const l = tf.tidy(() => tf.concat([m.logits(x, true), m.logits(x, false)]).dataSync() as Float32Array);
        tf.dispose([x, y]);
        m.dispose();
        return l;
      });
    }
    await tf.setBackend('wasm');
    out.wasm.forEach((w, i) => {
      const c = out.cpu[i];
      const scale = Math.max(...Array.from(c, Math.abs));
      const err = Math.max(...Array.from(w, (v, j) => Math.abs(v - c[j])));
      expect(err / scale).toBeLessThan(1e-4);
    });
  });
});

describe('dispose', () => {
  it.each(specs.map((s) => [s.kind, s] as const))('%s: frees every variable it made', (_, spec) => {
    const before = tf.memory().numTensors;
    const m = build(spec, tiny);
    expect(tf.memory().numTensors).toBe(before + m.trainable.length + m.state.length);
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('modelSpecSchema', () => {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  const validate = ajv.compile(modelSpecSchema);

  it('compiles in ajv strict mode and accepts each kind', () => {
    for (const s of [...specs, { kind: 'resnet', depth: 110, width: 2 }, { kind: 'cnn', channels: [16] }, { kind: 'fastnet' }]) {
      expect(validate(s), JSON.stringify(validate.errors)).toBe(true);
    }
  });

  it.each([
    [{ kind: 'mlp' }],
    [{ kind: 'mlp', hidden: [0] }],
    [{ kind: 'mlp', hidden: [10], extra: 1 }],
    [{ kind: 'cnn', channels: [] }],
    [{ kind: 'cnn', channels: [8], dense: 1.5 }],
    [{ kind: 'resnet' }],
    [{ kind: 'resnet', depth: 20, width: 0 }],
    [{ kind: 'vgg', depth: 16 }],
    [{ kind: 'fastnet', widths: [] }],
    [{ kind: 'fastnet', scale: 0 }],
    [{ kind: 'fastnet', depth: 9 }],
  ])('rejects %j', (s) => {
    expect(validate(s)).toBe(false);
  });
});
