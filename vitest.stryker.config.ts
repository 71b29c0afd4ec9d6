import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

/**
 * The tests StrykerJS runs for each mutated folder (stryker.config.mjs; LABEL_LEAK_MUTATE names
 * the folder): those that cover it, not the rest of the suite, which would only slow every mutant
 * down. Left out on purpose: the claim suite (minutes per run), tests that spawn the CLI in other
 * processes (claims-runner-concurrent: a mutant there is not the code those processes run), and
 * train-step-{backends,memory,uploads} (a minute each; they test backends and memory, not values).
 */
const TESTS: Record<string, string[]> = {
  attacks: ['test/property/attacks-*.test.ts'],
  metrics: ['test/property/metrics-*.test.ts'],
  claims: [
    'test/unit/claims-assess.test.ts',
    'test/unit/claims-cells.test.ts',
    'test/unit/claims-checkpoints.test.ts',
    'test/unit/claims-controls.test.ts',
    'test/unit/claims-datasets.test.ts',
    'test/unit/claims-errors.test.ts',
    'test/unit/claims-fault-replay.test.ts',
    'test/unit/claims-hash.test.ts',
    'test/unit/claims-listing.test.ts',
    'test/unit/claims-load.test.ts',
    'test/unit/claims-only-records.test.ts',
    'test/unit/claims-overrides.test.ts',
    'test/unit/claims-plan.test.ts',
    'test/unit/claims-preconditions.test.ts',
    'test/unit/claims-runner.test.ts',
    'test/unit/claims-stats.test.ts',
    'test/unit/claims-sweep-spec.test.ts',
    'test/unit/claims-verdict.test.ts',
    'test/unit/cli-list-command.test.ts',
  ],
  experiments: ['test/unit/experiments-*.test.ts'],
  train: [
    'test/unit/train-augment.test.ts',
    'test/unit/train-checkpoint.test.ts',
    'test/unit/train-loop.test.ts',
    'test/unit/train-resume.test.ts',
    'test/unit/train-sgd.test.ts',
    'test/unit/train-step.test.ts',
  ],
};

const folder = process.env.LABEL_LEAK_MUTATE ?? 'attacks';
// LABEL_LEAK_MUTATE_TESTS (comma-separated files) replaces the folder's list for a quick partial
// run on a loaded machine: fewer tests can only kill fewer mutants, so its score is a lower bound.
const only = process.env.LABEL_LEAK_MUTATE_TESTS?.split(',').filter(Boolean);
const include = only && only.length > 0 ? only : TESTS[folder];
if (!include) throw new Error(`LABEL_LEAK_MUTATE=${folder}: no tests listed for it in vitest.stryker.config.ts`);

// Removed when the process that loaded this config (vitest, or Stryker's test runner) exits.
const mutantCache = mkdtempSync(join(tmpdir(), 'label-leak-mutant-cache-'));
process.on('exit', () => rmSync(mutantCache, { recursive: true, force: true }));

export default defineConfig({
  test: {
    include,
    // A mutant that drops a test's own data directory falls back to the default cache: without
    // this, one fetched a 10-image CIFAR-10 into ~/.cache/label-leak, which later runs then found.
    // LABEL_LEAK_DATA_DIR, where set, still wins.
    env: { XDG_CACHE_HOME: mutantCache },
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
