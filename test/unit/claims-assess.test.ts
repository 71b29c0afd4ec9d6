import { describe, expect, it } from 'vitest';
import { assess, assessAssertion, assertedValue, fmt } from '../../src/claims/assess.ts';
import type { SeedResult } from '../../src/results/record-types.ts';
import type { Assertion } from '../../src/spec/claim.ts';

/**
 * An errored seed must make the verdict `error` even when it recorded every asserted metric
 * before it failed (a seed that crashes after evaluating): checking only for missing metrics
 * would let such a seed through, and the claim would pass on the seeds that happened to survive.
 */

const seed = (n: number, metrics: Record<string, number>, status: 'ok' | 'error' = 'ok'): SeedResult => ({
  seed: n,
  status,
  metrics,
  curves: {},
  wallSeconds: 1,
  ...(status === 'error' ? { error: { name: 'Error', message: 'failed after evaluating' } } : {}),
  startedAt: '2026-01-01T00:00:00.000Z',
  finishedAt: '2026-01-01T00:00:01.000Z',
});

const gap: Assertion = { name: 'gap', metric: 'adv', minus: 'clean', op: 'above', threshold: 0, tolerance: 0.005 };
const reproducing = [seed(1, { adv: 0.95, clean: 0.92 }), seed(2, { adv: 0.96, clean: 0.92 }), seed(3, { adv: 0.955, clean: 0.921 })];

describe('assess with an errored seed', () => {
  it('the seeds alone reproduce the claim (the baseline the next tests break)', () => {
    expect(assess([gap], reproducing).verdict).toBe('reproduced');
  });

  it('an errored seed that still carries every asserted metric makes the verdict error', () => {
    const r = assess([gap], [...reproducing, seed(4, { adv: 0.95, clean: 0.92 }, 'error')]);
    expect(r.verdict).toBe('error');
  });

  it('the errored seed’s values are left out of the statistics', () => {
    const r = assess([gap], [...reproducing, seed(4, { adv: 0.1, clean: 0.9 }, 'error')]);
    expect(r.assertions[0].seeds).toEqual([1, 2, 3]);
    expect(r.assertions[0].n).toBe(3);
    // Without seed 4's −0.8 the three ok seeds still reproduce the assertion on their own.
    expect(r.assertions[0].verdict).toBe('reproduced');
  });

  it('every seed errored: error, with no values', () => {
    const r = assess([gap], reproducing.map((s) => ({ ...s, status: 'error' as const })));
    expect(r.verdict).toBe('error');
    expect(r.assertions[0].n).toBe(0);
    expect(r.assertions[0].summary).toMatch(/^adv − clean: no finished seed → inconclusive/);
  });
});

describe('asserted values', () => {
  it('is the metric, or the metric minus `minus`, or undefined when either is missing', () => {
    expect(assertedValue({ metric: 'a' }, { a: 0.5 })).toBe(0.5);
    expect(assertedValue({ metric: 'a', minus: 'b' }, { a: 0.5, b: 0.25 })).toBe(0.25);
    expect(assertedValue({ metric: 'a', minus: 'b' }, { a: 0.5 })).toBeUndefined();
    expect(assertedValue({ metric: 'a' }, { b: 0.5 })).toBeUndefined();
  });

  it('an ok seed without the metric is skipped by the assertion', () => {
    const r = assessAssertion(gap, [...reproducing, seed(9, { clean: 0.9 })]);
    expect(r.seeds).toEqual([1, 2, 3]);
  });
});

describe('what assess writes', () => {
  it('fmt: four significant digits, a dash for null, and non-finite numbers as they print', () => {
    expect([fmt(0.123456), fmt(1234.5), fmt(null), fmt(Infinity), fmt(-Infinity), fmt(Number.NaN)]).toEqual(['0.1235', '1235', '—', 'Infinity', '-Infinity', 'NaN']);
  });

  it('the summary’s ± is the half-width of the interval (high − mean)', () => {
    const r = assessAssertion({ name: 'm', metric: 'm', op: 'above', threshold: 0, tolerance: 0 }, [seed(1, { m: 1 }), seed(2, { m: 2 }), seed(3, { m: 3 })]);
    // mean 2, sd 1, t(0.975, 2) = 4.302653: half-width 4.302653/√3 = 2.484138.
    expect(r.summary).toMatch(/^m = 2 ± 2\.484 \(95% CI \[-0\.4841, 4\.484\], n=3; seeds 1: 1, 2: 2, 3: 3\) → inconclusive \(claim: > 0\)$/);
    expect(r).not.toHaveProperty('minus');
  });

  it('records `minus` only when the assertion has one', () => {
    expect(assessAssertion(gap, reproducing).minus).toBe('clean');
  });

  it('a finished seed missing the metric of one of two assertions makes the verdict error', () => {
    const other: Assertion = { name: 'clean', metric: 'clean', op: 'above', threshold: 0.5, tolerance: 0 };
    const r = assess([gap, other], [...reproducing, seed(4, { clean: 0.9 })]);
    expect(r.verdict).toBe('error');
  });
});
