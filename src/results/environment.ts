import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, release, totalmem, type as osType } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Environment } from './record-types.ts';

/** What a result was produced with, gathered at the edge (files, processes) for the record. */

/** Packages whose versions matter to a result; those not installed are left out. */
const RECORDED_PACKAGES = [
  '@tensorflow/tfjs',
  '@tensorflow/tfjs-core',
  '@tensorflow/tfjs-backend-cpu',
  '@tensorflow/tfjs-backend-wasm',
  '@tensorflow/tfjs-backend-webgpu',
  '@tensorflow/tfjs-node',
  '@tensorflow/tfjs-node-gpu',
  'webgpu',
] as const;

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

function readVersion(packageJson: string): string | undefined {
  try {
    const v = (JSON.parse(readFileSync(packageJson, 'utf8')) as { version?: unknown }).version;
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Versions read from installed package.json files. A bundled build has no node_modules
 * beside it, so tfjs's own `version` table (compiled into the bundle) fills in.
 */
async function packageVersions(root = PROJECT_ROOT): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const self = readVersion(join(root, 'package.json'));
  if (self) out['label-leak'] = self;
  for (const name of RECORDED_PACKAGES) {
    const v = readVersion(join(root, 'node_modules', name, 'package.json'));
    if (v) out[name] = v;
  }
  if (!out['@tensorflow/tfjs']) {
    try {
      const tf = await import('@tensorflow/tfjs');
      for (const [k, v] of Object.entries(tf.version)) if (typeof v === 'string') out[`@tensorflow/${k}`] ??= v;
    } catch {
      // no tfjs at all: nothing to record
    }
  }
  return out;
}

function git(args: string[], cwd: string): string | undefined {
  try {
    return execFileSync('git', args, { cwd, stdio: ['ignore', 'pipe', 'ignore'], encoding: 'utf8', timeout: 10_000 }).trim();
  } catch {
    return undefined;
  }
}

export function gitState(cwd = process.cwd()): { gitCommit: string; gitDirty: boolean | null } {
  const commit = git(['rev-parse', 'HEAD'], cwd);
  if (!commit || !/^[0-9a-f]{40}$/.test(commit)) return { gitCommit: 'unknown', gitDirty: null };
  const status = git(['status', '--porcelain', '--untracked-files=no'], cwd);
  return { gitCommit: commit, gitDirty: status === undefined ? null : status.length > 0 };
}

function machine(): Environment['machine'] {
  const cores = cpus();
  return {
    cpuModel: cores[0]?.model.trim() ?? 'unknown',
    cpus: cores.length,
    os: `${osType()} ${release()} (${process.platform}-${process.arch})`,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
  };
}

export async function collectEnvironment(cwd = process.cwd()): Promise<Environment> {
  return { packages: await packageVersions(), ...gitState(cwd), node: process.version, machine: machine() };
}
