import type { AssertionResult, PreconditionResult, SeedResult } from '../results/record-types.ts';
import type { Assertion, PlainPrecondition, Precondition, SpecVerdict } from '../spec/claim.ts';
import { expandCellAssertion } from './cells.ts';
import { summarize } from './stats.ts';
import { assertionVerdict, claimRegion, describeRegion, inRegion, specVerdict } from './verdict.ts';

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
 * The preconditions as one per metric: a cell precondition (`inEveryCellWith`, `{}` for every
 * cell) becomes one per matching cell of `metricNames`, named after it; tolerance defaults to 0.
 */
export function expandPreconditions(preconditions: readonly Precondition[], metricNames: readonly string[]): PlainPrecondition[] {
  return preconditions.flatMap((p) => {
    const { inEveryCellWith, tolerance = 0, ...plain } = p;
    if (inEveryCellWith === undefined) return [{ ...plain, tolerance }];
    const { assertions, problems } = expandCellAssertion({ ...plain, tolerance, inEveryCellWith }, metricNames);
    if (problems.length > 0) throw new Error(`precondition "${p.name}": ${problems.map((x) => `${x.pointer}: ${x.reason}`).join('; ')}`);
    return assertions.map((a) => ({ ...a, op: a.op, threshold: a.threshold, tolerance }));
  });
}

/**
 * A precondition seed by seed: every finished seed must have the value and it must lie in the
 * region. Seeds that failed are not read here (they make the verdict `error` anyway).
 */
export function checkPrecondition(p: PlainPrecondition, outcomes: readonly SeedResult[]): PreconditionResult {
  const region = claimRegion(p.op, p.threshold, p.tolerance);
  const regionText = describeRegion(p.op, p.threshold, p.tolerance);
  const seeds: number[] = [];
  const values: (number | null)[] = [];
  const failedSeeds: number[] = [];
  for (const o of outcomes) {
    if (o.status !== 'ok') continue;
    const v = assertedValue(p, o.metrics);
    seeds.push(o.seed);
    values.push(v ?? null);
    if (v === undefined || !inRegion(v, region)) failedSeeds.push(o.seed);
  }
  const perSeed = seeds.map((seed, i) => `${seed}: ${values[i] === null ? 'missing' : fmt(values[i])}${failedSeeds.includes(seed) ? ' ✗' : ''}`).join(', ');
  const verdict = failedSeeds.length > 0 ? `fails in seed${failedSeeds.length === 1 ? '' : 's'} ${failedSeeds.join(', ')}` : 'holds';
  return {
    name: p.name,
    metric: p.metric,
    ...(p.minus !== undefined ? { minus: p.minus } : {}),
    op: p.op,
    threshold: p.threshold,
    tolerance: p.tolerance,
    region: regionText,
    seeds,
    values,
    failedSeeds,
    holds: failedSeeds.length === 0,
    summary: `${assertionLabel(p)} must be ${regionText} in every seed (${perSeed || 'no finished seed'}) → ${verdict}`,
  };
}

/**
 * A seed that failed, a finished seed missing an asserted metric, or one failing a
 * precondition makes the verdict `error`: a claim must never pass on the seeds that happened
 * to survive, and a run that did not meet its preconditions is no evidence either way.
 */
export function assess(
  assertions: readonly Assertion[],
  outcomes: readonly SeedResult[],
  preconditions: readonly PlainPrecondition[] = [],
): { assertions: AssertionResult[]; preconditions?: PreconditionResult[]; verdict: SpecVerdict } {
  const results = assertions.map((a) => assessAssertion(a, outcomes));
  const checked = preconditions.map((p) => checkPrecondition(p, outcomes));
  const failed = outcomes.some((o) => o.status !== 'ok' || assertions.some((a) => assertedValue(a, o.metrics) === undefined));
  const unmet = checked.some((c) => !c.holds);
  return {
    assertions: results,
    ...(checked.length > 0 ? { preconditions: checked } : {}),
    verdict: specVerdict(results.map((r) => r.verdict), failed || unmet),
  };
}

/** The preconditions a record failed, as "name (seeds 1, 2)", for one-line summaries. */
export function unmetPreconditions(r: { preconditions?: PreconditionResult[] }): string[] {
  return (r.preconditions ?? []).filter((p) => !p.holds).map((p) => `${p.name} (seed${p.failedSeeds.length === 1 ? '' : 's'} ${p.failedSeeds.join(', ')})`);
}
