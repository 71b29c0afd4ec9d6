import { describe, expect, it } from 'vitest';
import { asExpected } from '../../src/results/as-expected.ts';
import type { PreconditionResult, SeedResult } from '../../src/results/record-types.ts';

const ok = (seed: number): SeedResult => ({ seed, status: 'ok', metrics: { clean_acc: 0.1 } }) as unknown as SeedResult;
const failed = (seed: number): SeedResult => ({ seed, status: 'error', metrics: {}, error: { name: 'NonFiniteError', message: 'loss NaN' } }) as unknown as SeedResult;
const precondition = (failedSeeds: number[]): PreconditionResult => ({ failedSeeds }) as unknown as PreconditionResult;

describe('asExpected: a record came out as its spec expects', () => {
  it('when the verdict is the expected one, and not when it differs', () => {
    expect(asExpected({ verdict: 'refuted', expected: 'refuted', outcomes: [ok(1)] })).toBe(true);
    expect(asExpected({ verdict: 'inconclusive', expected: 'refuted', outcomes: [ok(1)] })).toBe(false);
  });

  it('an expected error counts only as a failed precondition with every seed finished', () => {
    expect(asExpected({ verdict: 'error', expected: 'error', outcomes: [ok(1), ok(2)], preconditions: [precondition([2])] })).toBe(true);
    // A crash or a NaN gives the same word: not as expected.
    expect(asExpected({ verdict: 'error', expected: 'error', outcomes: [ok(1), failed(2)], preconditions: [precondition([2])] })).toBe(false);
    expect(asExpected({ verdict: 'error', expected: 'error', outcomes: [ok(1), failed(2)], preconditions: [precondition([])] })).toBe(false);
    expect(asExpected({ verdict: 'error', expected: 'error', outcomes: [ok(1)] })).toBe(false);
  });
});
