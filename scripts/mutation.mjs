#!/usr/bin/env node
// `npm run mutation [-- <folder>… [stryker options]]`: StrykerJS on each named folder of src/
// (all five when none is named), one after the other, each with its own reports in
// reports/mutation/<folder>.{html,json}. Other arguments go to every `stryker run`, e.g.
//   npm run mutation -- metrics --incremental
//   npm run mutation -- train --mutate 'src/train/sgd.ts' --concurrency 1
// Exits non-zero when a run fails; prints each folder's wall time.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const FOLDERS = ['attacks', 'metrics', 'claims', 'experiments', 'train'];
const args = process.argv.slice(2);
const named = args.filter((a) => FOLDERS.includes(a));
const passed = args.filter((a) => !FOLDERS.includes(a));
const folders = named.length > 0 ? named : FOLDERS;
/**
 * StrykerJS's vitest runner runs tests in worker threads, where src/backend/swiftshader.ts's
 * offer of SwiftShader (it sets VK_ADD_DRIVER_FILES in process.env) never reaches the Vulkan
 * loader: a worker's process.env is its own copy, not the process environment. Set here, before
 * StrykerJS starts, the variable is inherited, and the webgpu property tests run in the sandbox
 * (without it they skip, and the webgpu branches show as uncovered). Someone who chose drivers
 * (VK_ICD_FILENAMES / VK_DRIVER_FILES) keeps exactly those, as in swiftshader.ts.
 */
function withSwiftshader(env) {
  if (env.VK_ICD_FILENAMES || env.VK_DRIVER_FILES || env.VK_ADD_DRIVER_FILES) return env;
  const dirs = [env.LABEL_LEAK_SWIFTSHADER_DIR, '.cache/swiftshader', '/usr/lib/chromium'].filter(Boolean);
  const icd = dirs.map((d) => join(resolve(d), 'vk_swiftshader_icd.json')).find((f) => existsSync(f));
  return icd ? { ...env, VK_ADD_DRIVER_FILES: icd } : env;
}

const times = [];
let failed = false;
for (const folder of folders) {
  const started = Date.now();
  const r = spawnSync('npx', ['stryker', 'run', 'stryker.config.mjs', ...passed], {
    stdio: 'inherit',
    env: { ...withSwiftshader(process.env), LABEL_LEAK_MUTATE: folder },
  });
  const seconds = Math.round((Date.now() - started) / 1000);
  times.push(`${folder}: ${seconds} s${r.status === 0 ? '' : ` (exit ${r.status ?? r.signal})`}`);
  if (r.status !== 0) failed = true;
}
console.log(`mutation testing wall times: ${times.join(', ')}`);
process.exit(failed ? 1 : 0);
