// Calibration aid: run one experiment kind with params from a JSON file (or a spec's tier) on
// some seeds and print each seed's metrics and wall time, without writing result records.
//   npx tsx scripts/try-experiment.ts <params.json | claims/<id>.json:tier> <seeds> [backend]
import { readFileSync } from 'node:fs';
import { startBackend } from '../src/backend/select.ts';
import type { BackendName } from '../src/spec/names.ts';
import { experiments } from '../src/experiments/registry.ts';
import type { ProgressSink } from '../src/train/progress.ts';

const [source, seedArg = '1', backendName = 'wasm'] = process.argv.slice(2);
const [file, tier] = source.split(':');
const doc = JSON.parse(readFileSync(file, 'utf8'));
const kindName: string = tier ? doc.experiment : doc.experiment;
const params = tier ? doc.tiers[tier].params : doc.params;
const kind = experiments[kindName];
const backend = await startBackend(backendName as BackendName);
console.log(`backend ${backend.name} (${backend.device}); kind ${kind.name}`);
let last = 0;
const progress: ProgressSink = {
  start: (label, total) => console.log(`  ${label}: ${total} steps`),
  tick: (done, info) => {
    if (Date.now() - last > 20000) {
      last = Date.now();
      console.log(`    ${done} ${JSON.stringify(info)}`);
    }
  },
  stop: () => {},
};
for (const seed of seedArg.split(',').map(Number)) {
  const t0 = Date.now();
  const out = await kind.run(params, { seed, backend, progress, dataDir: process.env.LABEL_LEAK_DATA_DIR });
  const m = Object.fromEntries(Object.entries(out.metrics).map(([k, v]) => [k, Number(v.toFixed(4))]));
  console.log(`seed ${seed}: ${((Date.now() - t0) / 1000).toFixed(1)} s, ${Math.round(out.imagesPerSecond ?? 0)} img/s`);
  console.log(JSON.stringify(m));
  if (out.curves.epochs) console.log('epochs', JSON.stringify(out.curves.epochs.map((e) => Object.fromEntries(Object.entries(e).map(([k, v]) => [k, Number((v ?? 0).toFixed(3))])))));
}
