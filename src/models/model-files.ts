import * as tf from '@tensorflow/tfjs';
import { existsSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { printable } from '../util/printable.ts';
import { FileTooLargeError, NotRegularFileError, readRegularFileSync, readRegularTextSync } from '../util/regular-file.ts';

/**
 * tfjs model files on disk: model.json (topology, weights manifest, metadata) and the
 * weight files it names, the layout `tf.LayersModel.save` and tensorflowjs_converter write.
 * tfjs without tfjs-node has no file:// handler, so this is one: an IOHandler that reads and
 * writes that layout with Node's fs, checking what it reads so a bad file is named.
 */

/** A model file that cannot be read or is not a tfjs model; the CLI exits 2 on it. */
export class ModelFileError extends Error {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`${printable(file)}: ${reason}`);
    this.name = 'ModelFileError';
  }
}

/** model.json holds the topology only (weights are in their own files): far above any real one. */
const MAX_MODEL_JSON_BYTES = 64 * 1024 * 1024;

const FIX = 'expected the model.json of a tfjs model (tf.LayersModel.save, tensorflowjs_converter or `label-leak run --save-models`)';

/** A folder holding model.json, or the model.json itself (any path ending in .json). */
export function modelJsonPath(path: string): string {
  const isDir = existsSync(path) ? statSync(path).isDirectory() : !path.endsWith('.json');
  return isDir ? join(path, 'model.json') : path;
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2, complex64: 8 };

/** Bytes a manifest entry occupies in the weight files (a quantized entry stores its quantized type). */
function entryBytes(w: tf.io.WeightsManifestEntry): number {
  const count = w.shape.reduce((a, b) => a * b, 1);
  const dtype = w.quantization?.dtype ?? w.dtype;
  return count * (BYTES[dtype] ?? NaN);
}

function parseModelJson(file: string): tf.io.ModelJSON {
  let text: string;
  try {
    // A FIFO or device given as the model is named, never read (it would block or never end).
    text = readRegularTextSync(file, { maxBytes: MAX_MODEL_JSON_BYTES });
  } catch (e) {
    const why = e instanceof NotRegularFileError || e instanceof FileTooLargeError ? e.message : ((e as NodeJS.ErrnoException).code ?? (e as Error).message);
    throw new ModelFileError(file, `cannot read (${why}); ${FIX}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ModelFileError(file, `not valid JSON (${(e as Error).message}); ${FIX}`);
  }
  const j = json as Partial<tf.io.ModelJSON> | null;
  if (typeof j !== 'object' || j === null || Array.isArray(j)) throw new ModelFileError(file, `not a JSON object; ${FIX}`);
  if (typeof j.modelTopology !== 'object' || j.modelTopology === null) throw new ModelFileError(file, `no "modelTopology" object; ${FIX}`);
  const manifest = j.weightsManifest;
  const okGroup = (g: unknown) => {
    const group = g as Partial<tf.io.WeightsManifestConfig[number]>;
    return (
      typeof g === 'object' &&
      g !== null &&
      Array.isArray(group.paths) &&
      group.paths.every((p: unknown) => typeof p === 'string') &&
      Array.isArray(group.weights) &&
      group.weights.every((w: Partial<tf.io.WeightsManifestEntry> | undefined) => typeof w?.name === 'string' && Array.isArray(w.shape) && typeof w.dtype === 'string')
    );
  };
  if (!Array.isArray(manifest) || !manifest.every(okGroup)) {
    throw new ModelFileError(file, `"weightsManifest" must be a list of { paths: [file…], weights: [{ name, shape, dtype }…] }; ${FIX}`);
  }
  return j as tf.io.ModelJSON;
}

/**
 * Where a manifest path may point: a file inside model.json's own folder (subfolders
 * allowed), also once symbolic links are followed. `audit` reads models from elsewhere, so a
 * manifest naming /dev/zero, /etc/…, `../x` or a link out of the folder is refused, not read.
 */
function weightsPath(file: string, dir: string, p: string): string {
  const path = resolve(dir, p);
  const inside = (root: string, q: string) => {
    const rel = relative(root, q);
    return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
  };
  const escapes = `weights path "${printable(p)}" named by ${printable(file)} is outside the model's folder ${printable(dir)}; weight files must sit beside model.json`;
  if (isAbsolute(p) || !inside(dir, path)) throw new ModelFileError(file, escapes);
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    return path; // missing: reported by the read, with its errno
  }
  if (!inside(realpathSync(dir), real)) throw new ModelFileError(file, `${escapes} (${printable(path)} links to ${printable(real)})`);
  return path;
}

function readWeights(file: string, manifest: tf.io.WeightsManifestConfig): [tf.io.WeightsManifestEntry[], ArrayBuffer] {
  const dir = dirname(resolve(file));
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: ArrayBuffer[] = [];
  for (const group of manifest) {
    const want = group.weights.reduce((n, w) => n + entryBytes(w), 0);
    if (!Number.isFinite(want)) {
      const bad = group.weights.find((w) => !Number.isFinite(entryBytes(w)));
      throw new ModelFileError(file, `weight "${printable(String(bad?.name))}" has dtype "${printable(String(bad?.quantization?.dtype ?? bad?.dtype))}" or shape [${bad?.shape}] whose size is unknown`);
    }
    const paths = group.paths.map((p) => weightsPath(file, dir, p));
    // No file of a group can hold more than the whole group's weights: a larger one is refused before it is read.
    const parts = paths.map((path) => {
      try {
        const b = readRegularFileSync(path, { maxBytes: want });
        return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
      } catch (e) {
        if (e instanceof FileTooLargeError) throw new ModelFileError(path, `${e.message} (${printable(file)} describes ${want} bytes of weights; not this model's weights)`);
        const why = e instanceof NotRegularFileError ? e.message : ((e as NodeJS.ErrnoException).code ?? (e as Error).message);
        throw new ModelFileError(path, `weights file named by ${printable(file)} cannot be read (${why})`);
      }
    });
    const have = parts.reduce((n, b) => n + b.byteLength, 0);
    if (have !== want) {
      const names = paths.join(', ');
      throw new ModelFileError(names, `holds ${have} bytes but ${printable(file)} describes ${want} bytes of weights (truncated, or not this model's weights)`);
    }
    specs.push(...group.weights);
    buffers.push(...parts);
  }
  return [specs, tf.io.CompositeArrayBuffer.join(buffers)];
}

/** The IOHandler: `load` reads and checks model.json and its weights; `save` writes them atomically. */
export function modelFiles(path: string, weightsName = 'weights.bin'): tf.io.IOHandler {
  const file = modelJsonPath(path);
  return {
    load: async () => (await readModelFiles(file)).artifacts,
    save: async (artifacts) => {
      if (artifacts.modelTopology instanceof ArrayBuffer) throw new Error('saving binary (protobuf) topologies is not supported');
      const weights = new Uint8Array(artifacts.weightData ? tf.io.CompositeArrayBuffer.join(artifacts.weightData) : new ArrayBuffer(0));
      const weightsFile = join(dirname(file), weightsName);
      const json: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology!,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        weightsManifest: [{ paths: [relative(dirname(file), weightsFile)], weights: artifacts.weightSpecs ?? [] }],
        ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
      };
      // Weights first: a reader that sees the new model.json finds its weights beside it.
      writeFileAtomic(weightsFile, weights);
      writeFileAtomic(file, `${JSON.stringify(json)}\n`);
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(json) };
    },
  };
}

export interface LoadedTfModel {
  net: tf.LayersModel | tf.GraphModel;
  file: string;
  format: 'layers-model' | 'graph-model';
  /** model.json's userDefinedMetadata (label-leak keeps what the model was trained on there). */
  metadata: Record<string, unknown>;
  /** 'probabilities' when the model ends in a softmax (a Keras softmax activation, or a graph's Softmax node). */
  outputs: 'logits' | 'probabilities';
}

function endsInSoftmax(net: tf.LayersModel | tf.GraphModel, topology: Record<string, unknown>): boolean {
  if (net instanceof tf.GraphModel) {
    const out = net.outputNodes[0]?.split(':')[0];
    const nodes = (topology.node ?? []) as { name: string; op: string }[];
    return nodes.find((n) => n.name === out)?.op === 'Softmax';
  }
  const last = net.layers[net.layers.length - 1];
  return (last?.getConfig() as { activation?: string } | undefined)?.activation === 'softmax';
}

/** model.json and its weights, read and checked: everything but the tensors (no backend needed). */
export interface ModelFilesRead {
  file: string;
  json: tf.io.ModelJSON;
  artifacts: tf.io.ModelArtifacts;
}

export async function readModelFiles(path: string): Promise<ModelFilesRead> {
  const file = modelJsonPath(path);
  const json = parseModelJson(file);
  const artifacts = await tf.io.getModelArtifactsForJSON(json, async (manifest) => readWeights(file, manifest));
  return { file, json, artifacts };
}

/** Builds a layers model or a graph model (by model.json's "format", else by its topology's shape). */
export async function loadTfModel(source: string | ModelFilesRead): Promise<LoadedTfModel> {
  const { file, json, artifacts } = typeof source === 'string' ? await readModelFiles(source) : source;
  const topology = json.modelTopology as Record<string, unknown>;
  const format = json.format === 'graph-model' || Array.isArray(topology.node) ? 'graph-model' : 'layers-model';
  const handler = tf.io.fromMemory(artifacts);
  let net: tf.LayersModel | tf.GraphModel;
  try {
    net = format === 'graph-model' ? await tf.loadGraphModel(handler) : await tf.loadLayersModel(handler);
  } catch (e) {
    throw new ModelFileError(file, `tfjs cannot build a ${format} from it: ${(e as Error).message}`);
  }
  return {
    net,
    file,
    format,
    metadata: (json.userDefinedMetadata as Record<string, unknown> | undefined) ?? {},
    outputs: endsInSoftmax(net, topology) ? 'probabilities' : 'logits',
  };
}
