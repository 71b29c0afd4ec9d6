import type { Environment } from '../../src/results/record.ts';

/** The `environment` of a record made in a test: fixed, so records built from it compare equal. */
export const testEnvironment: Environment = {
  packages: {},
  gitCommit: 'a'.repeat(40),
  gitDirty: false,
  node: process.version,
  machine: { cpuModel: 'Test CPU', cpus: 2, os: 'test', memoryGiB: 1 },
};
