import * as tf from '@tensorflow/tfjs';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkCheckpoints, CheckpointError, loadCheckpoint, saveCheckpoint } from '../../src/train/checkpoint.ts';

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
