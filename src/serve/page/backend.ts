import * as tf from '@tensorflow/tfjs';
// Imported for their side effects: each registers its backend with tfjs (webgpu only where
// the browser has navigator.gpu).
import '@tensorflow/tfjs-backend-webgpu';
import { getThreadsCount, setWasmPaths, version_wasm } from '@tensorflow/tfjs-backend-wasm';
import type { BackendInfo } from '../../backend/info.ts';
import { registerOps } from '../../backend/ops/index.ts';
import { isSoftwareAdapter, SUBMIT_BATCH_SIZE } from '../../backend/webgpu.ts';

/**
 * The page's backends: the browser's own WebGPU, else tfjs-backend-wasm from this server.
 * The project's training kernels are registered on each, as the CLI's start-up does, so a
 * step computes what the CLI's computes.
 */

export type PageBackendChoice = 'auto' | 'webgpu' | 'wasm';

interface GpuAdapterLike {
  info?: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
}

/** Why the page cannot have WebGPU here, or the adapter it gets. */
export async function probeWebgpu(): Promise<{ adapter: GpuAdapterLike } | { why: string }> {
  const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<GpuAdapterLike | null> } }).gpu;
  if (!gpu) return { why: 'this browser has no WebGPU (navigator.gpu is missing; Chromium on Linux needs --enable-unsafe-webgpu)' };
  const adapter = await gpu.requestAdapter().catch(() => null);
  if (!adapter) return { why: 'this browser has WebGPU but found no adapter (no usable GPU driver)' };
  return { adapter };
}

function describe(adapter: GpuAdapterLike): string {
  const i = adapter.info ?? {};
  const parts = [i.vendor, i.architecture, i.device, i.description].filter((s) => s !== undefined && s !== '');
  const what = `browser WebGPU${parts.length > 0 ? `: ${parts.join(' ')}` : ''}`;
  return isSoftwareAdapter(adapter) ? `software adapter, CPU — for testing, not training (${what})` : `GPU (${what})`;
}

async function startWasm(reason: string): Promise<BackendInfo> {
  setWasmPaths('/wasm/');
  registerOps('wasm');
  if (!(await tf.setBackend('wasm'))) throw new Error('tfjs-backend-wasm failed to initialise (see the browser console)');
  await tf.ready();
  const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) as boolean;
  const threads = getThreadsCount();
  return { name: 'wasm', version: version_wasm, threads, device: `CPU (wasm${simd ? ' SIMD' : ''}, ${threads} thread${threads === 1 ? '' : 's'}, in the browser)`, reason };
}

async function startWebgpu(adapter: GpuAdapterLike, reason: string): Promise<BackendInfo> {
  if (!(await tf.setBackend('webgpu'))) throw new Error('an adapter was found but tfjs-backend-webgpu failed to initialise (see the browser console)');
  await tf.ready();
  tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', SUBMIT_BATCH_SIZE);
  registerOps('webgpu');
  return { name: 'webgpu', version: tf.version_core, threads: 1, device: describe(adapter), reason };
}

/**
 * Starts the backend asked for. `auto` takes WebGPU when the browser has an adapter (a
 * software one included: in a browser it is what the reader has) and wasm otherwise, saying why.
 * The backend is fixed for the tab's life: tfjs keeps one per name, and a second start of
 * another kind would leave the first's kernels registered.
 */
export async function startPageBackend(choice: PageBackendChoice): Promise<BackendInfo> {
  if (choice === 'wasm') return startWasm('wasm asked for on the page');
  const probe = await probeWebgpu();
  if ('adapter' in probe) return startWebgpu(probe.adapter, choice === 'auto' ? 'auto: the browser has a WebGPU adapter' : 'webgpu asked for on the page');
  if (choice === 'webgpu') throw new Error(`WebGPU asked for, but ${probe.why}; choose wasm`);
  return startWasm(`auto: wasm, since ${probe.why}`);
}
