// StrykerJS, one folder of src/ at a time: LABEL_LEAK_MUTATE names it (`npm run mutation` runs
// scripts/mutation.mjs, which sets it for each folder in turn). Each folder has its own reports
// and incremental file, and vitest.stryker.config.ts runs only the tests that cover that folder.
const FOLDERS = ['attacks', 'metrics', 'claims', 'experiments', 'train'];
const folder = process.env.LABEL_LEAK_MUTATE ?? 'attacks';
if (!FOLDERS.includes(folder)) {
  throw new Error(`LABEL_LEAK_MUTATE=${folder}: not a mutated folder; use one of ${FOLDERS.join(', ')}`);
}

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  $schema: './node_modules/@stryker-mutator/core/schema/stryker-schema.json',
  packageManager: 'npm',
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: { configFile: 'vitest.stryker.config.ts' },
  mutate: [`src/${folder}/**/*.ts`],
  // Anchored at the root: a bare 'results' also matched src/results/ and docs/results/, so the
  // sandbox lacked the record code, and the tests that import it (claims-runner,
  // claims-sweep-spec) ran no test at all, leaving every runner.ts mutant uncovered.
  // '/.stryker-tmp*': a run with its own --tempDirName (two folders at once) must not copy the other's sandbox.
  ignorePatterns: ['/results', '/reports', '/coverage', '/dist', '/.cache', '/.stryker-tmp*'],
  coverageAnalysis: 'perTest',
  // The machines this runs on have two cores; more workers only queue on them.
  concurrency: 2,
  timeoutMS: 60000,
  // The initial run of src/claims' 20 test files took over StrykerJS's default 5 minutes on a
  // shared 2-core machine (load 23, 2026-12-06) and the whole run was lost.
  dryRunTimeoutMinutes: 30,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: `reports/mutation/${folder}.html` },
  jsonReporter: { fileName: `reports/mutation/${folder}.json` },
  incrementalFile: `reports/mutation/${folder}.incremental.json`,
  thresholds: { high: 95, low: 90, break: null },
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
};
