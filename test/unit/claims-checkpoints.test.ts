import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { checkResumeCheckpoints, keyParts } from '../../src/claims/checkpoints.ts';
import { checkpointDir } from '../../src/claims/runner.ts';
import { loadSpecFile } from '../../src/claims/spec-files.ts';
import type { LoadedSpec } from '../../src/claims/spec.ts';
import { loadDataset } from '../../src/data/registry.ts';
import { modelKeyParts, trainingKey } from '../../src/experiments/trained-models.ts';
import { experiments } from '../../src/experiments/registry.ts';
import type { PlannedTraining } from '../../src/experiments/types.ts';
import { requireTier } from '../../src/spec/claim.ts';
import type { DatasetName } from '../../src/spec/names.ts';
import { buildClassifier } from '../../src/models/spec.ts';
import { CheckpointError, saveCheckpoint } from '../../src/train/checkpoint.ts';
import { makeRng } from '../../src/util/rng.ts';
import { standInRegistry } from '../fixtures-specs/stand-in-kind.ts';

// checkResumeCheckpoints called directly (cli-run-refusals checks the same through the CLI, in
// child processes that StrykerJS's mutants never reach): the checkpoint the adversarial model of
// seed 1 would leave on the cpu backend, written as the training loop writes it (trainable
// variables, state, one velocity per trainable variable; key and folder as trained-models.ts
// makes them), then edited one field at a time. Made without training: milliseconds.

const tmp = mkdtempSync(join(tmpdir(), 'llk-resume-checkpoints-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(tmp, `r-${n++}`);

const spec = loadSpecFile('test/fixtures-specs/real-kinds/tiny-mnist-fgsm.json', experiments);
const load = (name: DatasetName) => loadDataset(name, {});
let made: string;

/** A copy of the interrupted run's adversarial checkpoint (in a results folder of its own), its metadata edited. */
function withCheckpoint(edit: (meta: Record<string, any>) => void = () => {}): { results: string; file: string; original: Record<string, any> } {
  const results = fresh();
  const from = checkpointDir(made, 'fast', spec.id, 1);
  const folder = readdirSync(from).find((d) => d.startsWith('adversarial-'))!;
  const to = join(checkpointDir(results, 'fast', spec.id, 1), folder);
  mkdirSync(to, { recursive: true });
  for (const f of ['checkpoint.json', 'checkpoint.bin']) copyFileSync(join(from, folder, f), join(to, f));
  const file = join(to, 'checkpoint.json');
  const original = JSON.parse(readFileSync(file, 'utf8'));
  const meta = structuredClone(original);
  edit(meta);
  writeFileSync(file, JSON.stringify(meta));
  return { results, file, original };
}

const check = (results: string, backend: 'cpu' | 'wasm' | 'auto' = 'cpu', s: LoadedSpec = spec, seeds = [1]) => checkResumeCheckpoints(s, 'fast', results, seeds, backend, load);

/** The spec with its kind's planned trainings rewritten. */
const withTrainings = (rewrite: (ts: PlannedTraining[]) => PlannedTraining[]): LoadedSpec => ({
  ...spec,
  kind: { ...spec.kind, trainings: (p: never) => rewrite(spec.kind.trainings!(p)!) },
});

describe('checkpoints --resume would use are checked before the backend starts', () => {
  // Here, not at the top: the keyParts tests below must still run (and fail) when keyParts breaks.
  beforeAll(async () => {
    await tf.setBackend('cpu');
    const [adversarial] = spec.kind.trainings!(requireTier(spec, 'fast').params)!;
    const key = trainingKey({ ...keyParts(adversarial)!, seed: 1, backend: 'cpu' });
    const ds = await load('mnist');
    const model = buildClassifier(adversarial.model, { height: ds.train.height, width: ds.train.width, channels: ds.train.channels }, ds.classes.length, makeRng(1, 'test'));
    const velocities = model.trainable.map((v) => tf.variable(tf.zerosLike(v)));
    made = fresh();
    // Epoch 0, step 3: inside the schedule (trainSubset 400 / batchSize 50 = 8 steps an epoch, 2 epochs).
    await saveCheckpoint(join(checkpointDir(made, 'fast', spec.id, 1), `adversarial-${key}`), key, 0, 3, {}, [...model.trainable, ...model.state, ...velocities]);
    velocities.forEach((v) => v.dispose());
    model.dispose();
  });

  it('no checkpoint folder, or an untouched checkpoint on its own or any backend: nothing to refuse', async () => {
    await expect(check(fresh())).resolves.toBeUndefined();
    const { results } = withCheckpoint();
    await expect(check(results, 'cpu')).resolves.toBeUndefined();
    await expect(check(results, 'auto')).resolves.toBeUndefined();
    // Seed 2 has no checkpoint in this folder: only seed 1's is looked at.
    await expect(check(results, 'cpu', spec, [2, 1])).resolves.toBeUndefined();
  });

  it('a checkpoint of another training configuration names its key, the seed and the claim', async () => {
    const { results, file } = withCheckpoint((m) => void (m.key = '0123456789abcdef'));
    const err = await check(results).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as Error).message).toBe(
      `${file}: a checkpoint of another training configuration (key 0123456789abcdef) than seed 1 of tiny-mnist-fgsm [fast] trains now, which this run would ignore and train from the start; delete ${join(file, '..')} to start that seed over (or run without --resume)`,
    );
  });

  it('a checkpoint made on another backend names the backend to resume it with', async () => {
    const { results, file } = withCheckpoint();
    await expect(check(results, 'wasm')).rejects.toThrow(`${file}: made on backend cpu; this run uses wasm, which would ignore it — run with --backend cpu to resume it`);
  });

  it('a checkpoint that does not fit the model: its schedule position and its tensors are checked against the run', async () => {
    // trainSubset 400 / batchSize 50: 8 steps an epoch, 2 epochs.
    await expect(check(withCheckpoint((m) => void (m.epoch = 3)).results)).rejects.toThrow(/says epoch 3, but this run trains 2 epochs/);
    await expect(check(withCheckpoint((m) => void (m.step = 8)).results)).rejects.toThrow(/an epoch of this run has 8 steps \(the next step is 0 to 7\)/);
    const { results, original } = withCheckpoint((m) => void m.tensors.pop());
    // The model's trainable variables, its state, then one velocity per trainable variable.
    await expect(check(results)).rejects.toThrow(`holds ${original.tensors.length - 1} tensors, the model has ${original.tensors.length}`);
    const shapes = withCheckpoint((m) => void (m.tensors[0].shape = [...m.tensors[0].shape].reverse()));
    const shape: number[] = shapes.original.tensors[0].shape;
    await expect(check(shapes.results)).rejects.toThrow(`tensor 0 has shape ${[...shape].reverse()}, the model expects ${shape}`);
  });

  it('a checkpoint in a nested folder is found as well', async () => {
    const { results, file } = withCheckpoint((m) => void (m.key = 'feedfacefeedface'));
    const nested = join(file, '..', 'deeper');
    mkdirSync(nested);
    for (const f of ['checkpoint.json', 'checkpoint.bin']) copyFileSync(join(file, '..', f), join(nested, f));
    rmSync(file);
    await expect(check(results)).rejects.toThrow(`${join(nested, 'checkpoint.json')}: a checkpoint of another training configuration (key feedfacefeedface)`);
  });

  it('a kind that plans no trainings owns no checkpoint: none to check, and one found is refused', async () => {
    const standIn = loadSpecFile('test/fixtures-specs/stand-in-leak.json', standInRegistry);
    expect(standIn.kind.trainings).toBeUndefined();
    const results = fresh();
    await expect(checkResumeCheckpoints(standIn, 'fast', results, [1], 'cpu', load)).resolves.toBeUndefined();
    const { file } = withCheckpoint();
    const to = join(checkpointDir(results, 'fast', standIn.id, 1), 'adversarial');
    mkdirSync(to, { recursive: true });
    for (const f of ['checkpoint.json', 'checkpoint.bin']) copyFileSync(join(file, '..', f), join(to, f));
    await expect(checkResumeCheckpoints(standIn, 'fast', results, [1], 'cpu', load)).rejects.toThrow(/another training configuration .* than seed 1 of stand-in-leak \[fast\]/);
  });

  it('checking a checkpoint leaves no tensor behind', async () => {
    const { results } = withCheckpoint();
    const before = tf.memory().numTensors;
    await check(results);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a backend already set (the run\'s) is left as it is', async () => {
    // A second cpu backend under another name, so the check could run on it.
    tf.registerBackend('the-runs', tf.findBackendFactory('cpu')!);
    for (const k of tf.getKernelsForBackend('cpu')) tf.registerKernel({ ...k, backendName: 'the-runs' });
    try {
      await tf.setBackend('the-runs');
      await expect(check(withCheckpoint().results)).resolves.toBeUndefined();
      expect(tf.getBackend()).toBe('the-runs');
    } finally {
      await tf.setBackend('cpu');
      tf.removeBackend('the-runs');
    }
  });

  it('with no backend set yet, the shapes are taken on cpu and no other backend is started', async () => {
    // The best registered backend (highest priority) is the run's to start, not the check's.
    const best = vi.fn(tf.findBackendFactory('cpu')!);
    tf.registerBackend('best', best, 1000);
    // Unset the backend: set one, then remove it.
    tf.registerBackend('gone', tf.findBackendFactory('cpu')!);
    try {
      await tf.setBackend('gone');
      tf.removeBackend('gone');
      expect(tf.getBackend()).toBeFalsy();
      await expect(check(withCheckpoint().results)).resolves.toBeUndefined();
      expect(tf.getBackend()).toBe('cpu');
      expect(best).not.toHaveBeenCalled();
    } finally {
      tf.removeBackend('best');
      await tf.setBackend('cpu');
    }
  });

  it('a model whose key cannot be rebuilt may own an unknown checkpoint: it is left to the loader', async () => {
    const { results } = withCheckpoint((m) => void (m.key = '0123456789abcdef'));
    const unrebuildable = withTrainings((ts) => ts.map((t) => ({ ...t, shareKey: 'not-a-key-of-its-parts' })));
    await expect(check(results, 'cpu', unrebuildable)).resolves.toBeUndefined();
    // A training with no share key owns no checkpoint: the unknown one is refused.
    const unshared = withTrainings((ts) => ts.map((t) => ({ ...t, shareKey: undefined })));
    await expect(check(results, 'cpu', unshared)).rejects.toThrow(/another training configuration/);
  });
});

describe('keyParts: the parts of a planned training\'s model key', () => {
  const trainings = spec.kind.trainings!(requireTier(spec, 'fast').params)!;

  it('hash to its share key, with or without the per-epoch curve', () => {
    expect(trainings.length).toBeGreaterThan(1);
    for (const t of trainings) {
      const parts = keyParts(t)!;
      expect(trainingKey(parts)).toBe(t.shareKey);
      expect(parts.data).toEqual({ dataset: 'mnist', trainSubset: 400, testSubset: 200 });
      expect(parts.training).toBe(t.training);
    }
    // Both of the fixture's models record per-epoch curves; a model keyed without one is found too.
    expect(trainings.every((t) => keyParts(t)!.curve !== undefined)).toBe(true);
    const t = trainings[0];
    const noCurve = { ...t, shareKey: trainingKey(modelKeyParts({ data: { dataset: t.dataset, trainSubset: t.trainSubset, testSubset: t.testSubset }, model: t.model, training: t.training })) };
    expect(keyParts(noCurve)).toEqual({ ...keyParts(t)!, curve: undefined });
  });

  it('are undefined without a share key, or when no parts hash to it', () => {
    expect(keyParts({ ...trainings[0], shareKey: undefined })).toBeUndefined();
    expect(keyParts({ ...trainings[0], shareKey: '0000000000000000' })).toBeUndefined();
  });
});
