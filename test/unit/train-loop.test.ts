import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ImageSet } from '../../src/data/types.ts';
import { buildClassifier } from '../../src/models/spec.ts';
import type { Classifier } from '../../src/models/types.ts';
import { augmentedBatch } from '../../src/train/augment.ts';
import { Interrupted, NonFiniteError, NoTrainingError } from '../../src/train/errors.ts';
import { train, type TrainConfig } from '../../src/train/loop.ts';
import type { ProgressSink } from '../../src/train/progress.ts';
import { learningRateAt, Sgd } from '../../src/train/sgd.ts';
import { LOSS_READ_EVERY, trainStep } from '../../src/train/step.ts';
import { makeRng, permutation } from '../../src/util/rng.ts';

// The loop driven in-process on the smallest thing that trains: 4×4 grey images, 3 classes, an
// MLP with 4 hidden units, on the cpu backend (a run is milliseconds, so each test can run several).
const SHAPE = { height: 4, width: 4, channels: 1 };

function images(count: number): ImageSet {
  const size = SHAPE.height * SHAPE.width * SHAPE.channels;
  const pixels = Uint8Array.from({ length: count * size }, (_, i) => (i * 37 + 11) % 256);
  const labels = Uint8Array.from({ length: count }, (_, i) => i % 3);
  return { images: pixels, labels, count, ...SHAPE };
}

const model = (seed: number) => buildClassifier({ kind: 'mlp', hidden: [4] }, SHAPE, 3, makeRng(seed, 'model'));
const weights = (m: Classifier) => m.trainable.flatMap((v) => Array.from(v.dataSync()));

const plain: TrainConfig = {
  epochs: 2,
  batchSize: 2,
  lr: { base: 0.05, milestones: [1], gamma: 0.5 },
  momentum: 0.9,
  nesterov: false,
  weightDecay: 0,
};
// Everything the loop threads through to a step: fractional-epoch learning rates (warm-up and
// annealing depend on step / stepsPerEpoch), Nesterov and weight decay, augmentation and
// adversarial examples (both draw from the per-step stream).
const full: TrainConfig = {
  epochs: 2,
  batchSize: 2,
  lr: { base: 0.1, milestones: [1], gamma: 0.5, warmupEpochs: 1, anneal: 'linear' },
  momentum: 0.9,
  nesterov: true,
  weightDecay: 1e-3,
  augment: { crop: 1, flip: true },
  adversarial: { attack: 'fgsm', fraction: 0.5, epsSigma: 12, lossWeight: 0.5 },
};

interface Events {
  progress: ProgressSink;
  labels: { label: string; total: number }[];
  ticks: { done: number; info?: Record<string, string | number> }[];
  stops: number;
}

function watch(onTick?: (done: number) => void): Events {
  const e: Events = {
    labels: [],
    ticks: [],
    stops: 0,
    progress: {
      start: (label, total) => void e.labels.push({ label, total }),
      tick: (done, info) => {
        e.ticks.push({ done, info });
        onTick?.(done);
      },
      stop: () => void e.stops++,
    },
  };
  return e;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'llk-loop-'));
  dirs.push(d);
  return d;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('progress, losses and speed', () => {
  // performance.now() under the test's control: the clock moves only when the model computes
  // logits (once per plain step), so every duration the loop measures is known exactly.
  let clock = 0;
  const timed = (m: Classifier, msPerStep: number): Classifier => ({
    name: m.name,
    numClasses: m.numClasses,
    trainable: m.trainable,
    state: m.state,
    dispose: () => m.dispose(),
    logits: (x, training) => {
      clock += msPerStep;
      return m.logits(x, training);
    },
  });
  const useFakeClock = () => {
    clock = 0;
    vi.spyOn(performance, 'now').mockImplementation(() => clock);
  };
  afterEach(() => void vi.restoreAllMocks());

  it('ticks every step 1..T with its epoch, the latest loss read back and img/s from the measured step times', async () => {
    useFakeClock();
    const data = images(40); // 20 steps an epoch: more than one read-back group (LOSS_READ_EVERY = 16)
    const m = model(1);
    const before = tf.memory().numTensors;
    const order: ({ losses: number[] } | { tick: number; info?: Record<string, string | number> })[] = [];
    const e = watch();
    const progress: ProgressSink = { ...e.progress, tick: (done, info) => void order.push({ tick: done, info }) };
    const r = await train(timed(m, 125), data, plain, 3, { progress, onLosses: (l) => void order.push({ losses: Array.from(l) }) });

    expect(tf.memory().numTensors).toBe(before);
    expect(e.labels).toEqual([{ label: `train ${m.name}`, total: 40 }]);
    expect(e.stops).toBe(1);
    const ticks = order.flatMap((o) => ('tick' in o ? [o] : []));
    expect(ticks.map((t) => t.tick)).toEqual(range(1, 40));
    expect(ticks.map((t) => t.info?.epoch)).toEqual(range(1, 40).map((d) => (d <= 20 ? 1 : 2)));
    // 2 images per 125 ms step.
    expect(ticks.map((t) => t.info?.['img/s'])).toEqual(ticks.map(() => 16));
    expect(r.imagesPerSecond).toBe(16);
    expect(r.stepsRun).toBe(40);

    // Read back in groups of LOSS_READ_EVERY and at each epoch's end, one loss per step.
    const groups = order.flatMap((o) => ('losses' in o ? [o.losses] : []));
    expect(LOSS_READ_EVERY).toBe(16);
    expect(groups.map((g) => g.length)).toEqual([16, 4, 16, 4]);
    // Each tick shows its epoch, the newest loss read back before it (none before the first
    // read) and the speed, and nothing else.
    let latest: number | undefined;
    for (const o of order) {
      if ('losses' in o) latest = o.losses.at(-1);
      else expect(o.info).toEqual({ epoch: o.tick <= 20 ? 1 : 2, ...(latest === undefined ? {} : { loss: latest.toFixed(3) }), 'img/s': 16 });
    }
    expect(ticks[14].info).not.toHaveProperty('loss');
    // An epoch's training loss is the mean of its steps' losses, summed in step order.
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    expect(r.epochs).toEqual([
      { epoch: 1, trainLoss: sum([...groups[0], ...groups[1]]) / 20 },
      { epoch: 2, trainLoss: sum([...groups[2], ...groups[3]]) / 20 },
    ]);
    m.dispose();
  });

  it('lets the event loop run before a step when more than 100 ms have passed since it last did', async () => {
    const data = images(40);
    for (const [msPerStep, expected] of [
      [50, [3, 6, 9, 12, 15, 18]], // at 150 ms, 300 ms, …: 100 ms exactly is not more than 100 ms
      [0, []], // nothing measured: no pause at all
    ] as const) {
      useFakeClock();
      // A callback queued behind the loop runs at the next pause; it records how many steps were done then.
      const paused: number[] = [];
      let done = 0;
      let queued = false;
      const m = model(1);
      const e = watch((d) => {
        done = d;
        if (queued) return;
        queued = true;
        setImmediate(() => {
          paused.push(done);
          queued = false;
        });
      });
      await train(timed(m, msPerStep), data, { ...plain, epochs: 1 }, 3, { progress: e.progress });
      expect(paused.filter((d) => d < 20)).toEqual(expected);
      m.dispose();
      vi.restoreAllMocks();
    }
  });
});

describe('the loop is its parts in order', () => {
  it('each step is trainStep on the epoch\'s batch from its order and step streams at the fractional-epoch learning rate', async () => {
    const data = images(9); // 4 steps an epoch; the 9th image is left out (whole batches only)
    const seed = 5;
    const m = model(1);
    const before = tf.memory().numTensors;
    const e = watch();
    const epochsSeen: number[] = [];
    const r = await train(m, data, full, seed, {
      progress: e.progress,
      onEpoch: async (epoch) => {
        epochsSeen.push(epoch);
        return { cleanAcc: epoch / 10 };
      },
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(e.labels).toEqual([{ label: `train ${m.name} + fgsm`, total: 8 }]);
    expect(epochsSeen).toEqual([1, 2]);

    // The same schedule written out step by step from the documented streams.
    const ref = model(1);
    const sgd = new Sgd(ref.trainable, { momentum: full.momentum, nesterov: full.nesterov, weightDecay: full.weightDecay });
    const trainLoss: number[] = [];
    for (let epoch = 0; epoch < 2; epoch++) {
      const order = permutation(makeRng(seed, `train/order/${epoch}`), data.count);
      const rng = makeRng(seed, `train/steps/${epoch}`);
      let sum = 0;
      for (let step = 0; step < 4; step++) {
        const batch = augmentedBatch(data, order.subarray(step * 2, step * 2 + 2), full.augment!, rng);
        const loss = trainStep(ref, sgd, batch, full.adversarial!, learningRateAt(full.lr, epoch + step / 4, 2), rng);
        sum += loss.dataSync()[0];
        tf.dispose([loss, batch.x, batch.y]);
      }
      trainLoss.push(sum / 4);
    }
    sgd.dispose();
    expect(weights(m)).toEqual(weights(ref));
    expect(r.epochs).toEqual([
      { epoch: 1, trainLoss: trainLoss[0], cleanAcc: 0.1 },
      { epoch: 2, trainLoss: trainLoss[1], cleanAcc: 0.2 },
    ]);
    m.dispose();
    ref.dispose();
  });

  it('a batch larger than the data is no training at all: NoTrainingError before anything starts', async () => {
    const m = model(1);
    const before = tf.memory().numTensors;
    const e = watch();
    await expect(train(m, images(8), { ...plain, batchSize: 9 }, 1, { progress: e.progress })).rejects.toThrow(NoTrainingError);
    expect(e.labels).toEqual([]);
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
  });

  it('a non-finite loss stops the run naming its epoch and step within the epoch', async () => {
    const m = model(1);
    let calls = 0;
    // The 6th step (epoch 2, step 2 with 4 steps an epoch) computes NaN logits.
    const poisoned: Classifier = {
      name: m.name,
      numClasses: m.numClasses,
      trainable: m.trainable,
      state: m.state,
      dispose: () => m.dispose(),
      logits: (x, training) => (++calls === 6 ? m.logits(x, training).mul(NaN) : m.logits(x, training)),
    };
    const before = tf.memory().numTensors;
    const e = watch();
    const run = train(poisoned, images(8), plain, 1, { progress: e.progress });
    await expect(run).rejects.toThrow(NonFiniteError);
    await expect(run).rejects.toThrow(/^non-finite value NaN in training loss at epoch 2, step 2$/);
    expect(e.stops).toBe(1);
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
  });
});

describe('checkpoints', () => {
  const position = (dir: string) => {
    const file = join(dir, 'checkpoint.json');
    if (!existsSync(file)) return undefined;
    const meta = JSON.parse(readFileSync(file, 'utf8')) as { epoch: number; step: number };
    return `${meta.epoch}/${meta.step}`;
  };

  it('are written every everySteps steps within an epoch and at each epoch end, after reading back the losses', async () => {
    const dir = tempDir();
    const seen: (string | undefined)[] = [];
    const groups: number[] = [];
    const m = model(1);
    const e = watch(() => seen.push(position(dir)));
    // 8 steps an epoch, a checkpoint every 3: after steps 3 and 6, and at the epoch's end.
    await train(m, images(16), plain, 2, { progress: e.progress, checkpoint: { dir, key: 'k', everySteps: 3 }, onLosses: (l) => void groups.push(l.length) });
    seen.push(position(dir));
    const distinct = seen.filter((p, i) => i === 0 || p !== seen[i - 1]);
    expect(distinct).toEqual([undefined, '0/3', '0/6', '1/0', '1/3', '1/6', '2/0']);
    expect(groups).toEqual([3, 3, 2, 3, 3, 2]);
    const last = JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8')) as { loopState: { images: number; lossSum: number; history: unknown[] } };
    expect([last.loopState.images, last.loopState.lossSum, last.loopState.history.length]).toEqual([32, 0, 2]);
    m.dispose();
  });

  it('a run that crashes (no interrupt) resumes from the last periodic checkpoint exactly', async () => {
    const data = images(16);
    const straight = model(1);
    const once = await train(straight, data, full, 4, { progress: watch().progress });

    const dir = tempDir();
    const checkpoint = { dir, key: 'k', everySteps: 3 };
    const crashing = model(1);
    const crash = watch((done) => {
      if (done === 13) throw new Error('crash');
    });
    await expect(train(crashing, data, full, 4, { progress: crash.progress, checkpoint })).rejects.toThrow('crash');
    expect(crash.stops).toBe(1);
    crashing.dispose();
    // The last checkpoint before step 13 is the one after step 3 of epoch 2: 8 + 3 = 11 steps done.
    expect(position(dir)).toBe('1/3');

    const second = model(9);
    const e = watch();
    const resumed = await train(second, data, full, 4, { progress: e.progress, checkpoint });
    expect(e.labels).toEqual([{ label: `train ${second.name} + fgsm (resumed from the checkpoint at step 11)`, total: 16 }]);
    // The first tick says where it picks up (no epoch: it is not a step).
    expect(e.ticks.map((t) => t.done)).toEqual([11, ...range(12, 16)]);
    expect(e.ticks[0].info).toBeUndefined();
    expect(resumed.stepsRun).toBe(5);
    expect(weights(second)).toEqual(weights(straight));
    expect(resumed.epochs).toEqual(once.epochs);
    straight.dispose();
    second.dispose();
  });

  it('an interrupt before the first step saves step 0; the resumed run starts from scratch with no pick-up tick', async () => {
    const data = images(8);
    const straight = model(1);
    await train(straight, data, full, 6, { progress: watch().progress });

    const dir = tempDir();
    const checkpoint = { dir, key: 'k', everySteps: 3 };
    const controller = new AbortController();
    controller.abort();
    const first = model(1);
    const before = tf.memory().numTensors;
    const stopped = watch();
    await expect(train(first, data, full, 6, { progress: stopped.progress, checkpoint, signal: controller.signal })).rejects.toThrow(Interrupted);
    expect(tf.memory().numTensors).toBe(before);
    expect([stopped.ticks, stopped.stops]).toEqual([[], 1]);
    expect(position(dir)).toBe('0/0');
    first.dispose();

    const second = model(9);
    const e = watch();
    const resumed = await train(second, data, full, 6, { progress: e.progress, checkpoint });
    expect(e.labels.map((l) => l.label)).toEqual([`train ${second.name} + fgsm (resumed from the checkpoint at step 0)`]);
    expect(e.ticks.map((t) => t.done)).toEqual(range(1, 8));
    expect(resumed.stepsRun).toBe(8);
    expect(weights(second)).toEqual(weights(straight));
    straight.dispose();
    second.dispose();
  });
});
