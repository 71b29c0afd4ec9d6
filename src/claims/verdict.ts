import type { Interval } from './stats.ts';
import type { Op, SpecVerdict, Verdict } from '../spec/claim.ts';

/**
 * The claim region of an assertion is the set of values for which it holds. An interval
 * wholly inside it reproduces the claim, one wholly outside refutes it; anything else is
 * inconclusive. Tolerance always widens the region for the "not" and `within` forms and
 * narrows it for strict `above`/`below`, so a claim must clear its threshold by a margin.
 */
export interface Region {
  low: number;
  high: number;
  lowClosed: boolean;
  highClosed: boolean;
}

export function claimRegion(op: Op, threshold: number, tolerance: number): Region {
  switch (op) {
    case 'above':
      return { low: threshold + tolerance, high: Infinity, lowClosed: false, highClosed: false };
    case 'below':
      return { low: -Infinity, high: threshold - tolerance, lowClosed: false, highClosed: false };
    case 'notAbove':
      return { low: -Infinity, high: threshold + tolerance, lowClosed: false, highClosed: true };
    case 'notBelow':
      return { low: threshold - tolerance, high: Infinity, lowClosed: true, highClosed: false };
    case 'within':
      return { low: threshold - tolerance, high: threshold + tolerance, lowClosed: true, highClosed: true };
  }
}

export function inRegion(v: number, r: Region): boolean {
  const aboveLow = r.lowClosed ? v >= r.low : v > r.low;
  const belowHigh = r.highClosed ? v <= r.high : v < r.high;
  return aboveLow && belowHigh;
}

/** The closed interval lies inside the region (an unbounded side of the region admits anything). */
export function intervalInside(i: Interval, r: Region): boolean {
  const lowOk = r.low === -Infinity || (r.lowClosed ? i.low >= r.low : i.low > r.low);
  const highOk = r.high === Infinity || (r.highClosed ? i.high <= r.high : i.high < r.high);
  return lowOk && highOk;
}

/** The closed interval shares no point with the region. */
export function intervalOutside(i: Interval, r: Region): boolean {
  const belowAll = r.lowClosed ? i.high < r.low : i.high <= r.low;
  const aboveAll = r.highClosed ? i.low > r.high : i.low >= r.high;
  return belowAll || aboveAll;
}

export function assertionVerdict(ci: Interval, op: Op, threshold: number, tolerance: number): Verdict {
  if (Number.isNaN(ci.low) || Number.isNaN(ci.high)) return 'inconclusive';
  const region = claimRegion(op, threshold, tolerance);
  if (intervalInside(ci, region)) return 'reproduced';
  if (intervalOutside(ci, region)) return 'refuted';
  return 'inconclusive';
}

/** All assertions reproduced → reproduced; any refuted → refuted; a failed seed → error. */
export function specVerdict(assertionVerdicts: readonly Verdict[], anySeedFailed: boolean): SpecVerdict {
  if (anySeedFailed) return 'error';
  if (assertionVerdicts.length > 0 && assertionVerdicts.every((v) => v === 'reproduced')) return 'reproduced';
  if (assertionVerdicts.some((v) => v === 'refuted')) return 'refuted';
  return 'inconclusive';
}

const OP_TEXT: Record<Op, string> = { above: '>', below: '<', notAbove: '≤', notBelow: '≥', within: '∈' };

/** The region as a person reads it, e.g. "> 0.005" or "∈ [0.9, 1.0]". */
export function describeRegion(op: Op, threshold: number, tolerance: number): string {
  const r = claimRegion(op, threshold, tolerance);
  const f = (x: number) => Number(x.toPrecision(6)).toString();
  if (op === 'within') return `${OP_TEXT[op]} [${f(r.low)}, ${f(r.high)}]`;
  return `${OP_TEXT[op]} ${f(Number.isFinite(r.low) ? r.low : r.high)}`;
}
