import { makeBatch } from '../data/batches.ts';
import type { ImageSet } from '../data/types.ts';
import type { Classifier } from '../models/types.ts';
import { makeRng, permutation, type Rng } from '../util/rng.ts';
import { Interrupted, NonFiniteError, NoTrainingError } from './errors.ts';
import type { ProgressSink } from './progress.ts';
import { augmentedBatch, type Augmentation } from './augment.ts';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.ts';
import { learningRateAt, Sgd, type LrSchedule } from './sgd.ts';
import { LOSS_READ_EVERY, LossReader, trainStep, type AdversarialTraining } from './step.ts';

/** Every hyper-parameter of a training run; specs name them all. */
export interface TrainConfig {
  epochs: number;
  batchSize: number;
  lr: LrSchedule;
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
  augment?: Augmentation;
  /** Absent or null: plain training. */
  adversarial?: AdversarialTraining | null;
}

/** Per-epoch numbers a training experiment records (any subset may be present). */
export interface EpochPoint {
  epoch: number;
  trainLoss?: number;
  cleanAcc?: number;
  advAcc?: number;
  [metric: string]: number | undefined;
}

export interface TrainHooks {
  progress: ProgressSink;
  /** Called after every epoch, e.g. to measure clean and adversarial accuracy for the curves. */
  onEpoch?: (epoch: number) => Promise<Omit<EpochPoint, 'epoch' | 'trainLoss'>>;
  checkpoint?: { dir: string; key: string; everySteps: number };
  signal?: AbortSignal;
  /**
   * Every step's training loss, in step order, as the loop reads them back (in groups: see
   * LOSS_READ_EVERY); the progress display only sees the latest one.
   */
  onLosses?: (losses: Float32Array) => void;
}

export interface TrainResult {
  epochs: EpochPoint[];
  imagesPerSecond: number;
  /** Steps this process ran (fewer than the schedule's when resumed from a checkpoint). */
  stepsRun: number;
}

interface LoopState {
  history: EpochPoint[];
  stepRng: object;
  lossSum: number;
  seconds: number;
  images: number;
}

/** How often the loop lets the event loop run (signal handlers, progress redraws). */
const YIELD_EVERY_MS = 100;
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The training loop, start to end in one place. Randomness comes from `seed` alone: each
 * epoch's data order from its own stream (so a resumed run recomputes it), and everything
 * drawn per step (ε, augmentation, random labels) from a stream whose state checkpoints keep.
 */
export async function train(model: Classifier, data: ImageSet, cfg: TrainConfig, seed: number, hooks: TrainHooks): Promise<TrainResult> {
  const stepsPerEpoch = Math.floor(data.count / cfg.batchSize);
  const totalSteps = stepsPerEpoch * cfg.epochs;
  // Before the optimiser's variables exist, so nothing is left undisposed.
  if (totalSteps === 0) throw new NoTrainingError(data.count, cfg.batchSize, cfg.epochs);
  const sgd = new Sgd(model.trainable, { momentum: cfg.momentum, nesterov: cfg.nesterov, weightDecay: cfg.weightDecay });
  const saved = [...model.trainable, ...model.state, ...sgd.velocities];

  let epoch = 0;
  let step = 0;
  let state: LoopState = { history: [], stepRng: makeRng(seed, 'train/steps/0').state(), lossSum: 0, seconds: 0, images: 0 };
  let resumedAt: number | undefined;
  if (hooks.checkpoint) {
    const restored = loadCheckpoint<LoopState>(hooks.checkpoint.dir, hooks.checkpoint.key, saved);
    if (restored) {
      ({ epoch, step, loopState: state } = restored);
      resumedAt = epoch * stepsPerEpoch + step;
    }
  }
  // Saves the position of the next step to run.
  const checkpoint = async (nextEpoch: number, nextStep: number) =>
    hooks.checkpoint && (await saveCheckpoint(hooks.checkpoint.dir, hooks.checkpoint.key, nextEpoch, nextStep, state, saved));

  // A resumed seed says so, and where it picks up: otherwise it looks like a fresh start.
  const resumed = resumedAt === undefined ? '' : ` (resumed from the checkpoint at step ${resumedAt})`;
  hooks.progress.start(`train ${model.name}${cfg.adversarial ? ` + ${cfg.adversarial.attack}` : ''}${resumed}`, totalSteps);
  if (resumedAt !== undefined && resumedAt > 0) hooks.progress.tick(resumedAt);
  let stepsRun = 0;
  let lastYield = performance.now();
  // Losses stay on the device until read together (one read-back per LOSS_READ_EVERY steps, and
  // before every checkpoint and epoch end): a read per step would stall webgpu's queue. Summed on
  // the host in step order, so the sums are what reading every step gave.
  const losses = new LossReader();
  let lastLoss = NaN;
  const readLosses = async (epoch: number, nextStep: number) => {
    const values = await losses.read();
    values.forEach((loss, i) => {
      const at = nextStep - values.length + i + 1;
      if (!Number.isFinite(loss)) throw new NonFiniteError(`training loss at epoch ${epoch + 1}, step ${at}`, loss);
      state.lossSum += loss;
      lastLoss = loss;
    });
    hooks.onLosses?.(values);
  };
  try {
    for (; epoch < cfg.epochs; epoch++, step = 0) {
      const order = permutation(makeRng(seed, `train/order/${epoch}`), data.count);
      const stepRng: Rng = makeRng(seed, `train/steps/${epoch}`, step > 0 ? state.stepRng : undefined);
      for (; step < stepsPerEpoch; step++) {
        // A training step blocks the event loop; without a pause now and then a SIGINT
        // handler would only run after the whole schedule.
        if (performance.now() - lastYield > YIELD_EVERY_MS) {
          await yieldToEventLoop();
          lastYield = performance.now();
        }
        if (hooks.signal?.aborted) {
          await readLosses(epoch, step);
          state.stepRng = stepRng.state();
          await checkpoint(epoch, step);
          throw new Interrupted();
        }
        const t0 = performance.now();
        const lr = learningRateAt(cfg.lr, epoch + step / stepsPerEpoch, cfg.epochs);
        const idx = order.subarray(step * cfg.batchSize, (step + 1) * cfg.batchSize);
        const batch = cfg.augment ? augmentedBatch(data, idx, cfg.augment, stepRng) : makeBatch(data, idx);
        losses.push(trainStep(model, sgd, batch, cfg.adversarial ?? null, lr, stepRng));
        batch.x.dispose();
        batch.y.dispose();
        const checkpointDue = hooks.checkpoint !== undefined && (step + 1) % hooks.checkpoint.everySteps === 0;
        if (losses.size >= LOSS_READ_EVERY || checkpointDue || step + 1 === stepsPerEpoch) await readLosses(epoch, step + 1);
        state.seconds += (performance.now() - t0) / 1000;
        state.images += cfg.batchSize;
        stepsRun++;
        hooks.progress.tick(epoch * stepsPerEpoch + step + 1, {
          epoch: epoch + 1,
          // No loss is known before the first read-back (LOSS_READ_EVERY steps): show none rather than NaN.
          ...(Number.isFinite(lastLoss) ? { loss: lastLoss.toFixed(3) } : {}),
          'img/s': Math.round(state.images / state.seconds),
        });
        if (checkpointDue) {
          state.stepRng = stepRng.state();
          await checkpoint(epoch, step + 1);
        }
      }
      const point: EpochPoint = { epoch: epoch + 1, trainLoss: state.lossSum / stepsPerEpoch, ...(await hooks.onEpoch?.(epoch + 1)) };
      state = { ...state, history: [...state.history, point], lossSum: 0, stepRng: makeRng(seed, `train/steps/${epoch + 1}`).state() };
      await checkpoint(epoch + 1, 0);
    }
  } finally {
    hooks.progress.stop();
    losses.dispose();
    sgd.dispose();
  }
  return { epochs: state.history, imagesPerSecond: state.images / Math.max(state.seconds, 1e-9), stepsRun };
}
