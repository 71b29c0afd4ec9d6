import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackendInfo } from '../../src/backend/info.ts';
import { seededSubset } from '../../src/data/batches.ts';
import { loadDataset } from '../../src/data/registry.ts';
import type { ImageSet } from '../../src/data/types.ts';
import { clearTrainedModels, modelKeyParts, selectData, trainedModel, trainingKey } from '../../src/experiments/trained-models.ts';
import type { RunContext, TrainedModelInfo } from '../../src/experiments/types.ts';
import { buildClassifier } from '../../src/models/spec.ts';
import type { Classifier } from '../../src/models/types.ts';
import { readCheckpointMeta } from '../../src/train/checkpoint.ts';
import type { TrainConfig } from '../../src/train/loop.ts';
import { silentProgress, type ProgressSink } from '../../src/train/progress.ts';
import { makeRng } from '../../src/util/rng.ts';

/**
 * The data selection and the model cache every training kind goes through: which images a
 * seed selects (the named streams a record made elsewhere must reproduce), what a cached model
 * is keyed on, and what whoever keeps trained models is told.
 */

const DATA = 'fixtures/data';
const backend: BackendInfo = { name: 'cpu', version: tf.version_core, threads: 1, device: 'cpu', reason: 'test' };
const ctx = (seed: number, more: Partial<RunContext> = {}): RunContext => ({ seed, dataDir: DATA, backend, progress: silentProgress, ...more });
const model = { kind: 'mlp' as const, hidden: [] };
const training: TrainConfig = { epochs: 1, batchSize: 20, lr: { base: 0.1, milestones: [], gamma: 1 }, momentum: 0.9, nesterov: false, weightDecay: 0, adversarial: null };
const sel = { dataset: 'mnist' as const, trainSubset: 60, testSubset: 40 };

const countsOf = (set: ImageSet) => {
  const counts = new Map<number, number>();
  for (const l of set.labels.subarray(0, set.count)) counts.set(l, (counts.get(l) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => a[0] - b[0]);
};
/** Byte arrays compared as buffers: vitest's deep equality walks 200,000 elements one by one. */
const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const weightsOf = (m: Classifier) => m.trainable.map((v) => Array.from(v.dataSync()));

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});
afterAll(() => clearTrainedModels());

describe('selectData', () => {
  it('draws class-balanced subsets of the fixture data from the streams data/<dataset>/train and data/<dataset>/test', async () => {
    const full = await loadDataset('mnist', { dataDir: DATA });
    const d = await selectData(sel, 4, DATA);
    expect(d.dataset.name).toBe('mnist');
    expect([d.train.count, d.test.count]).toEqual([60, 40]);
    // 10 classes: 6 of each among 60 training images, 4 of each among 40 test images.
    expect(countsOf(d.train)).toEqual(Array.from({ length: 10 }, (_, c) => [c, 6]));
    expect(countsOf(d.test)).toEqual(Array.from({ length: 10 }, (_, c) => [c, 4]));
    const trainRef = seededSubset(full.train, 60, makeRng(4, 'data/mnist/train'), { stratified: true });
    const testRef = seededSubset(full.test, 40, makeRng(4, 'data/mnist/test'), { stratified: true });
    expect(sameBytes(d.train.images, trainRef.images)).toBe(true);
    expect(sameBytes(d.train.labels, trainRef.labels)).toBe(true);
    expect(sameBytes(d.test.images, testRef.images)).toBe(true);
    expect(sameBytes(d.test.labels, testRef.labels)).toBe(true);
  });

  it('without subsets takes the whole training and test sets', async () => {
    const full = await loadDataset('mnist', { dataDir: DATA });
    const d = await selectData({ dataset: 'mnist' }, 4, DATA);
    // The fixture's sets, not the real MNIST's 60,000 / 10,000 (the data folder is the one given).
    expect([d.train.count, d.test.count]).toEqual([full.train.count, full.test.count]);
    expect(sameBytes(d.train.images, full.train.images)).toBe(true);
    expect(sameBytes(d.test.images, full.test.images)).toBe(true);
  });
});

describe('the model cache key', () => {
  it('is the first 16 hex digits of the SHA-256 of the parts as JSON', () => {
    // printf '%s' '{"seed":1,"what":"x"}' | sha256sum → bcae8f15da311bb8…
    expect(trainingKey({ seed: 1, what: 'x' })).toBe('bcae8f15da311bb8');
  });

  it('keeps of the data selection only the dataset and the two subset sizes, with the model, training and curve', () => {
    const data = { ...sel, sourceModel: { kind: 'mlp', hidden: [8] }, features: ['true'] } as unknown as typeof sel;
    expect(modelKeyParts({ data, model, training, curve: { eps: 6 } })).toEqual({ data: sel, model, training, curve: { eps: 6 } });
    expect(modelKeyParts({ data: { dataset: 'cifar10' }, model, training })).toEqual({ data: { dataset: 'cifar10' }, model, training });
  });
});

describe('trainedModel', () => {
  it('trains once per data, model, training, seed and backend, and tells onTrained each time with what the model is', async () => {
    clearTrainedModels();
    const before = tf.memory().numTensors;
    const told: [Classifier, TrainedModelInfo][] = [];
    const onTrained = async (m: Classifier, info: TrainedModelInfo) => void told.push([m, info]);
    const data = await selectData(sel, 3, DATA);
    const what = { data: sel, model, training, role: 'adversarial' };
    const first = await trainedModel(what, data, ctx(3, { onTrained }));
    expect(first.fresh).toBe(true);
    expect(first.epochs.map((p) => p.epoch)).toEqual([1]);
    expect(first.imagesPerSecond).toBeGreaterThan(0);
    const key = trainingKey({ ...modelKeyParts(what), seed: 3, backend: 'cpu' });
    const info: TrainedModelInfo = { role: 'adversarial', key, model, input: { height: 28, width: 28, channels: 1 }, dataset: 'mnist', classes: data.dataset.classes, training };
    expect(told).toEqual([[first.model, info]]);
    expect(told[0][0]).toBe(first.model);

    // The same again, under another role: the cached model, not fresh, and onTrained is told again (with this role).
    const again = await trainedModel({ ...what, role: 'control' }, data, ctx(3, { onTrained }));
    expect(again).toEqual({ ...first, fresh: false });
    expect(again.model).toBe(first.model);
    expect(told[1][0]).toBe(first.model);
    expect(told[1][1]).toEqual({ ...info, role: 'control' });
    // A cache hit without anyone to tell.
    expect((await trainedModel(what, data, ctx(3))).fresh).toBe(false);

    // Another seed, another backend: other models.
    const otherSeed = await trainedModel(what, data, ctx(4));
    expect(otherSeed.fresh).toBe(true);
    const otherBackend = await trainedModel(what, data, { ...ctx(3), backend: { ...backend, name: 'wasm' } });
    expect(otherBackend.fresh).toBe(true);
    expect(otherBackend.model).not.toBe(first.model);

    // clearTrainedModels frees every cached model, and the next call trains afresh.
    clearTrainedModels();
    expect(tf.memory().numTensors).toBe(before);
    expect(first.model.trainable[0].isDisposed).toBe(true);
    const fresh = await trainedModel(what, data, ctx(3));
    expect(fresh.fresh).toBe(true);
    clearTrainedModels();
  });

  it('starts from weights drawn from the stream model/<dataset>/<model as JSON>, whatever the role or training', async () => {
    clearTrainedModels();
    const data = await selectData(sel, 3, DATA);
    // lr 0 and no weight decay: training leaves the initial weights as they were.
    const still: TrainConfig = { ...training, lr: { base: 0, milestones: [], gamma: 1 } };
    const t = await trainedModel({ data: sel, model, training: still, role: 'control' }, data, ctx(3));
    const ref = buildClassifier(model, { height: 28, width: 28, channels: 1 }, 10, makeRng(3, `model/mnist/${JSON.stringify(model)}`));
    try {
      expect(weightsOf(t.model)).toEqual(weightsOf(ref));
    } finally {
      ref.dispose();
      clearTrainedModels();
    }
  });

  it('reports progress to the context, passes the model to the per-epoch callback and records what it returns', async () => {
    clearTrainedModels();
    const data = await selectData(sel, 3, DATA);
    const started: string[] = [];
    const progress: ProgressSink = { start: (label) => void started.push(label), tick() {}, stop() {} };
    let seen: Classifier | undefined;
    const t = await trainedModel({ data: sel, model, training, role: 'adversarial' }, data, ctx(3, { progress }), (m) => {
      seen = m;
      return async () => ({ cleanAcc: 0.25, advAcc: 0.5 });
    });
    expect(seen).toBe(t.model);
    expect(started).toEqual(['train mlp[]']);
    expect(t.epochs).toEqual([{ epoch: 1, trainLoss: expect.any(Number), cleanAcc: 0.25, advAcc: 0.5 }]);
    clearTrainedModels();
  });

  describe('with a checkpoint folder', () => {
    const dirs: string[] = [];
    afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
    const tmp = () => {
      const d = mkdtempSync(join(tmpdir(), 'label-leak-trained-'));
      dirs.push(d);
      return d;
    };

    it('checkpoints into <folder>/<role>-<key>, under the model key, at the end of each epoch', async () => {
      clearTrainedModels();
      const data = await selectData(sel, 3, DATA);
      const dir = tmp();
      let info: TrainedModelInfo | undefined;
      await trainedModel({ data: sel, model, training, role: 'adversarial' }, data, ctx(3, { checkpointDir: dir, onTrained: async (_, i) => void (info = i) }));
      const meta = readCheckpointMeta(join(dir, `adversarial-${info!.key}`));
      expect([meta.key, meta.epoch, meta.step]).toEqual([info!.key, 1, 0]);
      clearTrainedModels();
    });

    it('checkpoints every checkpointEvery steps within an epoch', async () => {
      clearTrainedModels();
      const before = tf.memory().numTensors;
      const data = await selectData(sel, 3, DATA);
      const dir = tmp();
      let captured: Classifier | undefined;
      // Stopping at the first epoch's end, before its end-of-epoch checkpoint: what is on disk is the last in-epoch one.
      const stop = (m: Classifier) => {
        captured = m;
        return async () => {
          throw new Error('stopped at the epoch end');
        };
      };
      await expect(trainedModel({ data: sel, model, training, role: 'adversarial' }, data, ctx(3, { checkpointDir: dir, checkpointEvery: 2 }), stop)).rejects.toThrow(/stopped/);
      const key = trainingKey({ ...modelKeyParts({ data: sel, model, training }), seed: 3, backend: 'cpu' });
      // 60 images in batches of 20: 3 steps; every 2 steps puts the last one after step 2.
      const meta = readCheckpointMeta(join(dir, `adversarial-${key}`));
      expect([meta.epoch, meta.step]).toEqual([0, 2]);
      // The model of a failed training is nobody's: freed here, so the count stays flat.
      captured!.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  });
});
