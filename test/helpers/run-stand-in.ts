// One process of the concurrent-writers test: runs the stand-in claim on the given seeds
// into a shared results folder, starting at a given moment so the processes overlap.
// Usage: tsx test/helpers/run-stand-in.ts <resultsDir> <seeds,comma-separated> <startAtMs>
import { runClaim } from '../../src/claims/runner.ts';
import { loadSpecFile } from '../../src/claims/spec-files.ts';
import { standInRegistry } from '../fixtures-specs/stand-in-kind.ts';

const [resultsDir, seedText, startAt] = process.argv.slice(2);
const spec = loadSpecFile('test/fixtures-specs/stand-in-leak.json', standInRegistry);
while (Date.now() < Number(startAt)) await new Promise((r) => setTimeout(r, 5));
const environment = { packages: {}, gitCommit: 'unknown', gitDirty: null, node: process.version, machine: { cpuModel: 'test', cpus: 1, os: 'test', memoryGiB: 1 } };
// One seed per runClaim call: every seed is a separate read-merge-write of the shared record.
for (const seed of seedText.split(',').map(Number)) {
  await runClaim(spec, {
    tier: 'fast',
    seeds: [seed],
    backend: { name: 'cpu', version: 'test', threads: 1, device: 'CPU', reason: 'test' },
    resultsDir,
    resume: false,
    progress: { start() {}, tick() {}, stop() {} },
    environment,
  });
}
