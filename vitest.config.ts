import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // tfjs backends are process-global; forks keep each test file in its own process.
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    server: {
      deps: {
        // Imports its schema JSON without `with { type: 'json' }`, which Node refuses;
        // inlined, Vite transforms the import (test/unit/workflows.test.ts uses it).
        inline: ['@actions/workflow-parser'],
      },
    },
  },
});
