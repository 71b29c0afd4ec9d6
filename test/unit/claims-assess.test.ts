import { describe, expect, it } from 'vitest';
import { assess, assessAssertion, assertedValue, checkPrecondition, expandPreconditions, fmt, unmetPreconditions } from '../../src/claims/assess.ts';
import type { SeedResult } from '../../src/results/record-types.ts';
import type { Assertion, PlainPrecondition, Precondition } from '../../src/spec/claim.ts';

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

const learned: PlainPrecondition = { name: 'learned', metric: 'acc', op: 'above', threshold: 0.5, tolerance: 0 };

describe('a precondition seed by seed', () => {
  /** The per-seed list of a precondition's summary: what sits between "in every seed (" and ") →". */
  const perSeed = (summary: string) => /in every seed \((.*)\) → /.exec(summary)![1];

  it('the summary lists each finished seed with its value, "missing" where it lacks the metric, and ✗ on each failing seed', () => {
    const r = checkPrecondition(learned, [seed(1, { acc: 0.9 }), seed(2, { other: 1 }), seed(3, { acc: 0.25 })]);
    const [one, two, three] = perSeed(r.summary).split(', ');
    expect(one).toBe(`1: ${fmt(0.9)}`);
    expect(two).toBe('2: missing ✗');
    expect(three).toBe(`3: ${fmt(0.25)} ✗`);
  });

  it('a precondition every seed meets says "holds", with no seed marked', () => {
    const r = checkPrecondition(learned, [seed(1, { acc: 0.9 }), seed(2, { acc: 0.8 })]);
    expect(r.holds).toBe(true);
    expect(r.summary).toMatch(/→ holds$/);
    expect(r.summary).not.toContain('✗');
    expect(r.summary).not.toContain('fails');
  });

  it('one failing seed is "seed", several are "seeds"', () => {
    expect(checkPrecondition(learned, [seed(1, { acc: 0.9 }), seed(2, { acc: 0.1 })]).summary).toMatch(/→ fails in seed 2$/);
    expect(checkPrecondition(learned, [seed(1, { acc: 0.1 }), seed(2, { acc: 0.1 })]).summary).toMatch(/→ fails in seeds 1, 2$/);
  });

  it('with no finished seed the summary says so; with one it does not', () => {
    const none = checkPrecondition(learned, [seed(1, { acc: 0.9 }, 'error')]);
    expect(perSeed(none.summary)).toBe('no finished seed');
    expect(checkPrecondition(learned, [seed(1, { acc: 0.9 })]).summary).not.toContain('no finished seed');
  });

  it('an errored seed is not read: it is neither listed nor counted as failing (it makes the verdict error anyway)', () => {
    const r = checkPrecondition(learned, [seed(1, { acc: 0.9 }), seed(2, { acc: 0.1 }, 'error')]);
    expect(r.seeds).toEqual([1]);
    expect(r.failedSeeds).toEqual([]);
    expect(r.summary).not.toMatch(/\b2: /);
  });

  it('records `minus` only when the precondition has one', () => {
    const rise: PlainPrecondition = { name: 'rises', metric: 'loss', minus: 'clean', op: 'above', threshold: 0, tolerance: 0 };
    expect(checkPrecondition(rise, [seed(1, { loss: 2, clean: 1 })]).minus).toBe('clean');
    expect('minus' in checkPrecondition(learned, [seed(1, { acc: 0.9 })])).toBe(false);
  });
});

describe('cell preconditions that cannot be expanded', () => {
  const names = ['acc{fraction=1,eps=a}', 'acc{fraction=0.5,eps=a}'];

  it('are refused with the precondition\'s name and every problem by its pointer, separated by "; "', () => {
    const bad: Precondition = { name: 'learned', metric: 'accuracy', op: 'above', threshold: 0.5, inEveryCellWith: { frac: 1 } };
    const expand = () => expandPreconditions([bad], names);
    expect(expand).toThrow(/^precondition "learned": /);
    expect(expand).toThrow(/: \/inEveryCellWith\/frac: no axis "frac"/);
    expect(expand).toThrow(/; \/metric: "accuracy" is not a per-cell metric/);
  });
});

describe('unmet preconditions for one-line summaries', () => {
  const present: PlainPrecondition = { name: 'present', metric: 'acc', op: 'above', threshold: 0, tolerance: 0 };

  it('name only the preconditions that failed, each with its failing seeds ("seed" for one, "seeds" for several)', () => {
    const outcomes = [seed(1, { acc: 0.9 }), seed(2, { acc: 0.1 }), seed(3, { acc: 0.2 })];
    const r = assess([], outcomes, [present, learned]);
    const unmet = unmetPreconditions(r);
    expect(unmet).toHaveLength(1);
    expect(unmet[0]).toMatch(/^learned \(seeds 2, 3\)$/);
    const once = unmetPreconditions(assess([], outcomes.slice(0, 2), [present, learned]));
    expect(once).toEqual([expect.stringMatching(/^learned \(seed 2\)$/)]);
  });

  it('a record without preconditions has none unmet', () => {
    expect(unmetPreconditions({})).toEqual([]);
  });
});
