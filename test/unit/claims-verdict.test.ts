import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assess } from '../../src/claims/assess.ts';
import { OPS, type Assertion, type Op, type Verdict } from '../../src/spec/claim.ts';
import type { Interval } from '../../src/claims/stats.ts';
import { assertionVerdict, claimRegion, describeRegion, inRegion, intervalInside, intervalOutside, specVerdict } from '../../src/claims/verdict.ts';
import type { SeedResult } from '../../src/results/record-types.ts';

const iv = (low: number, high: number): Interval => ({ low, high });

describe('assertion verdicts at the edges', () => {
  // op, threshold, tolerance, interval, verdict
  const table: [Op, number, number, Interval, Verdict][] = [
    ['above', 0, 0.005, iv(0.006, 0.02), 'reproduced'],
    ['above', 0, 0.005, iv(0.005, 0.02), 'inconclusive'], // touches the open bound
    ['above', 0, 0.005, iv(-0.01, 0.005), 'refuted'],
    ['above', 0, 0.005, iv(-0.01, 0.0051), 'inconclusive'],
    ['below', 1, 0.1, iv(0.5, 0.89), 'reproduced'],
    ['below', 1, 0.1, iv(0.9, 1.5), 'refuted'],
    ['notAbove', 0, 0.002, iv(-0.05, 0.002), 'reproduced'], // closed bound: touching is inside
    ['notAbove', 0, 0.002, iv(0.0021, 0.01), 'refuted'],
    ['notAbove', 0, 0.002, iv(0.001, 0.01), 'inconclusive'],
    ['notBelow', 0.5, 0, iv(0.5, 0.7), 'reproduced'],
    ['notBelow', 0.5, 0, iv(0.3, 0.49), 'refuted'],
    ['within', 0.96, 0.02, iv(0.94, 0.98), 'reproduced'],
    ['within', 0.96, 0.02, iv(0.93, 0.97), 'inconclusive'],
    ['within', 0.96, 0.02, iv(0.985, 0.99), 'refuted'],
    ['within', 0.96, 0.02, iv(0.5, 0.939), 'refuted'],
    ['above', 0, 0, iv(-Infinity, Infinity), 'inconclusive'], // one seed
    ['within', 0, 1, iv(-Infinity, Infinity), 'inconclusive'],
  ];
  for (const [op, t, tol, ci, v] of table) {
    it(`${op} ${t} ± ${tol} with CI [${ci.low}, ${ci.high}] → ${v}`, () => {
      expect(assertionVerdict(ci, op, t, tol)).toBe(v);
    });
  }

  it('describes the region a person would write', () => {
    expect(describeRegion('above', 0, 0.005)).toBe('> 0.005');
    expect(describeRegion('notAbove', 0, 0.002)).toBe('≤ 0.002');
    expect(describeRegion('below', 1, 0.1)).toBe('< 0.9');
    expect(describeRegion('within', 0.96, 0.02)).toBe('∈ [0.94, 0.98]');
  });
});

describe('claim regions and their bounds, exactly', () => {
  it('each op’s region: bounds moved by the tolerance, open for the strict ops, closed for the "not" ops and within', () => {
    expect(claimRegion('above', 1, 0.5)).toEqual({ low: 1.5, high: Infinity, lowClosed: false, highClosed: false });
    expect(claimRegion('below', 1, 0.5)).toEqual({ low: -Infinity, high: 0.5, lowClosed: false, highClosed: false });
    expect(claimRegion('notAbove', 1, 0.5)).toEqual({ low: -Infinity, high: 1.5, lowClosed: false, highClosed: true });
    expect(claimRegion('notBelow', 1, 0.5)).toEqual({ low: 0.5, high: Infinity, lowClosed: true, highClosed: false });
    expect(claimRegion('within', 1, 0.5)).toEqual({ low: 0.5, high: 1.5, lowClosed: true, highClosed: true });
  });

  it('a value on a bound is in the region only where that bound is closed', () => {
    const closed = { low: 0, high: 1, lowClosed: true, highClosed: true };
    const open = { low: 0, high: 1, lowClosed: false, highClosed: false };
    expect([inRegion(0, closed), inRegion(1, closed), inRegion(0, open), inRegion(1, open)]).toEqual([true, true, false, false]);
    expect([inRegion(0.5, open), inRegion(-0.1, closed), inRegion(1.1, closed)]).toEqual([true, false, false]);
  });

  it('an interval touching a bound is inside only where the bound is closed, and outside only where it is open', () => {
    const closed = { low: 0, high: 1, lowClosed: true, highClosed: true };
    const open = { low: 0, high: 1, lowClosed: false, highClosed: false };
    expect([intervalInside(iv(0, 1), closed), intervalInside(iv(0, 0.5), open), intervalInside(iv(0.5, 1), open)]).toEqual([true, false, false]);
    expect([intervalOutside(iv(-1, 0), open), intervalOutside(iv(1, 2), open)]).toEqual([true, true]);
    expect([intervalOutside(iv(-1, 0), closed), intervalOutside(iv(1, 2), closed)]).toEqual([false, false]);
  });

  it('an unbounded side of the region admits an interval unbounded on that side', () => {
    expect(intervalInside(iv(-Infinity, 0), claimRegion('below', 1, 0))).toBe(true);
    expect(intervalInside(iv(0, Infinity), claimRegion('above', -1, 0))).toBe(true);
  });

  it('an interval with one NaN bound is inconclusive, even where its other bound alone would decide', () => {
    expect(assertionVerdict(iv(Number.NaN, 0), 'below', 2, 0)).toBe('inconclusive');
    expect(assertionVerdict(iv(0, Number.NaN), 'above', -2, 0)).toBe('inconclusive');
  });

  it('describes notBelow and within with their symbols', () => {
    expect(describeRegion('notBelow', 0.5, 0.1)).toBe('≥ 0.4');
    expect(describeRegion('within', 0, 1)).toBe('∈ [-1, 1]');
  });
});

const finite = fc.double({ min: -10, max: 10, noNaN: true });
const op = fc.constantFrom(...OPS);
const tolerance = fc.double({ min: 0, max: 2, noNaN: true });
const interval = fc.tuple(finite, finite).map(([a, b]) => iv(Math.min(a, b), Math.max(a, b)));
const widening = fc.tuple(fc.double({ min: 0, max: 5, noNaN: true }), fc.double({ min: 0, max: 5, noNaN: true }));

describe('properties of the verdict', () => {
  it('widening the interval never turns inconclusive into reproduced or refuted', () => {
    fc.assert(
      fc.property(op, finite, tolerance, interval, widening, (o, t, tol, ci, [dl, dh]) => {
        fc.pre(assertionVerdict(ci, o, t, tol) === 'inconclusive');
        return assertionVerdict(iv(ci.low - dl, ci.high + dh), o, t, tol) === 'inconclusive';
      }),
    );
  });

  it('widening the interval can only move a verdict to inconclusive, never to the opposite', () => {
    fc.assert(
      fc.property(op, finite, tolerance, interval, widening, (o, t, tol, ci, [dl, dh]) => {
        const before = assertionVerdict(ci, o, t, tol);
        const after = assertionVerdict(iv(ci.low - dl, ci.high + dh), o, t, tol);
        return after === before || after === 'inconclusive';
      }),
    );
  });

  it('a single point (no spread) is reproduced exactly when it lies in the claim region, else refuted', () => {
    fc.assert(
      fc.property(op, finite, tolerance, finite, (o, t, tol, v) => {
        const expected = inRegion(v, claimRegion(o, t, tol)) ? 'reproduced' : 'refuted';
        return assertionVerdict(iv(v, v), o, t, tol) === expected;
      }),
    );
  });

  it('a reproduced interval has every point in the region; a refuted one has none', () => {
    fc.assert(
      fc.property(op, finite, tolerance, interval, fc.double({ min: 0, max: 1, noNaN: true }), (o, t, tol, ci, u) => {
        const v = ci.low + u * (ci.high - ci.low);
        const r = claimRegion(o, t, tol);
        const verdict = assertionVerdict(ci, o, t, tol);
        if (verdict === 'reproduced') return inRegion(v, r);
        if (verdict === 'refuted') return !inRegion(v, r);
        return true;
      }),
    );
  });

  it('more tolerance never turns a reproduced notAbove/notBelow/within into anything else', () => {
    fc.assert(
      fc.property(fc.constantFrom<Op>('notAbove', 'notBelow', 'within'), finite, tolerance, interval, fc.double({ min: 0, max: 2, noNaN: true }), (o, t, tol, ci, more) => {
        fc.pre(assertionVerdict(ci, o, t, tol) === 'reproduced');
        return assertionVerdict(ci, o, t, tol + more) === 'reproduced';
      }),
    );
  });
});

describe('the spec verdict', () => {
  it('is reproduced only when every assertion is', () => {
    expect(specVerdict(['reproduced', 'reproduced'], false)).toBe('reproduced');
    expect(specVerdict(['reproduced', 'inconclusive'], false)).toBe('inconclusive');
    expect(specVerdict(['reproduced', 'refuted'], false)).toBe('refuted');
    expect(specVerdict(['inconclusive', 'refuted'], false)).toBe('refuted');
  });

  it('is error whenever a seed failed, whatever the assertions say', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom<Verdict>('reproduced', 'refuted', 'inconclusive')), (vs) => specVerdict(vs, true) === 'error'),
    );
  });

  it('with no assertions is not reproduced', () => {
    expect(specVerdict([], false)).toBe('inconclusive');
  });
});

const seedResult = (seed: number, metrics: Record<string, number>, status: 'ok' | 'error' = 'ok'): SeedResult => ({
  seed,
  status,
  metrics,
  curves: {},
  wallSeconds: 1,
  ...(status === 'error' ? { error: { name: 'Error', message: 'boom' } } : {}),
  startedAt: '2026-01-01T00:00:00.000Z',
  finishedAt: '2026-01-01T00:00:01.000Z',
});

describe('assessing outcomes', () => {
  const gap: Assertion = { name: 'gap', metric: 'adv', minus: 'clean', op: 'above', threshold: 0, tolerance: 0.005 };

  it('asserts on the difference when `minus` is given, with per-seed values and a summary line', () => {
    const r = assess([gap], [seedResult(1, { adv: 0.95, clean: 0.92 }), seedResult(2, { adv: 0.951, clean: 0.92 }), seedResult(3, { adv: 0.949, clean: 0.921 })]);
    const [a] = r.assertions;
    expect(a.seeds).toEqual([1, 2, 3]);
    expect(a.values.map((v) => Number(v.toFixed(4)))).toEqual([0.03, 0.031, 0.028]);
    expect(a.verdict).toBe('reproduced');
    expect(r.verdict).toBe('reproduced');
    expect(a.summary).toMatch(/^adv − clean = 0\.02967 ± .*seeds 1: 0\.03, 2: 0\.031, 3: 0\.028\) → reproduced \(claim: > 0\.005\)$/);
  });

  it('a failed seed makes the verdict error even when the others reproduce the claim', () => {
    const r = assess([gap], [seedResult(1, { adv: 0.95, clean: 0.92 }), seedResult(2, { adv: 0.96, clean: 0.92 }), seedResult(3, {}, 'error')]);
    expect(r.assertions[0].n).toBe(2);
    expect(r.verdict).toBe('error');
  });

  it('a finished seed missing an asserted metric makes the verdict error', () => {
    const r = assess([gap], [seedResult(1, { adv: 0.95, clean: 0.92 }), seedResult(2, { adv: 0.96 })]);
    expect(r.verdict).toBe('error');
  });

  it('one seed is inconclusive, with null statistics where they cannot be finite', () => {
    const r = assess([gap], [seedResult(1, { adv: 0.99, clean: 0.5 })]);
    expect(r.verdict).toBe('inconclusive');
    expect(r.assertions[0]).toMatchObject({ n: 1, sd: null, ci: { low: null, high: null } });
  });
});
