import type { ResultRecord } from './record-types.ts';

/**
 * Whether a record came out as its spec expects. An expected `error` (a setting known not to
 * decide) counts only when every seed finished and a precondition is what failed: a crash or a
 * NaN gives the same word and must not pass for it.
 */
export function asExpected(r: Pick<ResultRecord, 'verdict' | 'expected' | 'outcomes' | 'preconditions'>): boolean {
  if (r.verdict !== r.expected) return false;
  if (r.expected !== 'error') return true;
  return r.outcomes.every((o) => o.status === 'ok') && (r.preconditions ?? []).some((p) => p.failedSeeds.length > 0);
}
