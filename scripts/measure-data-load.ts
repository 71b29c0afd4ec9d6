// Issue 6 item 4: time and resident memory of loading a whole dataset (default CIFAR-10) in a
// process that holds nothing else (`label-leak data load` measures the same inside the CLI,
// which has tfjs and the report libraries loaded before it starts: ~130 MB).
// Usage: npx tsx scripts/measure-data-load.ts [--data-dir DIR] [--dataset cifar10|mnist|fashion-mnist]
// The numbers include Node's own baseline (rssBeforeMB).
// Under tsx that baseline is ~75 MB (its loader runs in a second V8 isolate); plain node is
// ~40 MB. To measure without tsx:
//   npx esbuild scripts/measure-data-load.ts --bundle --platform=node --format=esm --outfile=/tmp/measure.mjs
//   node /tmp/measure.mjs --data-dir ../shared/datasets
import { parseArgs } from 'node:util';
import { isDatasetName } from '../src/spec/names.ts';
import { measureLoad } from '../src/data/measure-load.ts';

const { values } = parseArgs({
  options: { 'data-dir': { type: 'string' }, dataset: { type: 'string', default: 'cifar10' } },
});
const name = values.dataset!;
if (!isDatasetName(name)) throw new Error(`--dataset: unknown dataset ${JSON.stringify(name)}`);

console.log(JSON.stringify(await measureLoad(name, { dataDir: values['data-dir'] })));
