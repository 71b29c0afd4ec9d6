import type { AssertionResult, SeedResult } from '../results/record-types.ts';
import type { Assertion, SpecVerdict } from '../spec/claim.ts';
import { summarize } from './stats.ts';
import { assertionVerdict, describeRegion, specVerdict } from './verdict.ts';

/** From per-seed outcomes to per-assertion statistics and the spec's verdict. Pure. */

/** Four significant digits, no trailing zeros noise: enough to compare with the write-up's percentages. */
export function fmt(x: number | null): string {
  if (x === null || !Number.isFinite(x)) return x === null ? '—' : String(x);
  return Number(x.toPrecision(4)).toString();
}

export function assertionLabel(a: Pick<Assertion, 'metric' | 'minus'>): string {
  return a.minus ? `${a.metric} − ${a.minus}` : a.metric;
}

/** The asserted value in one seed's metrics, or undefined when a metric is absent. */
export function assertedValue(a: Pick<Assertion, 'metric' | 'minus'>, metrics: Record<string, number>): number | undefined {
  const v = metrics[a.metric];
  if (v === undefined) return undefined;
  if (a.minus === undefined) return v;
  const w = metrics[a.minus];
  return w === undefined ? undefined : v - w;
}

const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

export function assessAssertion(a: Assertion, outcomes: readonly SeedResult[]): AssertionResult {
  const seeds: number[] = [];
  const values: number[] = [];
  for (const o of outcomes) {
    if (o.status !== 'ok') continue;
    const v = assertedValue(a, o.metrics);
    if (v === undefined) continue;
    seeds.push(o.seed);
    values.push(v);
  }
  const s = summarize(values);
  const verdict = assertionVerdict(s.ci, a.op, a.threshold, a.tolerance);
  const region = describeRegion(a.op, a.threshold, a.tolerance);
  const half = Number.isFinite(s.ci.high) ? s.ci.high - s.mean : Infinity;
  const perSeed = seeds.map((seed, i) => `${seed}: ${fmt(values[i])}`).join(', ');
  const summary =
    values.length === 0
      ? `${assertionLabel(a)}: no finished seed → ${verdict} (claim: ${region})`
      : `${assertionLabel(a)} = ${fmt(s.mean)} ± ${fmt(half)} (95% CI [${fmt(s.ci.low)}, ${fmt(s.ci.high)}], n=${s.n}; seeds ${perSeed}) → ${verdict} (claim: ${region})`;
  return {
    name: a.name,
    metric: a.metric,
    ...(a.minus !== undefined ? { minus: a.minus } : {}),
    op: a.op,
    threshold: a.threshold,
    tolerance: a.tolerance,
    region,
    seeds,
    values,
    n: s.n,
    mean: finiteOrNull(s.mean),
    sd: finiteOrNull(s.sd),
    ci: { low: finiteOrNull(s.ci.low), high: finiteOrNull(s.ci.high) },
    verdict,
    summary,
  };
}

/**
 * A seed that failed, or a finished seed missing an asserted metric, makes the verdict
 * `error`: a claim must never pass on the seeds that happened to survive.
 */
export function assess(assertions: readonly Assertion[], outcomes: readonly SeedResult[]): { assertions: AssertionResult[]; verdict: SpecVerdict } {
  const results = assertions.map((a) => assessAssertion(a, outcomes));
  const failed = outcomes.some((o) => o.status !== 'ok' || assertions.some((a) => assertedValue(a, o.metrics) === undefined));
  return { assertions: results, verdict: specVerdict(results.map((r) => r.verdict), failed) };
}
