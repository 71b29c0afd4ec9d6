import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { SETTINGS } from '../util/env.ts';

/**
 * The binaries tfjs-backend-wasm loads at start-up. A bundled CLI (one file from esbuild)
 * cannot find them inside node_modules, so the bundle step copies these beside it.
 */
export const WASM_FILE_NAMES = [
  'tfjs-backend-wasm.wasm',
  'tfjs-backend-wasm-simd.wasm',
  'tfjs-backend-wasm-threaded-simd.wasm',
] as const;

/** The folder inside the installed @tensorflow/tfjs-backend-wasm that holds the binaries. */
export function installedWasmDir(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    // `main` is dist/tf-backend-wasm.node.js, beside the .wasm files.
    return dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
  } catch {
    return undefined;
  }
}

function hasWasmFiles(dir: string): boolean {
  return WASM_FILE_NAMES.every((f) => existsSync(join(dir, f)));
}

/**
 * Where to load the .wasm files from, first match wins: an explicit folder, the
 * LABEL_LEAK_WASM_DIR variable, the folder of the running script (a bundle in dist/ with
 * the files copied beside it), the installed package. Undefined when none has them.
 */
export function resolveWasmDir(
  explicit?: string,
  env: NodeJS.ProcessEnv = process.env,
  scriptPath: string | undefined = process.argv[1],
): string | undefined {
  const candidates = [
    explicit,
    env[SETTINGS.wasmDir.name],
    scriptPath ? dirname(scriptPath) : undefined,
    installedWasmDir(),
  ];
  return candidates.find((d): d is string => d !== undefined && d !== '' && hasWasmFiles(d));
}
