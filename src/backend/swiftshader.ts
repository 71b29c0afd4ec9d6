import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SETTINGS } from '../util/env.ts';

/**
 * SwiftShader, a Vulkan driver that runs on the CPU, gives dawn.node a WebGPU adapter on any
 * machine, so the webgpu kernels are tested and their dispatches counted without a GPU.
 * `scripts/swiftshader.sh` puts it into `.cache/swiftshader`; Debian's chromium package has it
 * in /usr/lib/chromium.
 */
export const SWIFTSHADER_ICD = 'vk_swiftshader_icd.json';
export const SWIFTSHADER_INSTALL_HINT = 'run `scripts/swiftshader.sh` for a software adapter (SwiftShader) to test with';

/** Where to look: LABEL_LEAK_SWIFTSHADER_DIR, `.cache/swiftshader` above the code or the cwd, chromium's folder. */
export function swiftshaderCandidates(env: NodeJS.ProcessEnv = process.env, from = dirname(fileURLToPath(import.meta.url)), cwd = process.cwd()): string[] {
  const out: string[] = [];
  const dir = env[SETTINGS.swiftshaderDir.name];
  if (dir) out.push(join(resolve(dir), SWIFTSHADER_ICD));
  // The sources (src/backend), the compiled CLI (.cache/cli) and a bundle (dist/) all sit at most
  // a few folders below the checkout's root.
  for (const start of [from, cwd]) {
    let dir = resolve(start);
    for (let i = 0; i < 4; i++) {
      out.push(join(dir, '.cache', 'swiftshader', SWIFTSHADER_ICD));
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  out.push(join('/usr/lib/chromium', SWIFTSHADER_ICD));
  return [...new Set(out)];
}

/**
 * Offers SwiftShader to the Vulkan loader beside the machine's own drivers (VK_ADD_DRIVER_FILES
 * adds, where VK_ICD_FILENAMES would replace), so a real GPU still wins the adapter request.
 * The loader reads the variable when Dawn creates its Vulkan instance, so setting it in this
 * process before that is enough. Someone who chose drivers (VK_ICD_FILENAMES / VK_DRIVER_FILES)
 * keeps exactly those. Returns the driver file offered, if any.
 */
export function offerSwiftshader(env: NodeJS.ProcessEnv = process.env, candidates = swiftshaderCandidates(env)): string | undefined {
  if (env.VK_ICD_FILENAMES || env.VK_DRIVER_FILES) return undefined;
  const icd = candidates.find((f) => existsSync(f));
  if (icd === undefined) return undefined;
  const added = (env.VK_ADD_DRIVER_FILES ?? '').split(':').filter((s) => s.length > 0);
  if (!added.includes(icd)) env.VK_ADD_DRIVER_FILES = [...added, icd].join(':');
  return icd;
}
