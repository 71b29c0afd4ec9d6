import * as tf from '@tensorflow/tfjs';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Dataset } from '../data/types.ts';
import { curveOf } from '../experiments/protocol.ts';
import { modelKeyParts, trainingKey } from '../experiments/trained-models.ts';
import type { PlannedTraining } from '../experiments/types.ts';
import { buildClassifier } from '../models/spec.ts';
import { requireTier } from '../spec/claim.ts';
import { CONCRETE_BACKEND_NAMES, type BackendName, type DatasetName, type Tier } from '../spec/names.ts';
import { checkCheckpointFits, CheckpointError, readCheckpointMeta, type CheckpointExpectation } from '../train/checkpoint.ts';
import { makeRng } from '../util/rng.ts';
import { checkpointDir } from './runner.ts';
import type { LoadedSpec } from './spec.ts';

/**
 * `run --resume`, before any backend or job starts: every checkpoint a seed would resume
 * from must belong to a model this run trains (same configuration, seed and backend) and fit
 * it — position inside the schedule, one tensor of the right shape per variable. Otherwise
 * the run would train from scratch without a word, skip training, or fail the seed after
 * the backend started. Throws a CheckpointError naming the file and the fix (exit 2).
 */
export async function checkResumeCheckpoints(
  spec: LoadedSpec,
  tier: Tier,
  resultsDir: string,
  seeds: number[],
  backend: BackendName,
  load: (name: DatasetName) => Promise<Dataset>,
): Promise<void> {
  const trainings = spec.kind.trainings?.(requireTier(spec, tier).params) ?? [];
  for (const seed of seeds) {
    const root = checkpointDir(resultsDir, tier, spec.id, seed);
    const folders = checkpointFolders(root);
    if (folders.length === 0) continue;
    // The key trained-models.ts gives each model, for every backend it could have been made on.
    const byKey = new Map<string, { training: PlannedTraining; backend: string }>();
    let unknown = false;
    for (const t of trainings) {
      const parts = keyParts(t);
      if (!parts) {
        unknown = t.shareKey !== undefined;
        continue;
      }
      for (const b of CONCRETE_BACKEND_NAMES) byKey.set(trainingKey({ ...parts, seed, backend: b }), { training: t, backend: b });
    }
    for (const dir of folders) {
      const meta = readCheckpointMeta(dir);
      const file = join(dir, 'checkpoint.json');
      const mine = byKey.get(meta.key);
      if (!mine) {
        // A model whose key could not be rebuilt may own it: leave it to the loader.
        if (unknown) continue;
        throw new CheckpointError(file, `a checkpoint of another training configuration (key ${meta.key}) than seed ${seed} of ${spec.id} [${tier}] trains now, which this run would ignore and train from the start`);
      }
      if (backend !== 'auto' && mine.backend !== backend) {
        throw new CheckpointError(file, `made on backend ${mine.backend}; this run uses ${backend}, which would ignore it — run with --backend ${mine.backend} to resume it`);
      }
      checkCheckpointFits(dir, meta, await expectation(mine.training, load));
    }
  }
}

/** Folders under `root` holding a checkpoint.json. */
function checkpointFolders(root: string): string[] {
  if (!existsSync(root)) return [];
  const found: string[] = [];
  const walk = (dir: string): void => {
    if (existsSync(join(dir, 'checkpoint.json'))) found.push(dir);
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) walk(join(dir, e.name));
  };
  walk(root);
  return found;
}

/**
 * What trainedModel keys a planned training on, less seed and backend; undefined when it
 * cannot be rebuilt (checked against the plan's share key, which hashes the same parts).
 */
export function keyParts(t: PlannedTraining): ReturnType<typeof modelKeyParts> | undefined {
  if (t.shareKey === undefined) return undefined;
  const data = { dataset: t.dataset, trainSubset: t.trainSubset, testSubset: t.testSubset };
  for (const curve of [undefined, t.evaluation && curveOf(t.evaluation)]) {
    const parts = modelKeyParts({ data, model: t.model, training: t.training, curve });
    if (trainingKey(parts) === t.shareKey) return parts;
  }
  return undefined;
}

/**
 * The schedule and the saved variables' shapes (trainable, state, then one velocity per
 * trainable, as the training loop saves them). The shapes come from building the model on
 * tfjs's cpu backend, which costs milliseconds and leaves the run's backend unstarted.
 */
async function expectation(t: PlannedTraining, load: (name: DatasetName) => Promise<Dataset>): Promise<CheckpointExpectation> {
  const ds = await load(t.dataset);
  const images = t.trainSubset ?? ds.train.count;
  // No backend yet (the CLI before startBackend): cpu, never the best registered one, whose start is the run's.
  if (!tf.getBackend()) await tf.setBackend('cpu');
  const model = buildClassifier(t.model, { height: ds.train.height, width: ds.train.width, channels: ds.train.channels }, ds.classes.length, makeRng(0, 'checkpoint-shapes'));
  try {
    const shapes = [...model.trainable, ...model.state, ...model.trainable].map((v) => [...v.shape]);
    return { epochs: t.training.epochs, stepsPerEpoch: Math.floor(images / t.training.batchSize), shapes };
  } finally {
    model.dispose();
  }
}
