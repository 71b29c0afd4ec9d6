import { clearDatasetCache, loadDataset, type LoadOptions } from './registry.ts';
import type { DatasetName } from '../spec/names.ts';

/** What loading a whole dataset costs, the way a claim run loads it (issue 6: < 2 s, < 250 MB). */
export interface LoadReport {
  dataset: DatasetName;
  train: number;
  test: number;
  seconds: number;
  /** Resident memory before and after, and the process's peak so far; they include everything the process held before (rssBeforeMB). */
  rssBeforeMB: number;
  rssAfterMB: number;
  peakRssMB: number;
  /** Images and labels held (uint8). */
  datasetMB: number;
}

export interface MemoryProbe {
  (): { rss: number; peakRss: number };
}

const processMemory: MemoryProbe = () => ({
  rss: process.memoryUsage().rss,
  // maxRSS is in KiB and covers the whole process so far, transient buffers included.
  peakRss: process.resourceUsage().maxRSS * 1024,
});

const mb = (bytes: number) => Number((bytes / 2 ** 20).toFixed(1));

export async function measureLoad(name: DatasetName, opts: LoadOptions = {}, memory: MemoryProbe = processMemory): Promise<LoadReport> {
  // A cached copy would measure nothing.
  clearDatasetCache();
  const before = memory().rss;
  const t0 = process.hrtime.bigint();
  const ds = await loadDataset(name, opts);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const after = memory();
  const held = [ds.train, ds.test].reduce((a, s) => a + s.images.byteLength + s.labels.byteLength, 0);
  return {
    dataset: name,
    train: ds.train.count,
    test: ds.test.count,
    seconds: Number(seconds.toFixed(3)),
    rssBeforeMB: mb(before),
    rssAfterMB: mb(after.rss),
    peakRssMB: mb(after.peakRss),
    datasetMB: mb(held),
  };
}
