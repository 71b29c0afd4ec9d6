import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

/** The GitHub workflows as data, for the tests that keep them honest (github-*.test.ts). */

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const workflowDir = join(root, '.github', 'workflows');
export const WORKFLOWS = ['ci.yml', 'gpu-claims.yml'];

// Loose types: the schema check in github-workflows.test.ts is what guarantees the shape.
export interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
  'continue-on-error'?: boolean | string;
}
export interface Job {
  'runs-on': string | string[];
  needs?: string | string[];
  if?: string;
  'timeout-minutes'?: number;
  strategy?: { 'fail-fast'?: boolean; matrix?: unknown };
  outputs?: Record<string, string>;
  env?: Record<string, string>;
  steps: Step[];
}
export interface Workflow {
  on: Record<string, unknown>;
  env?: Record<string, string>;
  defaults?: { run?: { shell?: string } };
  jobs: Record<string, Job>;
}

export const text = (file: string) => readFileSync(join(workflowDir, file), 'utf8');
export const load = (file: string) => parseYaml(text(file)) as Workflow;
export const runSteps = (wf: Workflow) => Object.values(wf.jobs).flatMap((j) => j.steps.filter((s) => s.run !== undefined));
export const stepUsing = (job: Job, action: string) => job.steps.filter((s) => s.uses?.startsWith(`${action}@`));
