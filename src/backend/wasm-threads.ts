import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * tfjs-backend-wasm 4.22 ships a multi-threaded SIMD build whose Emscripten glue supports
 * Node's worker_threads, but its loader hands that glue two Blobs: the pthread worker script
 * as a blob: URL, which Node's Worker refuses (ERR_WORKER_PATH), and the main script as a
 * Blob the worker turns into another blob: URL and reads with fs (tfjs issue #3830; the fix
 * in tfjs PR #8059 was never merged). While the backend initialises, this writes both
 * scripts to a temporary folder and hands out their paths instead. Nothing else changes.
 */
/**
 * The main script is the glue's factory function as text (Function.prototype.toString), so
 * the names the package's bundler gave Node built-ins (`require$$0` = fs, …) are free
 * variables in it. Every such name gets one object holding the four built-ins the glue
 * uses; their member names (readFileSync, normalize, performance, cpus) do not collide.
 * Coupled to how tfjs-backend-wasm 4.22's Node bundle is laid out (and to esbuild's shim
 * name in the CLI bundle); test/unit/backend-wasm-threads.test.ts fails if that changes.
 */
function bundlerImports(text: string): string {
  const names = [...new Set(text.match(/\brequire\$\$\d+\b/g) ?? [])];
  const merged = "Object.assign({}, require('os'), require('perf_hooks'), require('path'), require('fs'))";
  const lines = names.length > 0 ? [`var ${names.join(', ')};`, `${names.join(' = ')} = ${merged};`] : [];
  // Rollup's name for the global object, also left free in the factory's text.
  if (/\bcommonjsGlobal\b/.test(text)) lines.push('var commonjsGlobal = globalThis;');
  // esbuild (the CLI bundle, scripts/bundle.mjs) rewrites require(...) to its __require shim.
  if (/\b__require\b/.test(text)) lines.push('var __require = require;');
  return lines.map((l) => `${l}\n`).join('');
}

/**
 * Runs `start` (which initialises the wasm backend) with the threaded build enabled for
 * Node. XNNPACK's pool is capped at half the logical cores the glue sees (it assumes two
 * hyper-threads per core: 1 thread on a 2-core machine); `threads` is honoured by letting
 * os.cpus() report 2·threads while the module's static initialisers run.
 */
export async function initWithNodeThreads(threads: number, start: () => Promise<boolean>): Promise<boolean> {
  const dir = mkdtempSync(join(tmpdir(), 'label-leak-wasm-threads-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const mainScript = join(dir, 'wasm-main.js');
  const texts = new WeakMap<Blob, string>();
  const OriginalBlob = globalThis.Blob;
  const originalCreate = URL.createObjectURL;

  class RecordingBlob extends OriginalBlob {
    constructor(parts?: BlobPart[], options?: BlobPropertyBag) {
      super(parts, options);
      if (parts?.every((p) => typeof p === 'string')) {
        const text = parts.join('');
        texts.set(this, text);
        // The main script is passed on as a Blob object, never through createObjectURL.
        if (text.startsWith('var WasmBackendModuleThreadedSimd')) writeFileSync(mainScript, bundlerImports(text) + text);
      }
    }
  }
  const createObjectURL = (obj: Blob): string => {
    const text = texts.get(obj);
    if (text === undefined) return originalCreate(obj);
    const worker = join(dir, `worker-${Math.random().toString(36).slice(2)}.js`);
    // Inside the worker, the main script's Blob becomes this file's path.
    const prelude = `URL.createObjectURL = () => ${JSON.stringify(mainScript)}; URL.revokeObjectURL = () => {};\n`;
    writeFileSync(worker, prelude + text);
    return worker;
  };

  const originalCpus = os.cpus;
  const cpus = originalCpus();
  globalThis.Blob = RecordingBlob;
  URL.createObjectURL = createObjectURL;
  os.cpus = () => Array.from({ length: 2 * threads }, (_, i) => cpus[i % cpus.length]);
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  try {
    return await start();
  } finally {
    globalThis.Blob = OriginalBlob;
    URL.createObjectURL = originalCreate;
    os.cpus = originalCpus;
  }
}
