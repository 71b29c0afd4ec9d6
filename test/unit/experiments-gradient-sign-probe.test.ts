import * as tf from '@tensorflow/tfjs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BackendInfo } from '../../src/backend/info.ts';
import { makeBatch } from '../../src/data/batches.ts';
import type { ImageSet } from '../../src/data/types.ts';
import { gradientFeatures, gradientSignProbe, linearProbe, type FeatureSource, type GradientSignProbeParams } from '../../src/experiments/gradient-sign-probe.ts';
import { clearTrainedModels, modelKeyParts, selectData, trainingKey } from '../../src/experiments/trained-models.ts';
import type { RunContext, TrainedModelInfo } from '../../src/experiments/types.ts';
import { evaluate } from '../../src/metrics/evaluate.ts';
import { buildClassifier } from '../../src/models/spec.ts';
import type { Classifier } from '../../src/models/types.ts';
import type { EpochPoint, TrainConfig } from '../../src/train/loop.ts';
import { silentProgress, type ProgressSink } from '../../src/train/progress.ts';
import { makeRng } from '../../src/util/rng.ts';

/**
 * The gradient-sign probe, worked by hand where it can be: the features of a linear source
 * model are the signs of W·(softmax(z) − onehot(label)), computed here in float64 from its
 * weights; the probe's accuracy and the kind's metrics are checked against their parts.
 */

const DATA = 'fixtures/data';
const backend: BackendInfo = { name: 'cpu', version: tf.version_core, threads: 1, device: 'cpu', reason: 'test' };
const ctx = (seed: number, more: Partial<RunContext> = {}): RunContext => ({ seed, dataDir: DATA, backend, progress: silentProgress, ...more });
const config = (lr: number, batchSize: number, epochs = 1): TrainConfig => ({ epochs, batchSize, lr: { base: lr, milestones: [], gamma: 1 }, momentum: 0.9, nesterov: false, weightDecay: 0, adversarial: null });

/** A 2×2 grey image set with 3 classes: small enough to work each gradient out by hand. */
function tinySet(count: number): ImageSet {
  const images = Uint8Array.from({ length: count * 4 }, (_, k) => (k * 37 + (k % 3) * 91) % 256);
  const labels = Uint8Array.from({ length: count }, (_, i) => (i * 2) % 3);
  return { images, labels, count, height: 2, width: 2, channels: 1 };
}

/** Per image: logits z = xW + b with x = bytes / 255, in float64. */
function logitsOf(set: ImageSet, w: number[], b: number[], classes: number): number[][] {
  const n = set.height * set.width * set.channels;
  return Array.from({ length: set.count }, (_, i) =>
    Array.from({ length: classes }, (_, k) => {
      let z = b[k];
      for (let p = 0; p < n; p++) z += (set.images[i * n + p] / 255) * w[p * classes + k];
      return z;
    }),
  );
}

/** ∂CE/∂x of a linear model: W·(softmax(z) − onehot(label)), per pixel; and the smallest |gradient| seen. */
function gradients(set: ImageSet, w: number[], b: number[], classes: number, labels: number[]): { g: number[][]; smallest: number } {
  const n = set.height * set.width * set.channels;
  let smallest = Infinity;
  const g = logitsOf(set, w, b, classes).map((z, i) => {
    const top = Math.max(...z);
    const e = z.map((v) => Math.exp(v - top));
    const sum = e.reduce((a, c) => a + c, 0);
    const delta = e.map((v, k) => v / sum - (k === labels[i] ? 1 : 0));
    return Array.from({ length: n }, (_, p) => {
      const v = delta.reduce((a, d, k) => a + w[p * classes + k] * d, 0);
      smallest = Math.min(smallest, Math.abs(v));
      return v;
    });
  });
  return { g, smallest };
}

const argmin = (v: number[]) => v.indexOf(Math.min(...v));

let source: Classifier;
let w: number[];
let b: number[];

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
  source = buildClassifier({ kind: 'mlp', hidden: [] }, { height: 2, width: 2, channels: 1 }, 3, makeRng(1, 'test/source'));
  w = Array.from(source.trainable[0].dataSync());
  b = Array.from(source.trainable[1].dataSync());
});
afterAll(() => {
  source.dispose();
  clearTrainedModels();
});

describe('gradient-sign features', () => {
  // 7 images in batches of 3: two whole batches and one of 1, so each batch's place in the output is checked.
  const set = tinySet(7);

  async function expectFeatures(kind: FeatureSource, labels: number[], rng = makeRng(2, 'unused')) {
    const before = tf.memory().numTensors;
    const { g, smallest } = gradients(set, w, b, 3, labels);
    // Far from 0 in float64, so float32 rounding cannot flip a sign.
    expect(smallest).toBeGreaterThan(1e-4);
    const out = await gradientFeatures(source, set, kind, 3, rng);
    // clip(sign + 1, 0, 1) · 255: 255 where the gradient is positive, 0 where negative.
    expect(Array.from(out.images)).toEqual(g.flat().map((v) => (v > 0 ? 255 : 0)));
    expect({ ...out, images: undefined }).toEqual({ ...set, images: undefined });
    expect(tf.memory().numTensors).toBe(before);
  }

  it('true: the signs of the true label’s loss gradient, image by image', async () => {
    await expectFeatures('true', Array.from(set.labels));
  });

  it('least-likely: the signs of the gradient toward the class of the smallest logit', async () => {
    const labels = logitsOf(set, w, b, 3).map(argmin);
    // Not the true labels, or this would test nothing more than the case above.
    expect(labels).not.toEqual(Array.from(set.labels));
    await expectFeatures('least-likely', labels);
  });

  it('random: the gradient toward one label per image drawn from the given stream in image order', async () => {
    const draw = makeRng(9, 'labels');
    const labels = Array.from({ length: set.count }, () => draw.int(3));
    await expectFeatures('random', labels, makeRng(9, 'labels'));
  });

  it('colour images: each image’s features fill its own height × width × channels slot', async () => {
    const shape = { height: 2, width: 2, channels: 3 };
    const colour: ImageSet = { images: Uint8Array.from({ length: 5 * 12 }, (_, k) => (k * 53 + (k % 7) * 29) % 256), labels: Uint8Array.from([0, 2, 1, 1, 0]), count: 5, ...shape };
    const src = buildClassifier({ kind: 'mlp', hidden: [] }, shape, 3, makeRng(4, 'test/source-colour'));
    try {
      const { g, smallest } = gradients(colour, Array.from(src.trainable[0].dataSync()), Array.from(src.trainable[1].dataSync()), 3, Array.from(colour.labels));
      expect(smallest).toBeGreaterThan(1e-4);
      const out = await gradientFeatures(src, colour, 'true', 2, makeRng(2, 'unused'));
      expect(Array.from(out.images)).toEqual(g.flat().map((v) => (v > 0 ? 255 : 0)));
    } finally {
      src.dispose();
    }
  });

  it('pixels: the image set itself', async () => {
    expect(await gradientFeatures(source, set, 'pixels', 3, makeRng(2, 'x'))).toBe(set);
  });
});

describe('linearProbe', () => {
  /** Two classes a linear model separates: a bright left column, or a bright right column. */
  function separable(count: number): ImageSet {
    const images = new Uint8Array(count * 4);
    const labels = new Uint8Array(count);
    for (let i = 0; i < count; i++) {
      labels[i] = i % 2;
      const bright = 200 + (i % 5) * 10;
      images.set(i % 2 === 0 ? [bright, 0, bright, 0] : [0, bright, 0, bright], i * 4);
    }
    return { images, labels, count, height: 2, width: 2, channels: 1 };
  }

  it('untrained (lr 0), its accuracy is that of a softmax regression drawn from model/probe/<label>, on the test set', async () => {
    const before = tf.memory().numTensors;
    const trainSet = separable(8);
    const testSet = { ...tinySet(40), labels: Uint8Array.from({ length: 40 }, (_, i) => i % 2) };
    const r = await linearProbe(trainSet, testSet, 2, config(0, 4, 2), 40, 'true', ctx(5));
    const accuracyOf = (stream: string) => {
      const ref = buildClassifier({ kind: 'mlp', hidden: [] }, { height: 2, width: 2, channels: 1 }, 2, makeRng(5, stream));
      const { x, y } = makeBatch(testSet, [...Array(40).keys()]);
      const predicted = tf.tidy(() => ref.logits(x, false).argMax(1).dataSync());
      const labels = y.dataSync();
      tf.dispose([x, y]);
      ref.dispose();
      return Array.from(predicted).filter((p, i) => p === labels[i]).length / 40;
    };
    // Probes drawn from other streams score otherwise here, so the equality below tells them apart.
    for (const other of ['model/probe/pixels', 'model/probe/random', 'model/probe']) expect(accuracyOf(other), other).not.toBe(accuracyOf('model/probe/true'));
    expect(r.accuracy).toBe(accuracyOf('model/probe/true'));
    expect(r.epochs.map((p) => p.epoch)).toEqual([1, 2]);
    expect(r.imagesPerSecond).toBeGreaterThan(0);
    // The probe is freed.
    expect(tf.memory().numTensors).toBe(before);
  });

  it('trained, it separates two linearly separable classes, and reports its training to the context', async () => {
    const started: string[] = [];
    const progress: ProgressSink = { start: (label) => void started.push(label), tick() {}, stop() {} };
    const r = await linearProbe(separable(16), separable(10), 2, config(0.5, 4, 5), 10, 'pixels', ctx(5, { progress }));
    expect(r.accuracy).toBe(1);
    expect(started).toEqual(['train mlp[]']);
  });
});

describe('the gradient-sign-probe kind', () => {
  const base: GradientSignProbeParams = {
    dataset: 'mnist',
    trainSubset: 60,
    testSubset: 40,
    sourceModel: { kind: 'mlp', hidden: [] },
    features: ['pixels', 'random'],
    probe: config(0.1, 20),
    batchSize: 20,
  };
  const input = { height: 28, width: 28, channels: 1 };

  it('with an untrained source: source accuracy from the stream model/probe-source, each probe on its features, label draws from probe/labels/<feature>/{train,test}', async () => {
    clearTrainedModels();
    const before = tf.memory().numTensors;
    const out = await gradientSignProbe.run(structuredClone(base), ctx(3));
    // The source model it built is freed.
    expect(tf.memory().numTensors).toBe(before);

    const data = await selectData(base, 3, DATA);
    const src = buildClassifier(base.sourceModel, input, 10, makeRng(3, 'model/probe-source'));
    try {
      const sourceAcc = (await evaluate(src, data.test, { batchSize: 20, attacks: [], rng: makeRng(3, 'x') })).cleanAcc;
      const pixels = await linearProbe(data.train, data.test, 10, base.probe, 20, 'pixels', ctx(3));
      const labels = makeRng(3, 'probe/labels/random');
      const trainF = await gradientFeatures(src, data.train, 'random', 20, labels.fork('train'));
      const testF = await gradientFeatures(src, data.test, 'random', 20, labels.fork('test'));
      const random = await linearProbe(trainF, testF, 10, base.probe, 20, 'random', ctx(3));
      expect(out.metrics).toEqual({ source_clean_acc: sourceAcc, probe_acc_pixels: pixels.accuracy, probe_acc_random: random.accuracy });
      expect(Object.keys(out.curves)).toEqual(['probe:pixels', 'probe:random']);
      expect((out.curves['probe:pixels'] as EpochPoint[]).map((p) => p.epoch)).toEqual([1]);
      expect(out.curves['probe:random']).toEqual(random.epochs);
      expect(out.imagesPerSecond).toBeGreaterThan(0);
    } finally {
      src.dispose();
    }
  });

  it('with sourceTraining: the source is the shared trained model (role probe-source), kept after the run', async () => {
    clearTrainedModels();
    const p: GradientSignProbeParams = { ...base, features: ['true'], sourceTraining: config(0.1, 20) };
    const told: [Classifier, TrainedModelInfo][] = [];
    const out = await gradientSignProbe.run(structuredClone(p), ctx(3, { onTrained: async (m, info) => void told.push([m, info]) }));
    expect(told.map(([, info]) => info.role)).toEqual(['probe-source']);
    const trained = told[0][0];
    // Not freed: the model cache owns it, and a later claim re-uses it.
    expect(trained.trainable[0].isDisposed).toBe(false);
    const data = await selectData(p, 3, DATA);
    const sourceAcc = (await evaluate(trained, data.test, { batchSize: 20, attacks: [], rng: makeRng(3, 'x') })).cleanAcc;
    const trueF = await gradientFeatures(trained, data.train, 'true', 20, makeRng(3, 'x'));
    const trueTest = await gradientFeatures(trained, data.test, 'true', 20, makeRng(3, 'x'));
    const probe = await linearProbe(trueF, trueTest, 10, p.probe, 20, 'true', ctx(3));
    expect(out.metrics).toEqual({ source_clean_acc: sourceAcc, probe_acc_true: probe.accuracy });
    // Run again: the same trained source, from the cache.
    const again = await gradientSignProbe.run(structuredClone(p), ctx(3, { onTrained: async (m, info) => void told.push([m, info]) }));
    expect(told[1][0]).toBe(trained);
    expect(again.metrics).toEqual(out.metrics);
    clearTrainedModels();
  });

  it('plans the shared source training (when trained) and one unshared linear probe per feature', () => {
    const p: GradientSignProbeParams = { ...base, features: ['true', 'least-likely'], sourceTraining: config(0.1, 20) };
    const probe = { dataset: 'mnist', trainSubset: 60, testSubset: 40, model: { kind: 'mlp', hidden: [] }, training: p.probe };
    const shareKey = trainingKey(modelKeyParts({ data: p, model: p.sourceModel, training: p.sourceTraining! }));
    expect(gradientSignProbe.trainings!(p)).toEqual([
      { role: 'probe-source', dataset: 'mnist', trainSubset: 60, testSubset: 40, model: p.sourceModel, training: p.sourceTraining, shareKey },
      { role: 'probe-true', ...probe },
      { role: 'probe-least-likely', ...probe },
    ]);
    expect(gradientSignProbe.trainings!({ ...p, sourceTraining: undefined })).toEqual([
      { role: 'probe-true', ...probe },
      { role: 'probe-least-likely', ...probe },
    ]);
  });

  it('names a probe accuracy per feature (with _ for -) and the source’s clean accuracy', () => {
    expect(gradientSignProbe.metricNames({ ...base, features: ['least-likely', 'true'] })).toEqual(['probe_acc_least_likely', 'probe_acc_true', 'source_clean_acc']);
  });

  describe('its params schema', () => {
    // Compiled in each test, not while the file is collected: a mutant that breaks the schema must fail a test
    // (StrykerJS's vitest runner counts a file that fails to collect as 0 tests run, and the mutant as survived).
    let validate: ValidateFunction;
    beforeEach(() => {
      validate = new Ajv2020({ strict: true, allErrors: true }).compile(gradientSignProbe.paramsSchema);
    });
    const valid = JSON.parse(JSON.stringify({ ...base, sourceTraining: config(0.1, 20) }));

    it('admits the params above', () => {
      expect(validate(valid), JSON.stringify(validate.errors)).toBe(true);
    });

    const broken: [string, (p: Record<string, unknown>) => void][] = [
      ['an unknown field', (p) => (p.extra = 1)],
      ...['dataset', 'sourceModel', 'features', 'probe', 'batchSize'].map((f): [string, (p: Record<string, unknown>) => void] => [`no ${f}`, (p) => delete p[f]]),
      ['no features at all', (p) => (p.features = [])],
      ['a feature twice', (p) => (p.features = ['true', 'true'])],
      ['an unknown feature', (p) => (p.features = ['gradient'])],
      ['a batch size of 0', (p) => (p.batchSize = 0)],
      ['a fractional batch size', (p) => (p.batchSize = 2.5)],
      ['a source model of an unknown kind', (p) => (p.sourceModel = { kind: 'transformer' })],
      ['a source training without epochs', (p) => delete (p.sourceTraining as Record<string, unknown>).epochs],
      ['a probe training without epochs', (p) => delete (p.probe as Record<string, unknown>).epochs],
    ];
    for (const [what, breakIt] of broken) {
      it(`refuses ${what}`, () => {
        const p = structuredClone(valid);
        breakIt(p);
        expect(validate(p)).toBe(false);
      });
    }
  });
});
