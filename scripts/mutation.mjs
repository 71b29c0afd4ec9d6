#!/usr/bin/env node
// `npm run mutation [-- <folder>… [stryker options]]`: StrykerJS on each named folder of src/
// (all five when none is named), one after the other, each with its own reports in
// reports/mutation/<folder>.{html,json}. Other arguments go to every `stryker run`, e.g.
//   npm run mutation -- metrics --incremental
//   npm run mutation -- train --mutate 'src/train/sgd.ts' --concurrency 1
// Exits non-zero when a run fails; prints each folder's wall time.
import { spawnSync } from 'node:child_process';

const FOLDERS = ['attacks', 'metrics', 'claims', 'experiments', 'train'];
const args = process.argv.slice(2);
const named = args.filter((a) => FOLDERS.includes(a));
const passed = args.filter((a) => !FOLDERS.includes(a));
const folders = named.length > 0 ? named : FOLDERS;
const times = [];
let failed = false;
for (const folder of folders) {
  const started = Date.now();
  const r = spawnSync('npx', ['stryker', 'run', 'stryker.config.mjs', ...passed], {
    stdio: 'inherit',
    env: { ...process.env, LABEL_LEAK_MUTATE: folder },
  });
  const seconds = Math.round((Date.now() - started) / 1000);
  times.push(`${folder}: ${seconds} s${r.status === 0 ? '' : ` (exit ${r.status ?? r.signal})`}`);
  if (r.status !== 0) failed = true;
}
console.log(`mutation testing wall times: ${times.join(', ')}`);
process.exit(failed ? 1 : 0);
