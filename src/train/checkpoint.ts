import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.ts';

/**
 * A training checkpoint: every variable (weights, BatchNorm statistics, optimiser velocities)
 * as one float32 file, and a JSON file with the loop's position and RNG state. The JSON is
 * renamed into place last and names the weights file's SHA-256, so a crash between the two
 * renames can never pair new weights with old metadata.
 */
export interface CheckpointMeta<S = unknown> {
  format: 1;
  /** Identifies the training configuration; a checkpoint of another run is never loaded. */
  key: string;
  epoch: number;
  step: number;
  loopState: S;
  tensors: { shape: number[]; offset: number; length: number }[];
  sha256: string;
}

const META = 'checkpoint.json';
const DATA = 'checkpoint.bin';

export async function saveCheckpoint<S>(
  dir: string,
  key: string,
  epoch: number,
  step: number,
  loopState: S,
  variables: tf.Variable[],
): Promise<void> {
  let offset = 0;
  const tensors = variables.map((v) => {
    const entry = { shape: v.shape, offset, length: v.size };
    offset += v.size;
    return entry;
  });
  const all = new Float32Array(offset);
  // Asynchronous reads: webgpu in Node has no synchronous GPU readback.
  const values = await Promise.all(variables.map((v) => v.data() as Promise<Float32Array>));
  values.forEach((data, i) => all.set(data, tensors[i].offset));
  const bytes = new Uint8Array(all.buffer);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  writeFileAtomic(join(dir, DATA), bytes);
  const meta: CheckpointMeta<S> = { format: 1, key, epoch, step, loopState, tensors, sha256 };
  writeFileAtomic(join(dir, META), JSON.stringify(meta));
}

/** A checkpoint that cannot be used; the message names the file and the fix. The CLI exits 2 on it. */
export class CheckpointError extends Error {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`${file}: ${reason}; delete ${dirname(file)} to start that seed over (or run without --resume)`);
    this.name = 'CheckpointError';
  }
}

function readMeta<S>(dir: string): CheckpointMeta<S> {
  const metaPath = join(dir, META);
  let text: string;
  try {
    text = readFileSync(metaPath, 'utf8');
  } catch (e) {
    throw new CheckpointError(metaPath, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let meta: CheckpointMeta<S>;
  try {
    meta = JSON.parse(text) as CheckpointMeta<S>;
  } catch (e) {
    throw new CheckpointError(metaPath, `damaged (not valid JSON: ${(e as Error).message})`);
  }
  if (meta === null || typeof meta !== 'object' || typeof meta.sha256 !== 'string' || !Array.isArray(meta.tensors)) {
    throw new CheckpointError(metaPath, 'damaged (not a checkpoint description)');
  }
  return meta;
}

function readWeights(dir: string, meta: CheckpointMeta): Buffer {
  const file = join(dir, DATA);
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (e) {
    throw new CheckpointError(file, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (createHash('sha256').update(buf).digest('hex') !== meta.sha256) {
    throw new CheckpointError(file, `damaged (its SHA-256 does not match the one ${META} names)`);
  }
  return buf;
}

/** A checkpoint's metadata with its weights file checked against it (the digest, each tensor's place), as loading would. */
export function readCheckpointMeta<S = unknown>(dir: string): CheckpointMeta<S> {
  const meta = readMeta<S>(dir);
  const floats = readWeights(dir, meta).byteLength / 4;
  const metaPath = join(dir, META);
  meta.tensors.forEach((t, i) => {
    const ok = Array.isArray(t?.shape) && t.shape.every((d) => Number.isInteger(d) && d >= 0) && Number.isInteger(t.offset) && t.offset >= 0 && t.length === t.shape.reduce((a, b) => a * b, 1);
    if (!ok || t.offset + t.length > floats) throw new CheckpointError(metaPath, `damaged (tensor ${i}'s shape, offset or length does not fit ${DATA})`);
  });
  return meta;
}

/** What a checkpoint must fit to be resumed: the run's schedule and its variables' shapes, in save order. */
export interface CheckpointExpectation {
  epochs: number;
  stepsPerEpoch: number;
  shapes: number[][];
}

/**
 * A checkpoint the run would load but could not continue from: its position outside the
 * schedule (an epoch past the last would skip training and record the model as finished),
 * or tensors that do not match the model's variables.
 */
export function checkCheckpointFits(dir: string, meta: CheckpointMeta, expect: CheckpointExpectation): void {
  const metaPath = join(dir, META);
  const { epochs, stepsPerEpoch } = expect;
  if (!Number.isInteger(meta.epoch) || meta.epoch < 0 || meta.epoch > epochs) {
    throw new CheckpointError(metaPath, `says epoch ${meta.epoch}, but this run trains ${epochs} epochs (a checkpoint is at epoch 0 to ${epochs})`);
  }
  const lastStep = meta.epoch === epochs ? 0 : stepsPerEpoch - 1;
  if (!Number.isInteger(meta.step) || meta.step < 0 || meta.step > lastStep) {
    throw new CheckpointError(metaPath, `says step ${meta.step} of epoch ${meta.epoch}, but an epoch of this run has ${stepsPerEpoch} steps (the next step is 0 to ${lastStep})`);
  }
  if (meta.tensors.length !== expect.shapes.length) {
    throw new CheckpointError(metaPath, `holds ${meta.tensors.length} tensors, the model has ${expect.shapes.length}`);
  }
  expect.shapes.forEach((shape, i) => {
    const t = meta.tensors[i];
    if (t.shape.join('x') !== shape.join('x')) throw new CheckpointError(metaPath, `tensor ${i} has shape ${t.shape}, the model expects ${shape}`);
  });
}

/**
 * Checks every checkpoint under `root` (a seed's folder: one subfolder per trained model)
 * the way loading would, so `--resume` can refuse a damaged one before the backend starts.
 */
export function checkCheckpoints(root: string): void {
  if (!existsSync(root)) return;
  const walk = (dir: string): void => {
    if (existsSync(join(dir, META))) readWeights(dir, readMeta(dir));
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) walk(join(dir, e.name));
  };
  walk(root);
}

/** Restores variables in place; returns the metadata, or null when there is no usable checkpoint. */
export function loadCheckpoint<S>(dir: string, key: string, variables: tf.Variable[]): CheckpointMeta<S> | null {
  const metaPath = join(dir, META);
  if (!existsSync(metaPath)) return null;
  const meta = readMeta<S>(dir);
  if (meta.format !== 1 || meta.key !== key) return null;
  const buf = readWeights(dir, meta);
  if (meta.tensors.length !== variables.length) {
    throw new CheckpointError(metaPath, `holds ${meta.tensors.length} tensors, the model has ${variables.length}`);
  }
  const all = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  variables.forEach((v, i) => {
    const t = meta.tensors[i];
    if (t.shape.join('x') !== v.shape.join('x')) {
      throw new CheckpointError(metaPath, `tensor ${i} has shape ${t.shape}, the model expects ${v.shape}`);
    }
    tf.tidy(() => v.assign(tf.tensor(all.slice(t.offset, t.offset + t.length), t.shape)));
  });
  return meta;
}
