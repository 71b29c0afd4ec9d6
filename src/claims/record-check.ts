import { existsSync } from 'node:fs';
import type { TierSpec } from '../spec/claim.ts';
import type { Tier } from '../spec/names.ts';
import { readRecord } from '../results/record.ts';
import { assess } from './assess.ts';
import { claimChecks } from './checks.ts';
import { canonicalJson, contentHash } from './hash.ts';
import { asExpected } from '../results/as-expected.ts';
import type { LoadedSpec } from './spec.ts';

/**
 * Why a committed record does not stand for a spec's tier (empty when it does): made from an
 * older version or other params, incomplete, hand-edited (its per-seed metrics give another
 * verdict), made while the spec asked other assertions or preconditions (a record made before
 * a precondition was added never checked it), or with a verdict other than `expected`. For
 * tiers too slow for npm test's claim suite (`"suite": "claims-only"`), whose committed record
 * is what the suite checks instead.
 */
export function committedRecordProblems(file: string, spec: LoadedSpec, tierName: Tier, tier: Pick<TierSpec, 'params' | 'seeds' | 'expected'> = spec.tiers[tierName]!): string[] {
  if (!existsSync(file)) return [`no committed record at ${file}: make it with \`label-leak run ${spec.id} --results docs/results/records\``];
  const r = readRecord(file);
  const problems: string[] = [];
  if (r.claim.id !== spec.id) problems.push(`record is of claim ${r.claim.id}, not ${spec.id}`);
  if (r.claim.version !== spec.version) problems.push(`record is of spec version ${r.claim.version}, the spec is at ${spec.version}`);
  const hash = contentHash(tier.params);
  if (r.paramsHash !== hash) problems.push(`record's params hash ${r.paramsHash} is not the spec's (${hash}): params changed without a version bump and new records`);
  const asked = claimChecks(spec, tierName, tier.params);
  if (canonicalJson(r.claim.preconditions ?? []) !== canonicalJson(asked.preconditions)) {
    problems.push(`record was made with ${r.claim.preconditions?.length ?? 0} precondition(s), the spec asks ${asked.preconditions.length} other or more: the spec changed without a version bump and new records`);
  }
  if (canonicalJson(r.claim.assertions) !== canonicalJson(asked.assertions)) problems.push('record was made with other assertions than the spec asks: the spec changed without a version bump and new records');
  if (r.overrides) problems.push(`record was made with --set ${r.overrides.join(', ')}, not the spec's params`);
  const missing = tier.seeds.filter((s) => !r.outcomes.some((o) => o.seed === s));
  if (missing.length > 0) problems.push(`record lacks seed${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
  const again = assess(r.claim.assertions, r.outcomes).verdict;
  if (again !== r.verdict) problems.push(`its per-seed metrics give ${again}, the record says ${r.verdict}`);
  if (r.verdict !== tier.expected || !asExpected({ ...r, expected: tier.expected })) problems.push(`verdict ${r.verdict}, the spec expects ${tier.expected}`);
  return problems;
}
