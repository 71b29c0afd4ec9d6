import * as tf from '@tensorflow/tfjs';
import { setThreadsCount, setWasmPaths, getThreadsCount, version_wasm } from '@tensorflow/tfjs-backend-wasm';
import type { BackendInfo } from './info.ts';
import { BackendUnavailableError } from './errors.ts';
import { resolveWasmDir } from './wasm-files.ts';
import { registerWasmTrainingKernels } from './wasm-training-kernels.ts';

export interface WasmOptions {
  /** Threads requested; the Node build runs one (see `threadsNote`). */
  threads?: number;
  /** Folder with the .wasm binaries (default: see resolveWasmDir). */
  wasmDir?: string;
}

/**
 * tfjs-backend-wasm 4.22 turns its multi-threaded build off under Node
 * (tfjs issue #3830): the flag WASM_HAS_MULTITHREAD_SUPPORT is false when IS_NODE, and
 * forcing it on fails because the pthread workers are started from a blob: URL, which
 * Node's worker_threads refuses (ERR_WORKER_PATH). So Node gets the SIMD build, 1 thread.
 */
export const threadsNote =
  'tfjs-backend-wasm 4.22 runs single-threaded in Node (threaded build needs blob: workers; tfjs#3830)';

let pathsSet = false;

export async function startWasm(opts: WasmOptions = {}): Promise<BackendInfo> {
  if (!pathsSet) {
    const dir = resolveWasmDir(opts.wasmDir);
    if (dir === undefined) {
      throw new BackendUnavailableError(
        'wasm',
        'the tfjs-backend-wasm .wasm binaries were not found; set LABEL_LEAK_WASM_DIR to the folder ' +
          'holding tfjs-backend-wasm*.wasm (a bundled CLI needs them copied beside it)',
      );
    }
    // The prefix is concatenated with the file name, so it needs the separator.
    setWasmPaths(dir.endsWith('/') ? dir : `${dir}/`);
    if (opts.threads !== undefined) setThreadsCount(opts.threads);
    pathsSet = true;
  }
  registerWasmTrainingKernels();
  const ok = await tf.setBackend('wasm');
  if (!ok) {
    throw new BackendUnavailableError('wasm', 'tfjs-backend-wasm failed to initialise (see the warning above)');
  }
  await tf.ready();
  const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) as boolean;
  const threads = getThreadsCount();
  const asked =
    opts.threads !== undefined && opts.threads !== threads
      ? `; ${opts.threads} threads asked for, ${threads} running: ${threadsNote}`
      : '';
  return {
    name: 'wasm',
    version: version_wasm,
    threads,
    device: `CPU (wasm${simd ? ' SIMD' : ''}, ${threads} thread${threads === 1 ? '' : 's'})`,
    reason: `wasm started${asked}`,
  };
}
