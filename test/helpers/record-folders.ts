import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ResultRecord } from '../../src/results/record-types.ts';

/** A committed fast-tier record (docs/results/records), as a fresh object to edit. */
export const committedRecord = (id: string): ResultRecord => JSON.parse(readFileSync(join('docs/results/records/fast', `${id}.json`), 'utf8'));

/** A results folder `root/name` holding the given records at `fast/<claim>.json`. */
export function recordFolder(root: string, name: string, records: ResultRecord[]): string {
  const dir = join(root, name);
  mkdirSync(join(dir, 'fast'), { recursive: true });
  for (const r of records) writeFileSync(join(dir, 'fast', `${r.claim.id}.json`), JSON.stringify(r));
  return dir;
}

/** mnist-no-leaking with FGSM accuracy raised by `by` in every seed: by 0.1 the claim (no leaking) is refuted. */
export function fgsmRaised(by: number): ResultRecord {
  const r = committedRecord('mnist-no-leaking');
  for (const o of r.outcomes) o.metrics.adv_acc_fgsm += by;
  return r;
}
