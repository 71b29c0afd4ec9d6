import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES_ROOT, writeFixtures } from '../../scripts/make-fixtures.ts';
import { clearDatasetCache, loadDataset } from '../../src/data/registry.ts';
import { syntheticSet } from '../../src/data/synthetic.ts';
import type { ImageSet } from '../../src/data/types.ts';
import { makeRng } from '../../src/util/rng.ts';

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name))).sort();
}

/** Nearest class mean on raw pixels: a floor for what any trained model should reach. */
function nearestCentroidAccuracy(train: ImageSet, test: ImageSet): number {
  const size = train.height * train.width * train.channels;
  const sums = Array.from({ length: 10 }, () => new Float64Array(size));
  const counts = new Array(10).fill(0);
  for (let i = 0; i < train.count; i++) {
    counts[train.labels[i]]++;
    for (let p = 0; p < size; p++) sums[train.labels[i]][p] += train.images[i * size + p];
  }
  const means = sums.map((s, c) => s.map((v) => v / Math.max(1, counts[c])));
  let right = 0;
  for (let i = 0; i < test.count; i++) {
    let best = -1;
    let bestDist = Infinity;
    means.forEach((m, c) => {
      let d = 0;
      for (let p = 0; p < size; p++) d += (test.images[i * size + p] - m[p]) ** 2;
      if (d < bestDist) [best, bestDist] = [c, d];
    });
    if (best === test.labels[i]) right++;
  }
  return right / test.count;
}

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'label-leak-fixtures-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('fixtures', () => {
  it('are what scripts/make-fixtures.ts writes, byte for byte (rerun `npm run fixtures` after changing it)', async () => {
    const out = join(tmp, 'regenerated');
    await writeFixtures(out);
    const committed = await listFiles(FIXTURES_ROOT);
    expect(await listFiles(out)).toEqual(committed);
    for (const f of committed) {
      const same = Buffer.compare(await readFile(join(out, f)), await readFile(join(FIXTURES_ROOT, f))) === 0;
      expect(same, f).toBe(true);
    }
  });

  it('stay small enough to commit (under 2 MB)', async () => {
    let total = 0;
    for (const f of await listFiles(FIXTURES_ROOT)) total += (await readFile(join(FIXTURES_ROOT, f))).length;
    expect(total).toBeLessThan(2 * 2 ** 20);
  });

  it('are learnable: a nearest-class-mean classifier beats chance (10%) by far on every set', async () => {
    clearDatasetCache();
    for (const name of ['mnist', 'fashion-mnist', 'cifar10'] as const) {
      const ds = await loadDataset(name, { dataDir: join(FIXTURES_ROOT, 'data'), fallbacks: [] });
      const acc = nearestCentroidAccuracy(ds.train, ds.test);
      expect(acc, name).toBeGreaterThan(0.5);
    }
  });

  it('have all ten classes, balanced, in every split', async () => {
    for (const kind of ['blobs', 'stripes', 'squares'] as const) {
      const set = syntheticSet(kind, 95, makeRng(3, kind));
      const counts = new Array(10).fill(0);
      set.labels.forEach((l) => counts[l]++);
      expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    }
  });
});
