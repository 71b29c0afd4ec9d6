import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend } from '../../src/backend/select.ts';
import { loadDataset } from '../../src/data/registry.ts';
import type { ImageSet } from '../../src/data/types.ts';
import type { ProgressSink } from '../../src/train/progress.ts';
import { Interrupted } from '../../src/train/errors.ts';
import { buildClassifier } from '../../src/models/spec.ts';
import { train, type TrainConfig } from '../../src/train/loop.ts';
import { makeRng } from '../../src/util/rng.ts';

const silent: ProgressSink = { start() {}, tick() {}, stop() {} };
const config: TrainConfig = {
  epochs: 2,
  batchSize: 20,
  lr: { base: 0.05, milestones: [1], gamma: 0.5 },
  momentum: 0.9,
  nesterov: true,
  weightDecay: 1e-4,
  augment: { crop: 2, flip: true },
  adversarial: { attack: 'fgsm', fraction: 0.5, epsSigma: 12, lossWeight: 1 },
};

let data: ImageSet;
const dirs: string[] = [];

beforeAll(async () => {
  await startBackend('wasm');
  data = (await loadDataset('cifar10', { dataDir: 'fixtures/data' })).train;
});
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function model(seed: number) {
  return buildClassifier({ kind: 'cnn', channels: [4, 8] }, { height: 32, width: 32, channels: 3 }, 10, makeRng(seed, 'model'));
}

function weights(m: ReturnType<typeof model>): number[] {
  return m.trainable.flatMap((v) => Array.from(v.dataSync()));
}

/** Aborts the run after `steps` steps, the way SIGINT does in the CLI. */
function abortAfter(steps: number): { progress: ProgressSink; signal: AbortSignal } {
  const controller = new AbortController();
  let n = 0;
  return {
    signal: controller.signal,
    progress: { start() {}, stop() {}, tick: () => void (++n >= steps && controller.abort()) },
  };
}

describe('checkpoint and resume', () => {
  it('a run interrupted mid-epoch and resumed ends with the same weights and curves as one never interrupted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llk-resume-'));
    dirs.push(dir);
    const straight = model(1);
    const freshLabels: string[] = [];
    const freshInfo: (Record<string, string | number> | undefined)[] = [];
    const once = await train(straight, data, config, 7, { progress: { ...silent, start: (l) => void freshLabels.push(l), tick: (_d, info) => void freshInfo.push(info) } });
    expect(freshLabels[0]).not.toMatch(/resumed/);
    // The first steps come before any loss is read back (LOSS_READ_EVERY): no loss shown then, not loss=NaN.
    expect(freshInfo.filter((i) => i?.loss === 'NaN')).toEqual([]);
    expect(freshInfo[0]).not.toHaveProperty('loss');
    expect(freshInfo.some((i) => typeof i?.loss === 'string')).toBe(true);

    const first = model(1);
    const stop = abortAfter(13); // an epoch is 10 steps: stop inside the second epoch
    await expect(train(first, data, config, 7, { ...stop, checkpoint: { dir, key: 'k', everySteps: 4 } })).rejects.toThrow(Interrupted);
    first.dispose();

    const second = model(99); // different initial weights: everything must come from the checkpoint
    const labels: string[] = [];
    const ticks: { done: number; info?: Record<string, string | number> }[] = [];
    const watching: ProgressSink = { start: (l) => void labels.push(l), stop() {}, tick: (done, info) => void ticks.push({ done, info }) };
    const resumed = await train(second, data, config, 7, { progress: watching, checkpoint: { dir, key: 'k', everySteps: 4 } });
    expect(resumed.stepsRun).toBe(20 - 13);
    // The seed says it resumed, and the bar starts where the checkpoint left off.
    expect(labels).toEqual([expect.stringMatching(/ \(resumed from the checkpoint at step 13\)$/)]);
    expect(ticks[0].done).toBe(13);

    expect(weights(second)).toEqual(weights(straight));
    expect(resumed.epochs.map((e) => e.trainLoss)).toEqual(once.epochs.map((e) => e.trainLoss));
    tf.dispose([...straight.trainable, ...second.trainable]);
  });

  it('ignores a checkpoint written for another configuration', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llk-resume-'));
    dirs.push(dir);
    const a = model(1);
    await train(a, data, { ...config, epochs: 1 }, 7, { progress: silent, checkpoint: { dir, key: 'one', everySteps: 5 } });
    const b = model(1);
    const r = await train(b, data, { ...config, epochs: 1 }, 7, { progress: silent, checkpoint: { dir, key: 'other', everySteps: 5 } });
    expect(r.stepsRun).toBe(10);
    a.dispose();
    b.dispose();
  });
});

describe('seeds', () => {
  it('the same seed twice on the same backend gives identical weights; another seed does not', async () => {
    const runs: number[][] = [];
    for (const seed of [1, 1, 2]) {
      const m = model(seed);
      await train(m, data, { ...config, epochs: 1 }, seed, { progress: silent });
      runs.push(weights(m));
      m.dispose();
    }
    expect(runs[1]).toEqual(runs[0]);
    expect(runs[2]).not.toEqual(runs[0]);
  });
});
