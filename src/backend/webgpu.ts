import * as tf from '@tensorflow/tfjs';
import type { BackendInfo } from './info.ts';
import { BackendUnavailableError } from './errors.ts';
import { importModule, type ModuleLoader } from './tensorflow.ts';
import { registerOps } from './ops/index.ts';
import { countGpuCalls } from './webgpu-counts.ts';
import { offerSwiftshader, SWIFTSHADER_INSTALL_HINT } from './swiftshader.ts';
import { SETTINGS } from '../util/env.ts';
import { quietVulkan } from './vulkan-env.ts';
import { isSoftwareAdapter, type AdapterInfoLike } from './adapter.ts';

export { isSoftwareAdapter } from './adapter.ts';

/** The slice of the WebGPU API this module touches (the `webgpu` package ships no usable types here). */
interface AdapterLike {
  info?: AdapterInfoLike;
}
interface GpuLike {
  requestAdapter(options?: { powerPreference?: string }): Promise<AdapterLike | null>;
}
interface WebgpuModule {
  create(flags: string[]): GpuLike;
  globals: Record<string, unknown>;
}

/**
 * Dispatches tfjs-backend-webgpu records before it submits them (its default: 15). Each submit
 * is a host call into Dawn, like a dispatch. Measured on SwiftShader (.scratch/submits.ts,
 * ResNet-20 + half-batch FGSM, batch 2, 498 dispatches a step, 2026-11-30): submits per step
 * 33.25 at 15, 4 at 128, 2 at 256, and at 100,000 (one submit per loss read-back) 0.125 but
 * 872 buffers created per step, since buffers return to the pool only once their work is
 * submitted. 128 keeps the pool as small as at 15 (≈ 1 buffer created per step in steady
 * state at 15, 128 and 256 alike) and still hands the GPU work four times a step.
 */
export const SUBMIT_BATCH_SIZE = 128;

/** Dawn answers in well under a second here; a driver that hangs must not hang the run. */
export const ADAPTER_TIMEOUT_MS = 15_000;

export const NO_ADAPTER_HINT =
  'dawn.node (the `webgpu` package) found no GPU adapter. It needs a Vulkan loader (libvulkan1) and a ' +
  'Vulkan driver for the GPU; Mesa lavapipe is rejected by Dawn and its GL backends find no adapter. ' +
  'On an NVIDIA machine install libvulkan1 (or point VK_DRIVER_FILES at nvidia_icd.json); otherwise ' +
  `use --backend wasm. To test the webgpu code on the CPU, ${SWIFTSHADER_INSTALL_HINT}.`;

/**
 * Options for dawn.node's `create()`, from LABEL_LEAK_WEBGPU_FLAGS (space-separated), e.g.
 * `enable-dawn-features=skip_validation,disable_robustness` (Dawn's toggles) or
 * `adapter=NAME`. Absent: none.
 */
export function dawnFlags(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env[SETTINGS.webgpuFlags.name] ?? '').split(/\s+/).filter((s) => s.length > 0);
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
    // A pending adapter request must not keep the process alive on its own.
    timer.unref();
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

function describe(adapter: AdapterLike): string {
  const i = adapter.info ?? {};
  const parts = [i.vendor, i.architecture, i.device, i.description].filter((s) => s !== undefined && s !== '');
  const what = `WebGPU/Dawn${parts.length > 0 ? `: ${parts.join(' ')}` : ''}`;
  return isSoftwareAdapter(adapter) ? `software adapter, CPU — for testing, not training (${what})` : `GPU (${what})`;
}

export interface WebgpuOptions {
  /**
   * Accept an adapter that runs on the CPU. `--backend webgpu` does (and says so in the backend
   * line); `auto` does not, since wasm trains faster than any software adapter.
   */
  allowSoftware?: boolean;
}

/**
 * One dawn.node GPU object per loaded module, for the life of the process. Each `create()` makes
 * a Dawn instance whose native side is destroyed when the JS object is collected, even while a
 * device made from it (the one tfjs-backend-webgpu keeps) still runs and its event loop still
 * polls it. A second startWebgpu (the bench probes backends, then starts the one it measures)
 * used to replace `navigator.gpu` with a new object and drop the first: at the next GC, Dawn's
 * ProcessEvents locked a freed mutex — `std::system_error: Invalid argument`, a segfault, or the
 * glibc mutex/futex aborts seen on the H100. Kept here, the object is never collected.
 */
const instances = new Map<WebgpuModule, GpuLike>();

function dawnInstance(mod: WebgpuModule): GpuLike {
  let gpu = instances.get(mod);
  if (gpu === undefined) {
    gpu = mod.create(dawnFlags());
    instances.set(mod, gpu);
  }
  return gpu;
}

/**
 * tfjs-backend-webgpu registers its backend at import time only when `navigator.gpu` exists,
 * so the adapter is looked for first and the globals are installed only when one is there.
 */
export async function startWebgpu(
  load: ModuleLoader = importModule,
  timeoutMs = ADAPTER_TIMEOUT_MS,
  opts: WebgpuOptions = {},
): Promise<BackendInfo> {
  let mod: WebgpuModule;
  try {
    mod = (await load('webgpu')) as WebgpuModule;
  } catch (e) {
    throw new BackendUnavailableError(
      'webgpu',
      `the optional package \`webgpu\` (dawn.node) did not load: ${(e as Error).message.split('\n')[0]}. ` +
        'Install it with `npm install webgpu` (linux-x64, macOS and Windows builds ship inside the package).',
    );
  }
  quietVulkan();
  const swiftshader = offerSwiftshader();
  const gpu = dawnInstance(mod);
  let adapter: AdapterLike | null;
  try {
    adapter = await withTimeout(gpu.requestAdapter({ powerPreference: 'high-performance' }), timeoutMs, 'requestAdapter');
  } catch (e) {
    throw new BackendUnavailableError('webgpu', `${(e as Error).message}. ${NO_ADAPTER_HINT}`);
  }
  if (adapter === null) throw new BackendUnavailableError('webgpu', NO_ADAPTER_HINT);
  const software = isSoftwareAdapter(adapter);
  if (software && opts.allowSoftware === false) {
    throw new BackendUnavailableError(
      'webgpu',
      `the only adapter is a software one (${describe(adapter)}); it runs on the CPU, slower than wasm. ` +
        'Name --backend webgpu to use it anyway.',
    );
  }

  Object.assign(globalThis, mod.globals);
  countGpuCalls(mod.globals);
  // Node ≥ 21 defines a read-only `navigator`; replace it rather than assigning.
  Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  await load('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend('webgpu'))) {
    throw new BackendUnavailableError('webgpu', 'an adapter was found but tfjs-backend-webgpu failed to initialise (see the warning above)');
  }
  await tf.ready();
  tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', SUBMIT_BATCH_SIZE);
  registerOps('webgpu');
  return {
    name: 'webgpu',
    // tfjs-backend-webgpu exports no version; the tfjs packages are released in lockstep.
    version: tf.version_core,
    threads: 1,
    device: describe(adapter),
    reason: software && swiftshader !== undefined ? `webgpu started on SwiftShader (${swiftshader})` : 'webgpu started',
  };
}
