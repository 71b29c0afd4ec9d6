import * as tf from '@tensorflow/tfjs';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
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

describe('weight paths are confined to the model\'s folder (audit reads models from elsewhere)', () => {
  const good = join(tmp, 'confined-good');
  let weights: Buffer;
  beforeAll(async () => {
    const m = buildClassifier({ kind: 'mlp', hidden: [4] }, input, 10, makeRng(1, 'model'));
    const layers = toLayersModel(m, { kind: 'mlp', hidden: [4] }, input);
    await layers.save(modelFiles(good));
    layers.dispose();
    m.dispose();
    weights = readFileSync(join(good, 'weights.bin'));
  });
  /** A copy of the good model whose manifest names `paths`, after `prepare` ran in its folder. */
  const pointing = (name: string, paths: string[], prepare: (dir: string) => void = () => {}) => {
    const dir = join(tmp, name);
    mkdirSync(dir, { recursive: true });
    const j = JSON.parse(readFileSync(join(good, 'model.json'), 'utf8'));
    j.weightsManifest[0].paths = paths;
    writeFileSync(join(dir, 'model.json'), JSON.stringify(j));
    prepare(dir);
    return dir;
  };
  const refusal = async (dir: string) => {
    const err = await loadTfModel(dir).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ModelFileError);
    return err as ModelFileError;
  };

  it('/dev/zero (an absolute path) is refused without being read', async () => {
    const dir = pointing('dev-zero', ['/dev/zero']);
    const e = await refusal(dir);
    expect(e.message).toBe(`${join(dir, 'model.json')}: weights path "/dev/zero" named by ${join(dir, 'model.json')} is outside the model's folder ${dir}; weight files must sit beside model.json`);
  });

  it('a path with .. out of the folder is refused, even to a real weights file', async () => {
    const dir = pointing('dotdot', ['../confined-good/weights.bin']);
    expect((await refusal(dir)).message).toMatch(/weights path "\.\.\/confined-good\/weights\.bin" .* is outside the model's folder/);
  });

  it('a symbolic link out of the folder is refused, naming where it leads', async () => {
    const dir = pointing('link-out', ['weights.bin'], (d) => symlinkSync(join(good, 'weights.bin'), join(d, 'weights.bin')));
    expect((await refusal(dir)).message).toMatch(/is outside the model's folder .* \(.*weights\.bin links to .*confined-good\/weights\.bin\)/);
  });

  it('a FIFO in the folder is named, not read (a read would block forever)', async () => {
    const dir = pointing('fifo', ['weights.bin'], (d) => execFileSync('mkfifo', [join(d, 'weights.bin')]));
    const e = await refusal(dir);
    expect(e.file).toBe(join(dir, 'weights.bin'));
    expect(e.message).toMatch(/cannot be read \(is a FIFO \(named pipe\), not a regular file\)/);
  });

  it('a weights file larger than the manifest describes is refused before it is read', async () => {
    const dir = pointing('huge', ['weights.bin'], (d) => {
      writeFileSync(join(d, 'weights.bin'), '');
      truncateSync(join(d, 'weights.bin'), 8 * 1024 * 1024 * 1024);
    });
    const e = await refusal(dir);
    expect(e.message).toMatch(new RegExp(`holds 8589934592 bytes, more than the ${weights.length} expected`));
  });

  it('files in a subfolder of the model\'s folder are fine', async () => {
    const dir = pointing('subfolder', ['shards/weights.bin'], (d) => {
      mkdirSync(join(d, 'shards'));
      writeFileSync(join(d, 'shards', 'weights.bin'), weights);
    });
    const loaded = await loadTfModel(dir);
    loaded.net.dispose();
  });
});
