import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // tfjs backends are process-global; forks keep each test file in its own process.
    pool: 'forks',
    // vitest's default is one worker fewer than the cores: on CI's 2 cores one file at a time,
    // with a core idle through the single-threaded unit files. All cores: the claim suite's
    // training processes then share them with the unit files instead.
    maxWorkers: '100%',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default', './test/reporters/summary-line.ts'],
    server: {
      deps: {
        // @actions/workflow-parser imports its schema JSON without `with { type: 'json' }`,
        // which Node refuses; inlined, Vite transforms that import (test/unit/github-*.test.ts).
        inline: ['@actions/workflow-parser'],
      },
    },
  },
});
