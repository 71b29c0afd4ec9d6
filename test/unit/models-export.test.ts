import * as tf from '@tensorflow/tfjs';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend } from '../../src/backend/select.ts';
import { classifierOf, toLayersModel } from '../../src/models/export.ts';
import { loadTfModel, modelFiles } from '../../src/models/model-files.ts';
import { buildClassifier, type ModelSpec } from '../../src/models/spec.ts';
import type { Classifier } from '../../src/models/types.ts';
import { makeRng } from '../../src/util/rng.ts';

const tmp = mkdtempSync(join(tmpdir(), 'llk-export-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  await startBackend('cpu');
});

const input = { height: 8, width: 8, channels: 3 };
const specs: ModelSpec[] = [
  { kind: 'mlp', hidden: [32, 16] },
  { kind: 'cnn', channels: [8, 16], dense: 24 },
  { kind: 'resnet', depth: 8 },
  // scale ≠ 1: the export folds it into the head's kernel.
  { kind: 'fastnet', stem: 4, widths: [6, 8], scale: 16 },
];

/** A model whose every variable (BatchNorm averages and scales too) holds distinct random values, so a swapped or skipped weight shows. */
function scrambled(spec: ModelSpec, seed: number): Classifier {
  const m = buildClassifier(spec, input, 10, makeRng(seed, 'model'));
  const rng = makeRng(seed, 'scramble');
  for (const v of [...m.trainable, ...m.state]) {
    const isVar = v.name.endsWith('moving_var');
    const scale = v.shape.length === 1 ? 0.5 : 0.3;
    v.assign(tf.tensor(Float32Array.from({ length: v.size }, () => (isVar ? 0.5 + rng.next() : (rng.next() - 0.5) * 2 * scale)), v.shape));
  }
  return m;
}

function images(n: number, seed: number): tf.Tensor4D {
  const rng = makeRng(seed, 'x');
  return tf.tensor4d(Float32Array.from({ length: n * 8 * 8 * 3 }, () => rng.next()), [n, 8, 8, 3]);
}

const maxAbs = (t: tf.Tensor): number => tf.tidy(() => tf.max(tf.abs(t)).dataSync()[0]);
const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor): number => tf.tidy(() => maxAbs(tf.sub(a, b)));

const inputGradient = (m: Classifier, x: tf.Tensor4D, y: tf.Tensor1D) =>
  tf.tidy(() =>
    tf.grad((xi: tf.Tensor) => {
      const logits = m.logits(xi as tf.Tensor4D, false);
      return tf.losses.softmaxCrossEntropy(tf.oneHot(y, 10), logits);
    })(x),
  );

describe('a trained Classifier exported as a tfjs LayersModel', () => {
  for (const spec of specs) {
    it(`${spec.kind}: the exported model, saved to model.json + weights.bin and loaded back, gives the same logits and input gradients`, async () => {
      const m = scrambled(spec, 3);
      const x = images(6, 4);
      const y = tf.tensor1d([0, 1, 2, 3, 4, 5], 'int32');
      const dir = join(tmp, spec.kind);
      const before = tf.memory().numTensors;
      const layers = toLayersModel(m, spec, input);
      await layers.save(modelFiles(dir));
      layers.dispose();
      const loaded = await loadTfModel(dir);
      expect(loaded.format).toBe('layers-model');
      const back = classifierOf(loaded.net, { name: 'loaded', numClasses: 10, outputs: 'logits' });
      const [a, b] = [m.logits(x, false), back.logits(x, false)];
      const [ga, gb] = [inputGradient(m, x, y), inputGradient(back, x, y)];
      const scale = maxAbs(a);
      expect(scale).toBeGreaterThan(0.1);
      expect(maxAbsDiff(a, b)).toBeLessThan(1e-4 * Math.max(1, scale));
      const gScale = maxAbs(ga);
      expect(gScale).toBeGreaterThan(1e-4);
      expect(maxAbsDiff(ga, gb)).toBeLessThan(1e-4 * gScale);
      tf.dispose([a, b, ga, gb]);
      back.dispose();
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, y]);
      m.dispose();
    });
  }
});

/** A hand-written graph model: logits = reshape(x, [-1, 192]) · W. */
function writeGraphModel(dir: string, w: Float32Array): void {
  mkdirSync(dir, { recursive: true });
  const dtype = (t: string) => ({ type: t });
  const topology = {
    node: [
      { name: 'x', op: 'Placeholder', attr: { dtype: dtype('DT_FLOAT'), shape: { shape: { dim: [{ size: '-1' }, { size: '8' }, { size: '8' }, { size: '3' }] } } } },
      { name: 'shape', op: 'Const', attr: { value: { tensor: { dtype: 'DT_INT32', tensorShape: { dim: [{ size: '2' }] } } }, dtype: dtype('DT_INT32') } },
      { name: 'flat', op: 'Reshape', input: ['x', 'shape'], attr: { T: dtype('DT_FLOAT'), Tshape: dtype('DT_INT32') } },
      { name: 'w', op: 'Const', attr: { value: { tensor: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: '192' }, { size: '10' }] } } }, dtype: dtype('DT_FLOAT') } },
      { name: 'logits', op: 'MatMul', input: ['flat', 'w'], attr: { T: dtype('DT_FLOAT'), transpose_a: { b: false }, transpose_b: { b: false } } },
    ],
    versions: { producer: 1 },
  };
  const bytes = new Uint8Array(8 + w.byteLength);
  new Int32Array(bytes.buffer, 0, 2).set([-1, 192]);
  bytes.set(new Uint8Array(w.buffer), 8);
  writeFileSync(join(dir, 'group1-shard1of1.bin'), bytes);
  writeFileSync(
    join(dir, 'model.json'),
    JSON.stringify({
      format: 'graph-model',
      modelTopology: topology,
      weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: [{ name: 'shape', shape: [2], dtype: 'int32' }, { name: 'w', shape: [192, 10], dtype: 'float32' }] }],
    }),
  );
}

describe('graph models (tensorflowjs_converter output)', () => {
  it('loads, and its logits and input gradients are the linear model it encodes', async () => {
    const rng = makeRng(5, 'w');
    const w = Float32Array.from({ length: 1920 }, () => rng.next() - 0.5);
    const dir = join(tmp, 'graph');
    writeGraphModel(dir, w);
    const loaded = await loadTfModel(dir);
    expect(loaded.format).toBe('graph-model');
    const m = classifierOf(loaded.net, { name: 'graph', numClasses: 10, outputs: 'logits' });
    const x = images(3, 6);
    const y = tf.tensor1d([1, 2, 3], 'int32');
    const wt = tf.tensor2d(w, [192, 10]);
    const expected = tf.matMul(x.reshape([3, 192]), wt);
    const got = m.logits(x, false);
    expect(maxAbsDiff(got, expected)).toBeLessThan(1e-4);
    const linear: Classifier = { name: 'l', numClasses: 10, trainable: [], state: [], logits: (xi) => tf.matMul(xi.reshape([xi.shape[0], 192]), wt), dispose: () => {} };
    const [ga, gb] = [inputGradient(m, x, y), inputGradient(linear, x, y)];
    expect(maxAbsDiff(ga, gb)).toBeLessThan(1e-5);
    tf.dispose([x, y, wt, expected, got, ga, gb]);
    m.dispose();
  });
});
