import * as tf from '@tensorflow/tfjs';
import { version_wasm } from '@tensorflow/tfjs-backend-wasm';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { BackendInfo } from '../../src/backend/info.ts';
import { BackendUnavailableError, startBackend } from '../../src/backend/select.ts';
import { isBackendName } from '../../src/spec/names.ts';
import { startTensorflow, TENSORFLOW_INSTALL_HINT, type ModuleLoader } from '../../src/backend/tensorflow.ts';
import { NO_ADAPTER_HINT, startWebgpu } from '../../src/backend/webgpu.ts';
import { installedWasmDir, resolveWasmDir, WASM_FILE_NAMES } from '../../src/backend/wasm-files.ts';

/** What Node throws for a package that is not installed. */
function notInstalled(specifier: string): Error {
  return Object.assign(new Error(`Cannot find package '${specifier}' imported from test`), { code: 'ERR_MODULE_NOT_FOUND' });
}

/**
 * A stand-in for @tensorflow/tfjs-node: importing it registers a backend named
 * 'tensorflow', as the real package does (here a plain CPU backend under that name).
 */
const fakeTfjsNode = {
  version: { 'tfjs-node': '4.22.0-fake' },
  register(): void {
    tf.registerBackend('tensorflow', () => new tf.MathBackendCPU());
  },
};

/** A loader for a machine with `present` installed; everything else is missing. */
function loader(present: Record<string, () => unknown>): ModuleLoader {
  return async (specifier) => {
    const make = present[specifier];
    if (make === undefined) throw notInstalled(specifier);
    return make();
  };
}

const webgpuWithoutAdapter = () => ({ create: () => ({ requestAdapter: async () => null }), globals: {} });

afterEach(async () => {
  if (tf.findBackend('tensorflow') !== null) tf.removeBackend('tensorflow');
  await tf.setBackend('cpu');
});

describe('startBackend', () => {
  it('wasm starts and reports the SIMD build with the thread count it really runs', async () => {
    const info = await startBackend('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(info).toMatchObject({ name: 'wasm', version: version_wasm, threads: 1 });
    expect(info.device).toMatch(/wasm SIMD, 1 thread/);
    expect(tf.sum(tf.tensor([1, 2, 3])).dataSync()[0]).toBe(6);
  });

  it('wasm says so when more threads are asked for once it already runs with one', async () => {
    const info = await startBackend('wasm', { threads: 2 });
    expect(info.threads).toBe(1);
    expect(info.reason).toMatch(/2 threads asked for, 1 running/);
  });

  it('cpu starts', async () => {
    const info = await startBackend('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(info.name).toBe('cpu');
    expect(info.version).toBe(tf.version['tfjs-backend-cpu']);
  });

  it('auto takes tensorflow when tfjs-node is installed', async () => {
    const info = await startBackend('auto', { load: loader({ '@tensorflow/tfjs-node': () => (fakeTfjsNode.register(), fakeTfjsNode) }) });
    expect(info.name).toBe('tensorflow');
    expect(tf.getBackend()).toBe('tensorflow');
    expect(info.reason).toBe('auto: tensorflow is the best that started');
  });

  it('auto falls back to wasm and says why tensorflow and webgpu were skipped', async () => {
    const info = await startBackend('auto', { load: loader({ webgpu: webgpuWithoutAdapter }) });
    expect(info.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(info.reason).toContain('tensorflow (');
    expect(info.reason).toContain('npm install @tensorflow/tfjs-node-gpu');
    expect(info.reason).toContain('webgpu (');
    expect(info.reason).toContain('no GPU adapter');
  });

  it('naming an unavailable backend throws BackendUnavailableError, not a fallback', async () => {
    await expect(startBackend('tensorflow', { load: loader({}) })).rejects.toBeInstanceOf(BackendUnavailableError);
    await expect(startBackend('webgpu', { load: loader({ webgpu: webgpuWithoutAdapter }) })).rejects.toThrow(/no GPU adapter/);
    expect(tf.getBackend()).toBe('cpu');
  });

  it('isBackendName accepts the five names only', () => {
    for (const n of ['auto', 'wasm', 'cpu', 'webgpu', 'tensorflow']) expect(isBackendName(n)).toBe(true);
    for (const n of ['webgl', 'WASM', '', 'tfjs-node']) expect(isBackendName(n)).toBe(false);
  });
});

describe('tensorflow backend selection (tfjs-node cannot be installed here: stand-in modules)', () => {
  it('absent: the error says what to install and which CUDA/cuDNN the GPU build needs', async () => {
    const err = await startTensorflow(loader({})).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expect((err as Error).message).toContain(TENSORFLOW_INSTALL_HINT);
    expect((err as Error).message).toMatch(/CUDA 11\.2.*cuDNN 8\.1/);
  });

  it('tries the GPU build first, then the CPU build', async () => {
    const asked: string[] = [];
    const load: ModuleLoader = async (s) => {
      asked.push(s);
      if (s === '@tensorflow/tfjs-node') return (fakeTfjsNode.register(), fakeTfjsNode);
      throw notInstalled(s);
    };
    const info = await startTensorflow(load);
    expect(asked).toEqual(['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']);
    expect(info).toMatchObject({ name: 'tensorflow', version: '4.22.0-fake', device: 'CPU (libtensorflow)' });
  });

  it('the GPU build, when present, is the one used and reported', async () => {
    const gpu = { ...fakeTfjsNode, version: { 'tfjs-node-gpu': '4.22.0-gpu' } };
    const info = await startTensorflow(loader({ '@tensorflow/tfjs-node-gpu': () => (fakeTfjsNode.register(), gpu) }));
    expect(info).toMatchObject({ name: 'tensorflow', version: '4.22.0-gpu', device: 'GPU (libtensorflow, CUDA)' });
    expect(info.reason).toBe('@tensorflow/tfjs-node-gpu loaded');
  });

  it('installed but broken (e.g. libtensorflow missing): the error reports the failure, not the install hint', async () => {
    const load: ModuleLoader = async (s) => {
      if (s === '@tensorflow/tfjs-node-gpu') throw new Error('libtensorflow.so.2: cannot open shared object file');
      throw notInstalled(s);
    };
    const err = (await startTensorflow(load).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expect(err.message).toContain('libtensorflow.so.2');
    expect(err.message).not.toContain(TENSORFLOW_INSTALL_HINT);
  });
});

describe('webgpu backend', () => {
  it('without the webgpu package: says to install it', async () => {
    await expect(startWebgpu(loader({}))).rejects.toThrow(/npm install webgpu/);
  });

  it('with no adapter: fails with the Vulkan hint', async () => {
    await expect(startWebgpu(loader({ webgpu: webgpuWithoutAdapter }))).rejects.toThrow(NO_ADAPTER_HINT);
  });

  it('a driver that never answers fails after the timeout instead of hanging', async () => {
    const hanging = () => ({ create: () => ({ requestAdapter: () => new Promise(() => {}) }), globals: {} });
    await expect(startWebgpu(loader({ webgpu: hanging }), 50)).rejects.toThrow(/did not answer within 50 ms/);
  });

  it('the real dawn.node either starts or fails cleanly with BackendUnavailableError', async () => {
    // On the 2-core machines Dawn finds no Vulkan device; on a GPU machine this starts.
    const outcome: BackendInfo | unknown = await startBackend('webgpu').catch((e: unknown) => e);
    if (outcome instanceof Error) {
      expect(outcome).toBeInstanceOf(BackendUnavailableError);
      expect(outcome.message).toContain('adapter');
    } else {
      expect((outcome as BackendInfo).name).toBe('webgpu');
      expect(tf.getBackend()).toBe('webgpu');
    }
  });
});

describe('wasm binaries', () => {
  function folderWithWasm(): string {
    const dir = mkdtempSync(join(tmpdir(), 'll-wasm-'));
    for (const f of WASM_FILE_NAMES) writeFileSync(join(dir, f), '');
    return dir;
  }

  it('the installed package has all three binaries', () => {
    const dir = installedWasmDir();
    expect(dir).toBeDefined();
    expect(resolveWasmDir(undefined, {}, undefined)).toBe(dir);
  });

  it('an explicit folder, then LABEL_LEAK_WASM_DIR, then the running script’s folder win over the installed package', () => {
    const a = folderWithWasm();
    const b = folderWithWasm();
    const c = folderWithWasm();
    expect(resolveWasmDir(a, { LABEL_LEAK_WASM_DIR: b }, join(c, 'label-leak.mjs'))).toBe(a);
    expect(resolveWasmDir(undefined, { LABEL_LEAK_WASM_DIR: b }, join(c, 'label-leak.mjs'))).toBe(b);
    expect(resolveWasmDir(undefined, {}, join(c, 'label-leak.mjs'))).toBe(c);
  });

  it('a folder without the binaries is passed over', () => {
    const empty = mkdtempSync(join(tmpdir(), 'll-nowasm-'));
    expect(resolveWasmDir(empty, { LABEL_LEAK_WASM_DIR: empty }, join(empty, 'x.mjs'))).toBe(installedWasmDir());
  });
});
