/**
 * Adds the data digests to committed records made before records named their data, only
 * where a fresh run reproduced the committed record exactly: same spec version, params,
 * backend and threads, every seed, every per-seed metric to the last digit
 * (results/oracle.ts `backfillData`). Only then is it known which files the committed
 * numbers came from; any other record is left as it is, with the reason.
 *
 *   npx tsx scripts/backfill-record-data.ts FRESH_RESULTS [COMMITTED=docs/results/records]
 *
 * FRESH_RESULTS is a `run --results` folder (e.g. the claim test's results/). Exits 1 when
 * a committed record without data could not be filled in, 2 on bad arguments.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { backfillData } from '../src/results/oracle.ts';
import { readRecord, recordPath, writeRecord } from '../src/results/record.ts';
import { TIERS } from '../src/spec/names.ts';

const [fresh, committed = 'docs/results/records'] = process.argv.slice(2);
if (!fresh || !existsSync(fresh)) {
  console.error(`usage: tsx scripts/backfill-record-data.ts FRESH_RESULTS [COMMITTED]; ${fresh ? `${fresh} does not exist` : 'FRESH_RESULTS is missing'}`);
  process.exit(2);
}
let left = 0;
for (const tier of TIERS) {
  const dir = join(committed, tier);
  if (!existsSync(dir)) continue;
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    const file = join(dir, name);
    const old = readRecord(file);
    if (old.data) continue;
    const freshFile = recordPath(fresh, tier, old.claim.id);
    if (!existsSync(freshFile)) {
      console.log(`${file}: left without data: no fresh record ${freshFile}`);
      left++;
      continue;
    }
    const r = backfillData(old, readRecord(freshFile));
    if ('why' in r) {
      console.log(`${file}: left without data: ${r.why}`);
      left++;
      continue;
    }
    writeRecord(file, r.record);
    console.log(`${file}: data added from ${freshFile} (every per-seed metric equal): ${r.record.data!.map((d) => `${d.dataset} ${d.digest.slice(0, 12)}`).join(', ') || 'no dataset'}`);
  }
}
process.exit(left > 0 ? 1 : 0);
