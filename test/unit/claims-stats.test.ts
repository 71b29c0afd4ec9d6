import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { confidenceInterval, mean, sampleSd, summarize } from '../../src/claims/stats.ts';

describe('summary statistics', () => {
  // Reference values worked by hand: mean ± t(0.975, n−1)·sd/√n with the tabulated
  // t(0.975, 2) = 4.302653 and t(0.975, 3) = 3.182446 (any Student's t table).
  it('matches hand-computed intervals for small samples', () => {
    const a = confidenceInterval([1, 2, 3]);
    expect(a.low).toBeCloseTo(-0.4841377, 6);
    expect(a.high).toBeCloseTo(4.4841377, 6);
    const b = confidenceInterval([0.91, 0.93, 0.92, 0.95]);
    expect(b.low).toBeCloseTo(0.9003247, 6);
    expect(b.high).toBeCloseTo(0.9546753, 6);
    expect(sampleSd([0.91, 0.93, 0.92, 0.95])).toBeCloseTo(0.01707825, 7);
  });

  it('one seed says nothing about spread: the interval is unbounded and sd undefined', () => {
    const s = summarize([0.9]);
    expect(s.mean).toBe(0.9);
    expect(Number.isNaN(s.sd)).toBe(true);
    expect(s.ci).toEqual({ low: -Infinity, high: Infinity });
  });

  it('no values: mean undefined, interval unbounded', () => {
    expect(Number.isNaN(mean([]))).toBe(true);
    expect(summarize([]).ci).toEqual({ low: -Infinity, high: Infinity });
  });

  it('rejects a confidence level outside (0, 1)', () => {
    expect(() => confidenceInterval([1, 2], 1)).toThrowError(/confidence level/);
    expect(() => confidenceInterval([1, 2], 0)).toThrowError('confidence level must lie in (0, 1), got 0');
    expect(() => confidenceInterval([1, 2], -0.5)).toThrowError(/confidence level/);
    expect(confidenceInterval([1, 2], 0.5).high).toBeGreaterThan(1.5);
  });
});

const sample = fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { minLength: 2, maxLength: 30 });

describe('properties of the interval', () => {
  it('the interval always contains the mean', () => {
    fc.assert(
      fc.property(sample, (xs) => {
        const { mean: m, ci } = summarize(xs);
        return ci.low <= m + 1e-9 && m - 1e-9 <= ci.high;
      }),
    );
  });

  it('shifting every value by c shifts the interval by c', () => {
    fc.assert(
      fc.property(sample, fc.double({ min: -100, max: 100, noNaN: true }), (xs, c) => {
        const a = confidenceInterval(xs);
        const b = confidenceInterval(xs.map((x) => x + c));
        return Math.abs(b.low - (a.low + c)) < 1e-6 && Math.abs(b.high - (a.high + c)) < 1e-6;
      }),
    );
  });

  it('a higher confidence level never gives a narrower interval', () => {
    fc.assert(
      fc.property(sample, (xs) => {
        const a = confidenceInterval(xs, 0.9);
        const b = confidenceInterval(xs, 0.99);
        return b.low <= a.low + 1e-9 && a.high <= b.high + 1e-9;
      }),
    );
  });

  it('the same spread seen over more seeds gives a narrower interval (t quantile falls, √n grows)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: 2, maxLength: 10 }), (xs) => {
        fc.pre(sampleSd(xs) > 1e-6);
        const once = confidenceInterval(xs);
        const twice = confidenceInterval([...xs, ...xs]);
        return twice.high - twice.low < once.high - once.low;
      }),
    );
  });
});
