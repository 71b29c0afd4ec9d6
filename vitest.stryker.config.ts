import { defineConfig } from 'vitest/config';

// Mutation testing of src/attacks runs only the attack property tests: the rest of the
// suite does not cover that code and would only slow every mutant down.
export default defineConfig({
  test: {
    include: ['test/property/attacks-*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
