import * as tf from '@tensorflow/tfjs';
import { availableParallelism } from 'node:os';
import type { BackendInfo } from './info.ts';
import { BackendUnavailableError } from './errors.ts';

/** Imports a package by name; injected so tests can fake tfjs-node's presence or absence. */
export type ModuleLoader = (specifier: string) => Promise<unknown>;

/**
 * Packages that are always installed are imported by their literal name, so that esbuild puts
 * them into the CLI bundle; the optional peers (tfjs-node, webgpu) go through a variable
 * specifier, which keeps TypeScript and esbuild from resolving them.
 */
const bundled: Record<string, () => Promise<unknown>> = {
  '@tensorflow/tfjs-backend-webgpu': () => import('@tensorflow/tfjs-backend-webgpu'),
};
export const importModule: ModuleLoader = (specifier) => bundled[specifier]?.() ?? import(specifier);

/** Tried in this order: the GPU build first. */
export const TENSORFLOW_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

export const TENSORFLOW_INSTALL_HINT =
  'neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node is installed. On a machine with ' +
  'internet access run `npm install @tensorflow/tfjs-node-gpu` (needs NVIDIA CUDA 11.2 and cuDNN 8.1; ' +
  'its install script downloads libtensorflow 2.9.1) or `npm install @tensorflow/tfjs-node` for the CPU build. ' +
  'Not installable on the machines this project is developed on, so this path is untested there.';

function packageVersion(mod: unknown, pkg: string): string {
  const v = (mod as { version?: Record<string, string> }).version;
  return v?.[pkg.replace('@tensorflow/', '')] ?? v?.['tfjs-node'] ?? 'unknown';
}

/**
 * Loads tfjs-node(-gpu), which registers the 'tensorflow' backend with the shared
 * tfjs-core engine as a side effect of being imported.
 */
export async function startTensorflow(load: ModuleLoader = importModule): Promise<BackendInfo> {
  const failures: string[] = [];
  let allMissing = true;
  for (const pkg of TENSORFLOW_PACKAGES) {
    let mod: unknown;
    try {
      mod = await load(pkg);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') allMissing = false;
      failures.push(`${pkg}: ${(e as Error).message.split('\n')[0]}`);
      continue;
    }
    allMissing = false;
    if (!(await tf.setBackend('tensorflow'))) {
      failures.push(`${pkg}: loaded but the 'tensorflow' backend did not initialise`);
      continue;
    }
    await tf.ready();
    const gpu = pkg.endsWith('-gpu');
    return {
      name: 'tensorflow',
      version: packageVersion(mod, pkg),
      threads: availableParallelism(),
      device: gpu ? 'GPU (libtensorflow, CUDA)' : 'CPU (libtensorflow)',
      reason: `${pkg} loaded`,
    };
  }
  throw new BackendUnavailableError(
    'tensorflow',
    allMissing ? TENSORFLOW_INSTALL_HINT : `tfjs-node failed to start (${failures.join('; ')})`,
  );
}
