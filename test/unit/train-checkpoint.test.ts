import * as tf from '@tensorflow/tfjs';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkCheckpointFits, checkCheckpoints, CheckpointError, loadCheckpoint, readCheckpointMeta, saveCheckpoint } from '../../src/train/checkpoint.ts';
import { Interrupted, NonFiniteError, NoTrainingError } from '../../src/train/errors.ts';
import { silentProgress } from '../../src/train/progress.ts';

const root = mkdtempSync(join(tmpdir(), 'll-ckpt-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
beforeAll(async () => {
  await tf.setBackend('cpu');
});

let n = 0;
async function saved(): Promise<{ seedDir: string; dir: string; v: tf.Variable }> {
  const seedDir = join(root, `seed-${n++}`);
  const dir = join(seedDir, 'adversarial-0123');
  const v = tf.variable(tf.tensor1d([1, 2, 3]));
  await saveCheckpoint(dir, 'k', 1, 10, { rng: 1 }, [v]);
  return { seedDir, dir, v };
}

describe('a damaged checkpoint', () => {
  it('a truncated checkpoint.json is named, with the fix, both when checked and when loaded', async () => {
    const { seedDir, dir, v } = await saved();
    const meta = join(dir, 'checkpoint.json');
    writeFileSync(meta, readFileSync(meta, 'utf8').slice(0, 20));
    const expected = new RegExp(`^${meta}: damaged \\(not valid JSON.*delete ${dir} to start that seed over`);
    expect(() => loadCheckpoint(dir, 'k', [v])).toThrowError(expected);
    expect(() => checkCheckpoints(seedDir)).toThrowError(CheckpointError);
    expect(() => checkCheckpoints(seedDir)).toThrowError(expected);
  });

  it('weights that do not match their SHA-256 are named', async () => {
    const { seedDir, dir } = await saved();
    writeFileSync(join(dir, 'checkpoint.bin'), Buffer.alloc(12));
    expect(() => checkCheckpoints(seedDir)).toThrowError(new RegExp(`^${join(dir, 'checkpoint.bin')}: damaged`));
  });

  it('an intact checkpoint passes the check and loads', async () => {
    const { seedDir, dir, v } = await saved();
    expect(() => checkCheckpoints(seedDir)).not.toThrow();
    expect(() => checkCheckpoints(join(root, 'none'))).not.toThrow();
    mkdirSync(join(seedDir, 'empty-subfolder'));
    expect(loadCheckpoint(dir, 'k', [v])?.step).toBe(10);
  });
});

/** A saved checkpoint of two variables (shapes [3] and [2, 2]) whose metadata `edit` changes. */
async function savedTwo(edit: (m: Record<string, any>) => void = () => {}): Promise<{ dir: string; meta: string; vars: tf.Variable[] }> {
  const dir = join(root, `two-${n++}`);
  const vars = [tf.variable(tf.tensor1d([1, 2, 3])), tf.variable(tf.tensor2d([4, 5, 6, 7], [2, 2]))];
  await saveCheckpoint(dir, 'k', 1, 2, { rng: 7 }, vars);
  const meta = join(dir, 'checkpoint.json');
  const m = JSON.parse(readFileSync(meta, 'utf8'));
  edit(m);
  writeFileSync(meta, JSON.stringify(m));
  return { dir, meta, vars };
}

describe('what a checkpoint holds, and what reading it checks', () => {
  it('saves every variable in order with its offset, the position and the loop state, and loads them back', async () => {
    const { dir, vars } = await savedTwo();
    const meta = readCheckpointMeta<{ rng: number }>(dir);
    expect(meta).toMatchObject({ format: 1, key: 'k', epoch: 1, step: 2, loopState: { rng: 7 } });
    expect(meta.tensors).toEqual([
      { shape: [3], offset: 0, length: 3 },
      { shape: [2, 2], offset: 3, length: 4 },
    ]);
    const fresh = [tf.variable(tf.zeros([3])), tf.variable(tf.zeros([2, 2]))];
    expect(loadCheckpoint(dir, 'k', fresh)?.loopState).toEqual({ rng: 7 });
    expect(fresh.map((v) => Array.from(v.dataSync()))).toEqual(vars.map((v) => Array.from(v.dataSync())));
    // Another key, or no checkpoint at all: nothing is loaded and the variables stay as they are.
    expect(loadCheckpoint(dir, 'other', fresh)).toBeNull();
    expect(loadCheckpoint(join(root, 'none'), 'k', fresh)).toBeNull();
  });

  it('a checkpoint of another format is not loaded', async () => {
    const { dir, vars } = await savedTwo((m) => void (m.format = 2));
    expect(loadCheckpoint(dir, 'k', vars)).toBeNull();
  });

  it.each([
    ['no digest', (m: any) => delete m.sha256, 'damaged (not a checkpoint description)'],
    ['no tensor list', (m: any) => void (m.tensors = {}), 'damaged (not a checkpoint description)'],
    ['a negative dimension', (m: any) => void (m.tensors[1].shape = [-2, -2]), "damaged (tensor 1's shape, offset or length does not fit checkpoint.bin)"],
    ['a fractional dimension', (m: any) => void (m.tensors[0].shape = [1.5, 2]), "damaged (tensor 0's shape, offset or length does not fit checkpoint.bin)"],
    ['a negative offset', (m: any) => void (m.tensors[0].offset = -1), "damaged (tensor 0's shape, offset or length does not fit checkpoint.bin)"],
    ['a length that is not the shape\'s size', (m: any) => void (m.tensors[1].length = 3), "damaged (tensor 1's shape, offset or length does not fit checkpoint.bin)"],
    ['a tensor past the end of the weights', (m: any) => void (m.tensors[1].offset = 4), "damaged (tensor 1's shape, offset or length does not fit checkpoint.bin)"],
  ])('%s is refused by name', async (_what, edit, reason) => {
    const { dir, meta } = await savedTwo(edit);
    expect(() => readCheckpointMeta(dir)).toThrowError(`${meta}: ${reason}; delete ${dir} to start that seed over (or run without --resume)`);
  });

  it('a tensor that ends exactly at the end of the weights fits', async () => {
    const { dir } = await savedTwo();
    expect(readCheckpointMeta(dir).tensors[1]).toEqual({ shape: [2, 2], offset: 3, length: 4 });
  });

  it('a missing metadata or weights file is named by its error code', async () => {
    const { dir, meta } = await savedTwo();
    rmSync(join(dir, 'checkpoint.bin'));
    expect(() => readCheckpointMeta(dir)).toThrowError(`${join(dir, 'checkpoint.bin')}: cannot read: ENOENT; delete ${dir}`);
    rmSync(meta);
    expect(() => readCheckpointMeta(dir)).toThrowError(`${meta}: cannot read: ENOENT; delete ${dir}`);
  });

  it('a CheckpointError is named so', async () => {
    const { dir, meta } = await savedTwo((m) => void (m.tensors[0].offset = -1));
    let caught: unknown;
    try {
      readCheckpointMeta(dir);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(CheckpointError);
    expect((caught as Error).name).toBe('CheckpointError');
    expect((caught as CheckpointError).file).toBe(meta);
  });

  it('metadata that is JSON null, or a tensor entry that is null, is damaged, not a crash', async () => {
    const { dir, meta } = await savedTwo();
    const good = readFileSync(meta, 'utf8');
    writeFileSync(meta, 'null');
    expect(() => readCheckpointMeta(dir)).toThrowError(`${meta}: damaged (not a checkpoint description);`);
    const m = JSON.parse(good);
    m.tensors[1] = null;
    writeFileSync(meta, JSON.stringify(m));
    expect(() => readCheckpointMeta(dir)).toThrowError(`${meta}: damaged (tensor 1's shape, offset or length does not fit checkpoint.bin);`);
  });

  it('a tensor with a zero dimension (no values) fits', async () => {
    const { dir } = await savedTwo((m) => void m.tensors.push({ shape: [0, 3], offset: 7, length: 0 }));
    expect(readCheckpointMeta(dir).tensors[2]).toEqual({ shape: [0, 3], offset: 7, length: 0 });
  });

  it('loading into variables of another count or shape is refused', async () => {
    const { dir, meta } = await savedTwo();
    expect(() => loadCheckpoint(dir, 'k', [tf.variable(tf.zeros([3]))])).toThrowError(`${meta}: holds 2 tensors, the model has 1`);
    expect(() => loadCheckpoint(dir, 'k', [tf.variable(tf.zeros([3])), tf.variable(tf.zeros([4]))])).toThrowError(`${meta}: tensor 1 has shape 2,2, the model expects 4`);
  });
});

describe('checkCheckpointFits: a checkpoint inside the run\'s schedule, with the model\'s shapes', () => {
  const expectation = { epochs: 2, stepsPerEpoch: 5, shapes: [[3], [2, 2]] };
  const fits = async (edit: (m: Record<string, any>) => void) => {
    const { dir } = await savedTwo(edit);
    return () => checkCheckpointFits(dir, readCheckpointMeta(dir), expectation);
  };

  it('every position from epoch 0 step 0 to the last step of the last epoch, and the end (epoch 2, step 0), fits', async () => {
    for (const [epoch, step] of [[0, 0], [1, 4], [2, 0]]) {
      expect(await fits((m) => Object.assign(m, { epoch, step }))).not.toThrow();
    }
  });

  it.each([
    [-1, 0, 'says epoch -1, but this run trains 2 epochs (a checkpoint is at epoch 0 to 2)'],
    [3, 0, 'says epoch 3, but this run trains 2 epochs (a checkpoint is at epoch 0 to 2)'],
    [0.5, 0, 'says epoch 0.5, but this run trains 2 epochs (a checkpoint is at epoch 0 to 2)'],
    [1, 5, 'says step 5 of epoch 1, but an epoch of this run has 5 steps (the next step is 0 to 4)'],
    [1, -1, 'says step -1 of epoch 1, but an epoch of this run has 5 steps (the next step is 0 to 4)'],
    [1, 1.5, 'says step 1.5 of epoch 1, but an epoch of this run has 5 steps (the next step is 0 to 4)'],
    [2, 1, 'says step 1 of epoch 2, but an epoch of this run has 5 steps (the next step is 0 to 0)'],
  ])('epoch %s, step %s is refused', async (epoch, step, reason) => {
    const { dir, meta } = await savedTwo((m) => Object.assign(m, { epoch, step }));
    expect(() => checkCheckpointFits(dir, readCheckpointMeta(dir), expectation)).toThrowError(`${meta}: ${reason};`);
  });

  it('tensors of another count or shape are refused', async () => {
    const { dir, meta } = await savedTwo();
    const m = readCheckpointMeta(dir);
    expect(() => checkCheckpointFits(dir, m, { ...expectation, shapes: [[3]] })).toThrowError(`${meta}: holds 2 tensors, the model has 1;`);
    expect(() => checkCheckpointFits(dir, m, { ...expectation, shapes: [[3], [4]] })).toThrowError(`${meta}: tensor 1 has shape 2,2, the model expects 4;`);
    expect(() => checkCheckpointFits(dir, m, { ...expectation, shapes: [[3], [2, 2]] })).not.toThrow();
  });
});

describe('why training stops', () => {
  it('names what happened and what to do', () => {
    const i = new Interrupted();
    expect([i.name, i.message]).toEqual(['Interrupted', 'interrupted; a checkpoint was written — run again with --resume to continue']);
    const nf = new NonFiniteError('training loss at epoch 1, step 3', NaN);
    expect([nf.name, nf.message]).toEqual(['NonFiniteError', 'non-finite value NaN in training loss at epoch 1, step 3']);
    const none = new NoTrainingError(40, 50, 1);
    expect([none.name, none.message]).toEqual(['NoTrainingError', '0 training steps: batch size 50 is more than the 40 training images (1 epoch); use a batch size of at most 40']);
    expect(new NoTrainingError(40, 50, 3).message).toBe('0 training steps: batch size 50 is more than the 40 training images (3 epochs); use a batch size of at most 40');
  });

  it('silent progress accepts every call and does nothing', () => {
    expect(() => {
      silentProgress.start('x', 1);
      silentProgress.tick(1, { a: 1 });
      silentProgress.stop();
    }).not.toThrow();
  });
});
