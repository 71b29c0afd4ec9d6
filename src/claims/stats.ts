import tQuantile from '@stdlib/stats-base-dists-t-quantile';

/** Summary statistics across seeds. Pure functions; the verdict reads only the interval. */

/** A closed interval; ±Infinity where a bound is unknown (one seed says nothing about spread). */
export interface Interval {
  low: number;
  high: number;
}

export interface Summary {
  n: number;
  /** NaN when n = 0. */
  mean: number;
  /** Sample standard deviation (n − 1 in the denominator); NaN when n < 2. */
  sd: number;
  /** Confidence interval for the mean; (−∞, ∞) when n < 2. */
  ci: Interval;
}

export function mean(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

export function sampleSd(xs: readonly number[]): number {
  if (xs.length < 2) return NaN;
  const m = mean(xs);
  let ss = 0;
  for (const x of xs) ss += (x - m) ** 2;
  return Math.sqrt(ss / (xs.length - 1));
}

/** Student's t interval for the mean with n − 1 degrees of freedom. */
export function confidenceInterval(xs: readonly number[], level = 0.95): Interval {
  if (!(level > 0 && level < 1)) throw new RangeError(`confidence level must lie in (0, 1), got ${level}`);
  if (xs.length < 2) return { low: -Infinity, high: Infinity };
  const m = mean(xs);
  const half = tQuantile(1 - (1 - level) / 2, xs.length - 1) * (sampleSd(xs) / Math.sqrt(xs.length));
  return { low: m - half, high: m + half };
}

export function summarize(xs: readonly number[], level = 0.95): Summary {
  return { n: xs.length, mean: mean(xs), sd: sampleSd(xs), ci: confidenceInterval(xs, level) };
}
