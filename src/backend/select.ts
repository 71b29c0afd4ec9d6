import * as tf from '@tensorflow/tfjs';
import type { BackendName, ConcreteBackend } from '../spec/names.ts';
import type { BackendInfo } from './info.ts';
import { BackendUnavailableError } from './errors.ts';
import { startCpu } from './cpu.ts';
import { startWasm } from './wasm.ts';
import { startWebgpu } from './webgpu.ts';
import { startTensorflow, importModule, type ModuleLoader } from './tensorflow.ts';

export { BackendUnavailableError } from './errors.ts';


/** `auto` tries these, best first; cpu is a reference, never picked automatically. */
export const AUTO_ORDER: readonly ConcreteBackend[] = ['tensorflow', 'webgpu', 'wasm'];

export interface StartOptions {
  threads?: number;
  /** Folder with the tfjs-backend-wasm binaries (see wasm-files.ts). */
  wasmDir?: string;
  /** How optional packages are imported; tests inject a stand-in. */
  load?: ModuleLoader;
  /** Accept a webgpu adapter that runs on the CPU (SwiftShader). Named `webgpu`: yes; `auto`: never. */
  allowSoftware?: boolean;
}

function startOne(name: ConcreteBackend, opts: StartOptions): Promise<BackendInfo> {
  const load = opts.load ?? importModule;
  switch (name) {
    case 'wasm':
      return startWasm({ threads: opts.threads, wasmDir: opts.wasmDir });
    case 'cpu':
      return startCpu();
    case 'webgpu':
      return startWebgpu(load, undefined, { allowSoftware: opts.allowSoftware ?? true });
    case 'tensorflow':
      return startTensorflow(load);
  }
}

/**
 * Makes `name` the active tfjs backend and says what it got. `auto` takes the first of
 * AUTO_ORDER that really starts and records why the others were skipped.
 */
export async function startBackend(name: BackendName, opts: StartOptions = {}): Promise<BackendInfo> {
  if (name !== 'auto') return startOne(name, opts);
  const skipped: string[] = [];
  const names: ConcreteBackend[] = [];
  for (const candidate of AUTO_ORDER) {
    try {
      const info = await startOne(candidate, { ...opts, allowSoftware: false });
      const why = skipped.length > 0 ? `; skipped ${skipped.join('; ')}` : '';
      const started = { ...info, reason: `auto: ${candidate} is the best that started${why}` };
      autoSkipped.set(started, names);
      return started;
    } catch (e) {
      if (!(e instanceof BackendUnavailableError)) throw e;
      skipped.push(`${candidate} (${e.message})`);
      names.push(candidate);
    }
  }
  throw new BackendUnavailableError('auto', `nothing started: ${skipped.join('; ')}`);
}

/** For the console's one-line backend summary: which better backends `auto` tried first (the record keeps why, in `reason`). */
const autoSkipped = new WeakMap<BackendInfo, ConcreteBackend[]>();

/** The backends `auto` tried before the one it started, best first; empty when it was named or the first started. */
export function skippedBefore(info: BackendInfo): ConcreteBackend[] {
  return autoSkipped.get(info) ?? [];
}

export interface BackendProbe {
  name: ConcreteBackend;
  info?: BackendInfo;
  error?: string;
}

/**
 * Which of `names` start here, each tried once (for the bench and tests). Leaves the last one
 * that started active; callers switch with startBackend.
 */
export async function listBackends(
  opts: StartOptions = {},
  names: readonly ConcreteBackend[] = [...AUTO_ORDER, 'cpu'],
): Promise<BackendProbe[]> {
  const out: BackendProbe[] = [];
  for (const name of names) {
    try {
      out.push({ name, info: await startOne(name, opts) });
    } catch (e) {
      if (!(e instanceof BackendUnavailableError)) throw e;
      out.push({ name, error: e.message });
    }
  }
  return out;
}

/**
 * Disposes the active backend: its memory, and for the threaded wasm build its worker
 * threads, which otherwise can keep Node from exiting. The backend cannot be started
 * again in this process afterwards; call it once, at the end of a command.
 */
export function releaseBackend(): void {
  const name = tf.getBackend();
  if (name !== undefined && tf.findBackend(name) !== null) tf.removeBackend(name);
}
