import * as tf from '@tensorflow/tfjs';
import { setThreadsCount, setWasmPaths, getThreadsCount, version_wasm } from '@tensorflow/tfjs-backend-wasm';
import type { BackendInfo } from './info.ts';
import { BackendUnavailableError } from './errors.ts';
import { resolveWasmDir } from './wasm-files.ts';
import { registerOps } from './ops/index.ts';
import { initWithNodeThreads } from './wasm-threads.ts';
import { SETTINGS } from '../util/env.ts';

export interface WasmOptions {
  /** XNNPACK threads; above 1 the threaded build is used (see `threadsNote`). Fixed at first start. */
  threads?: number;
  /** Folder with the .wasm binaries (default: see resolveWasmDir). */
  wasmDir?: string;
}

/**
 * tfjs-backend-wasm 4.22 turns its multi-threaded build off under Node (tfjs#3830). With
 * `threads` > 1 it is turned on through wasm-threads.ts. Measured on the shared 2-core
 * machine (ResNet-20 training step, batch 128): 1 thread 75–78 img/s, 2 threads 51–110
 * img/s across runs; later the same day 57–64 against 69–94 (docs/backends.md). The pthread
 * workers sometimes keep Node from exiting until releaseBackend() runs, and the MLP gains
 * nothing. So one thread stays the default and more are opt-in.
 */
export const threadsNote =
  'the threaded wasm build is opt-in (--threads N): on a shared 2-core machine ResNet-20 training ran at 0.7x to 1.5x of one thread';

let pathsSet = false;

export async function startWasm(opts: WasmOptions = {}): Promise<BackendInfo> {
  if (!pathsSet) {
    const dir = resolveWasmDir(opts.wasmDir);
    if (dir === undefined) {
      throw new BackendUnavailableError(
        'wasm',
        `the tfjs-backend-wasm .wasm binaries were not found; set ${SETTINGS.wasmDir.name} to the folder ` +
          'holding tfjs-backend-wasm*.wasm (a bundled CLI needs them copied beside it)',
      );
    }
    // The prefix is concatenated with the file name, so it needs the separator.
    setWasmPaths(dir.endsWith('/') ? dir : `${dir}/`);
    pathsSet = true;
  }
  registerOps('wasm');
  const threaded = (opts.threads ?? 1) > 1 && tf.findBackend('wasm') === null;
  if (threaded) setThreadsCount(opts.threads as number);
  const ok = threaded ? await initWithNodeThreads(opts.threads as number, () => tf.setBackend('wasm')) : await tf.setBackend('wasm');
  if (!ok) {
    throw new BackendUnavailableError('wasm', 'tfjs-backend-wasm failed to initialise (see the warning above)');
  }
  await tf.ready();
  const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) as boolean;
  const threads = getThreadsCount();
  const asked =
    opts.threads !== undefined && opts.threads !== threads
      ? `; ${opts.threads} threads asked for, ${threads} running (the backend was already initialised, or the glue capped it)`
      : threads > 1
        ? `; threaded build (experimental): ${threadsNote}`
        : '';
  return {
    name: 'wasm',
    version: version_wasm,
    threads,
    device: `CPU (wasm${simd ? ' SIMD' : ''}, ${threads} thread${threads === 1 ? '' : 's'})`,
    reason: `wasm started${asked}`,
  };
}
