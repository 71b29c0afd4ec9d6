import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
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

/** Restores variables in place; returns the metadata, or null when there is no usable checkpoint. */
export function loadCheckpoint<S>(dir: string, key: string, variables: tf.Variable[]): CheckpointMeta<S> | null {
  const metaPath = join(dir, META);
  if (!existsSync(metaPath)) return null;
  const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as CheckpointMeta<S>;
  if (meta.format !== 1 || meta.key !== key) return null;
  const buf = readFileSync(join(dir, DATA));
  if (createHash('sha256').update(buf).digest('hex') !== meta.sha256) {
    throw new Error(`checkpoint in ${dir} is corrupt (weights do not match ${META}); delete the folder to start over`);
  }
  if (meta.tensors.length !== variables.length) {
    throw new Error(`checkpoint in ${dir} holds ${meta.tensors.length} tensors, the model has ${variables.length}`);
  }
  const all = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  variables.forEach((v, i) => {
    const t = meta.tensors[i];
    if (t.shape.join('x') !== v.shape.join('x')) {
      throw new Error(`checkpoint in ${dir}: tensor ${i} has shape ${t.shape}, the model expects ${v.shape}`);
    }
    tf.tidy(() => v.assign(tf.tensor(all.slice(t.offset, t.offset + t.length), t.shape)));
  });
  return meta;
}
