import * as tf from '@tensorflow/tfjs';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend } from '../../src/backend/select.ts';
import { toLayersModel } from '../../src/models/export.ts';
import { loadTfModel, ModelFileError, modelFiles } from '../../src/models/model-files.ts';
import { buildClassifier } from '../../src/models/spec.ts';
import { makeRng } from '../../src/util/rng.ts';

const tmp = mkdtempSync(join(tmpdir(), 'llk-model-files-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  await startBackend('cpu');
});

const input = { height: 8, width: 8, channels: 3 };

describe('saving writes model.json and weights.bin; loading reads them back', () => {
  it('a saved model loads with its metadata, and loading leaves no tensors behind once disposed', async () => {
    const m = buildClassifier({ kind: 'mlp', hidden: [4] }, input, 10, makeRng(1, 'model'));
    const layers = toLayersModel(m, { kind: 'mlp', hidden: [4] }, input);
    layers.setUserDefinedMetadata({ labelLeak: { dataset: 'mnist' } });
    await layers.save(modelFiles(join(tmp, 'roundtrip')));
    layers.dispose();
    m.dispose();
    const before = tf.memory().numTensors;
    const loaded = await loadTfModel(join(tmp, 'roundtrip', 'model.json'));
    expect(loaded.metadata).toEqual({ labelLeak: { dataset: 'mnist' } });
    expect(loaded.outputs).toBe('logits');
    loaded.net.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('a malformed model file is named, with what is wrong', () => {
  const good = join(tmp, 'good');
  beforeAll(async () => {
    const m = buildClassifier({ kind: 'mlp', hidden: [4] }, input, 10, makeRng(1, 'model'));
    const layers = toLayersModel(m, { kind: 'mlp', hidden: [4] }, input);
    await layers.save(modelFiles(good));
    layers.dispose();
    m.dispose();
  });
  const variant = (name: string, edit: (dir: string) => void) => {
    const dir = join(tmp, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'model.json'), readFileSync(join(good, 'model.json')));
    writeFileSync(join(dir, 'weights.bin'), readFileSync(join(good, 'weights.bin')));
    edit(dir);
    return dir;
  };
  const fails = async (dir: string, file: string, reason: RegExp) => {
    const err = await loadTfModel(dir).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ModelFileError);
    expect((err as ModelFileError).file).toBe(file);
    expect((err as Error).message).toMatch(reason);
  };

  it('a missing model.json', () => fails(join(tmp, 'nowhere'), join(tmp, 'nowhere', 'model.json'), /cannot read \(ENOENT\)/));
  it('model.json that is not JSON', async () => {
    const dir = variant('not-json', (d) => writeFileSync(join(d, 'model.json'), '{"modelTopology": '));
    await fails(dir, join(dir, 'model.json'), /not valid JSON/);
  });
  it('model.json without a topology', async () => {
    const dir = variant('no-topology', (d) => writeFileSync(join(d, 'model.json'), JSON.stringify({ weightsManifest: [] })));
    await fails(dir, join(dir, 'model.json'), /modelTopology/);
  });
  it('a weights manifest of the wrong shape', async () => {
    const dir = variant('bad-manifest', (d) => {
      const j = JSON.parse(readFileSync(join(d, 'model.json'), 'utf8'));
      j.weightsManifest = [{ paths: 'weights.bin' }];
      writeFileSync(join(d, 'model.json'), JSON.stringify(j));
    });
    await fails(dir, join(dir, 'model.json'), /weightsManifest/);
  });
  it('a truncated weights file', async () => {
    const dir = variant('truncated', (d) => truncateSync(join(d, 'weights.bin'), 100));
    await fails(dir, join(dir, 'weights.bin'), /holds 100 bytes/);
  });
  it('a missing weights file', async () => {
    const dir = variant('no-weights', (d) => rmSync(join(d, 'weights.bin')));
    await fails(dir, join(dir, 'weights.bin'), /cannot be read \(ENOENT\)/);
  });
  it('a topology tfjs cannot build', async () => {
    const dir = variant('unknown-layer', (d) => {
      const text = readFileSync(join(d, 'model.json'), 'utf8').replace(/"class_name":"Dense"/g, '"class_name":"NoSuchLayer"');
      writeFileSync(join(d, 'model.json'), text);
    });
    await fails(dir, join(dir, 'model.json'), /cannot build a layers-model.*NoSuchLayer/);
  });
});
