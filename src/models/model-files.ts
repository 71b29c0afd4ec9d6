import * as tf from '@tensorflow/tfjs';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { printable } from '../util/printable.ts';

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
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ModelFileError(file, `cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); ${FIX}`);
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

function readWeights(file: string, manifest: tf.io.WeightsManifestConfig): [tf.io.WeightsManifestEntry[], ArrayBuffer] {
  const dir = dirname(file);
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: ArrayBuffer[] = [];
  for (const group of manifest) {
    const parts = group.paths.map((p) => {
      const path = resolve(dir, p);
      try {
        const b = readFileSync(path);
        return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
      } catch (e) {
        throw new ModelFileError(path, `weights file named by ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
    });
    const have = parts.reduce((n, b) => n + b.byteLength, 0);
    const want = group.weights.reduce((n, w) => n + entryBytes(w), 0);
    if (have !== want) {
      const names = group.paths.map((p) => resolve(dir, p)).join(', ');
      throw new ModelFileError(names, `holds ${have} bytes but ${file} describes ${want} bytes of weights (truncated, or not this model's weights)`);
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
