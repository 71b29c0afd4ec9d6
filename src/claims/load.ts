import { experiments } from '../experiments/registry.ts';
import { findSpecsIn, loadSpecDir, loadSpecFile } from './spec-files.ts';
import type { LoadedSpec, Registry } from './spec.ts';

export type { LoadedSpec } from './spec.ts';

/** The spec loader with the project's experiment registry as default (spec-files.ts takes any). */

export function loadSpec(file: string, registry: Registry = experiments): LoadedSpec {
  return loadSpecFile(file, registry);
}

export function loadAllSpecs(dir = 'claims', registry: Registry = experiments): LoadedSpec[] {
  return loadSpecDir(dir, registry);
}

export function findSpecs(ids: string[], dir = 'claims', registry: Registry = experiments): LoadedSpec[] {
  return findSpecsIn(ids, dir, registry);
}
