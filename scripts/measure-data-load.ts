// Issue 6 item 4: time and resident memory of loading a whole dataset (default CIFAR-10).
// Usage: npx tsx scripts/measure-data-load.ts [--data-dir DIR] [--dataset cifar10|mnist|fashion-mnist]
// Run it in a fresh process: the numbers include Node's own baseline, which is printed too.
// Under tsx that baseline is ~75 MB (its loader runs in a second V8 isolate); plain node is
// ~40 MB. To measure without tsx:
//   npx esbuild scripts/measure-data-load.ts --bundle --platform=node --format=esm --outfile=/tmp/measure.mjs
//   node /tmp/measure.mjs --data-dir ../shared/datasets
import { parseArgs } from 'node:util';
import { isDatasetName } from '../src/data/layout.ts';
import { loadDataset } from '../src/data/registry.ts';

const { values } = parseArgs({
  options: { 'data-dir': { type: 'string' }, dataset: { type: 'string', default: 'cifar10' } },
});
const name = values.dataset!;
if (!isDatasetName(name)) throw new Error(`--dataset: unknown dataset ${JSON.stringify(name)}`);

const mb = (b: number) => (b / 2 ** 20).toFixed(1);
const rssBefore = process.memoryUsage().rss;
const t0 = process.hrtime.bigint();
const ds = await loadDataset(name, { dataDir: values['data-dir'] });
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const rssAfter = process.memoryUsage().rss;
// maxRSS is in KiB and covers the whole process so far, including transient buffers.
const peak = process.resourceUsage().maxRSS * 1024;
const held = ds.train.images.byteLength + ds.test.images.byteLength + ds.train.labels.byteLength + ds.test.labels.byteLength;
const result = {
  dataset: name,
  train: ds.train.count,
  test: ds.test.count,
  seconds: Number(seconds.toFixed(3)),
  rssBeforeMB: Number(mb(rssBefore)),
  rssAfterMB: Number(mb(rssAfter)),
  peakRssMB: Number(mb(peak)),
  datasetBytesMB: Number(mb(held)),
};
console.log(JSON.stringify(result));
