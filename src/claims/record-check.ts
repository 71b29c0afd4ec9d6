import { existsSync } from 'node:fs';
import type { TierSpec } from '../spec/claim.ts';
import { readRecord } from '../results/record.ts';
import { assess } from './assess.ts';
import { contentHash } from './hash.ts';
import { asExpected } from '../results/as-expected.ts';

/**
 * Why a committed record does not stand for a spec's tier (empty when it does): made from an
 * older version or other params, incomplete, hand-edited (its per-seed metrics give another
 * verdict), or with a verdict other than `expected`. For tiers too slow for npm test's claim
 * suite (`"suite": "claims-only"`), whose committed record is what the suite checks instead.
 */
export function committedRecordProblems(file: string, spec: { id: string; version: number }, tier: Pick<TierSpec, 'params' | 'seeds' | 'expected'>): string[] {
  if (!existsSync(file)) return [`no committed record at ${file}: make it with \`label-leak run ${spec.id} --results docs/results/records\``];
  const r = readRecord(file);
  const problems: string[] = [];
  if (r.claim.id !== spec.id) problems.push(`record is of claim ${r.claim.id}, not ${spec.id}`);
  if (r.claim.version !== spec.version) problems.push(`record is of spec version ${r.claim.version}, the spec is at ${spec.version}`);
  const hash = contentHash(tier.params);
  if (r.paramsHash !== hash) problems.push(`record's params hash ${r.paramsHash} is not the spec's (${hash}): params changed without a version bump and new records`);
  if (r.overrides) problems.push(`record was made with --set ${r.overrides.join(', ')}, not the spec's params`);
  const missing = tier.seeds.filter((s) => !r.outcomes.some((o) => o.seed === s));
  if (missing.length > 0) problems.push(`record lacks seed${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
  const again = assess(r.claim.assertions, r.outcomes).verdict;
  if (again !== r.verdict) problems.push(`its per-seed metrics give ${again}, the record says ${r.verdict}`);
  if (r.verdict !== tier.expected || !asExpected({ ...r, expected: tier.expected })) problems.push(`verdict ${r.verdict}, the spec expects ${tier.expected}`);
  return problems;
}
