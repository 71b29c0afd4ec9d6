/**
 * Tiers marked `"suite": "claims-only"` are too slow for npm test's claim suite (the claim
 * test skips them, naming why); `label-leak run` (npm run claims) runs them and their records
 * are committed under docs/results/records/<tier>/. This keeps each such record honest
 * against its spec (src/claims/record-check.ts).
 */
import { describe, expect, it } from 'vitest';
import { committedRecordProblems } from '../../src/claims/record-check.ts';
import { loadSpecDir } from '../../src/claims/spec-files.ts';
import { experiments } from '../../src/experiments/registry.ts';
import { planClaims } from '../../src/claims/plan.ts';
import { inTestSuite } from '../../src/spec/claim.ts';
import { TIERS } from '../../src/spec/names.ts';
import { recordPath } from '../../src/results/record.ts';

const specs = loadSpecDir('claims', experiments);
const claimsOnly = TIERS.flatMap((tier) => planClaims(specs, { tier }).claims.filter((c) => !inTestSuite(c.tier)).map((c) => [c.spec.id, tier, c] as const));

describe('committed records of claims-only tiers', () => {
  it('there are some (the positive controls)', () => expect(claimsOnly.length).toBeGreaterThan(0));
  // Without them a model stuck at chance or a no-op attack reads as "refuted" (issue 25); with them it is `error`.
  it.each(claimsOnly)('%s [%s]: states preconditions, so a broken run ends as error rather than a verdict', (_id, _tier, c) => {
    expect(c.spec.preconditions?.length ?? 0).toBeGreaterThan(0);
  });
  it.each(claimsOnly)('%s [%s]: its record is current, complete, and its verdict is the expected one', (id, tier, c) => {
    expect(committedRecordProblems(recordPath('docs/results/records', tier, id), c.spec, tier, c.tier)).toEqual([]);
  });
});
