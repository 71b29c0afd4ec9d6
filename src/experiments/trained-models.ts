import { loadDataset } from '../data/registry.ts';
import { seededSubset } from '../data/batches.ts';
import type { Dataset, ImageSet } from '../data/types.ts';
import type { DatasetName } from '../spec/names.ts';
import { buildClassifier, type ModelSpec } from '../models/spec.ts';
import type { Classifier } from '../models/types.ts';
import { train, type EpochPoint, type TrainConfig, type TrainHooks } from '../train/loop.ts';
import { makeRng } from '../util/rng.ts';
import type { RunContext, TrainedModelInfo } from './types.ts';
import { createHash } from 'node:crypto';
import { join } from 'node:path';

export interface DataSelection {
  dataset: DatasetName;
  /** A seeded, class-balanced subset of the training set; absent: all of it. */
  trainSubset?: number;
  /** The first n test images of a seeded, class-balanced subset; absent: the whole test set. */
  testSubset?: number;
}

export interface SelectedData {
  dataset: Dataset;
  train: ImageSet;
  test: ImageSet;
}

export async function selectData(sel: DataSelection, seed: number, dataDir?: string): Promise<SelectedData> {
  const dataset = await loadDataset(sel.dataset, { dataDir });
  const rng = makeRng(seed, `data/${sel.dataset}`);
  const trainSet = sel.trainSubset ? seededSubset(dataset.train, sel.trainSubset, rng.fork('train'), { stratified: true }) : dataset.train;
  const testSet = sel.testSubset ? seededSubset(dataset.test, sel.testSubset, rng.fork('test'), { stratified: true }) : dataset.test;
  return { dataset, train: trainSet, test: testSet };
}

export interface TrainedModel {
  model: Classifier;
  epochs: EpochPoint[];
  imagesPerSecond: number;
  /** True when this process trained it (false: re-used from an earlier claim in the same process). */
  fresh: boolean;
}

/**
 * Several claims study the same trained model (the write-up's CIFAR-10 model carries three
 * of them), so a model trained once in a process is kept and re-used by every claim whose
 * data, model, training configuration, seed and backend are identical.
 */
const cache = new Map<string, TrainedModel>();

export function trainingKey(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 16);
}

/** What the model cache keys on, less the run's seed and backend (`run --dry-run` groups claims by it). */
export function modelKeyParts(what: { data: DataSelection; model: ModelSpec; training: TrainConfig; curve?: unknown }) {
  const selection = { dataset: what.data.dataset, trainSubset: what.data.trainSubset, testSubset: what.data.testSubset };
  return { data: selection, model: what.model, training: what.training, curve: what.curve };
}

/**
 * `curve` names what the per-epoch callback measures, so models whose curves differ are not
 * shared. The initial weights depend only on the dataset, the model and the seed: a control
 * starts from the same weights as its adversarially trained twin, and a cached model is the
 * same whichever claim trained it first.
 */
export async function trainedModel(
  what: { data: DataSelection; model: ModelSpec; training: TrainConfig; role: string; curve?: unknown },
  data: SelectedData,
  ctx: RunContext,
  onEpoch?: (model: Classifier) => TrainHooks['onEpoch'],
): Promise<TrainedModel> {
  const key = trainingKey({ ...modelKeyParts(what), seed: ctx.seed, backend: ctx.backend.name });
  const { train: set, dataset } = data;
  const info: TrainedModelInfo = {
    role: what.role,
    key,
    model: what.model,
    input: { height: set.height, width: set.width, channels: set.channels },
    dataset: what.data.dataset,
    classes: dataset.classes,
    training: what.training,
  };
  const hit = cache.get(key);
  if (hit) {
    await ctx.onTrained?.(hit.model, info);
    return { ...hit, fresh: false };
  }
  const model = buildClassifier(
    what.model,
    info.input,
    dataset.classes.length,
    makeRng(ctx.seed, `model/${what.data.dataset}/${JSON.stringify(what.model)}`),
  );
  const result = await train(model, set, what.training, ctx.seed, {
    progress: ctx.progress,
    onEpoch: onEpoch?.(model),
    signal: ctx.signal,
    checkpoint: ctx.checkpointDir
      ? { dir: join(ctx.checkpointDir, `${what.role}-${key}`), key, everySteps: ctx.checkpointEvery ?? 200 }
      : undefined,
  });
  const trained: TrainedModel = { model, epochs: result.epochs, imagesPerSecond: result.imagesPerSecond, fresh: true };
  cache.set(key, trained);
  await ctx.onTrained?.(model, info);
  return trained;
}

/** Frees every cached model, so the next run trains afresh (the kinds' contract test re-runs a seed this way). */
export function clearTrainedModels(): void {
  for (const t of cache.values()) t.model.dispose();
  cache.clear();
}
