import type { RequiredTier, Tier } from './names.ts';

/** The shape a claim spec has (the schema in ./claim-schema.ts admits exactly this). */

export const OPS = ['above', 'below', 'notAbove', 'notBelow', 'within'] as const;
export type Op = (typeof OPS)[number];

/** What statistics across seeds can say about one assertion. */
export const VERDICTS = ['reproduced', 'refuted', 'inconclusive'] as const;
export type Verdict = (typeof VERDICTS)[number];
/** A spec's verdict: `error` when any seed failed (NaN/Inf, exception) or failed a precondition. */
export type SpecVerdict = Verdict | 'error';

export interface Assertion {
  name: string;
  metric: string;
  /** When present the asserted value is `metric − minus`. */
  minus?: string;
  op: Op;
  threshold: number;
  tolerance: number;
  /** Tiers the assertion applies to; absent means all. */
  tiers?: Tier[];
}

/** A cell condition: a bare value (equality) or a string such as ">= 16", "< 8", "!= half". */
export type CellCondition = number | string | boolean;

/**
 * An assertion about the cells of a sweep (src/claims/cells.ts expands it into plain ones):
 * `inEveryCellWith` selects cells by axis conditions; `risesWith`/`fallsWith` name an axis
 * along which the metric must rise (fall) between every two neighbouring cells.
 */
export interface CellAssertion {
  name: string;
  metric: string;
  minus?: string;
  op?: Op;
  threshold?: number;
  tolerance: number;
  tiers?: Tier[];
  inEveryCellWith?: Record<string, CellCondition>;
  risesWith?: string;
  fallsWith?: string;
}

/**
 * A condition a run must meet to be evidence at all (the model learned, the attack moves the
 * loss the right way, …), checked in every finished seed on its own: one seed whose value
 * lies outside the region (op, threshold ± tolerance, as an assertion's) makes the verdict
 * `error`, never reproduced, refuted or inconclusive. `inEveryCellWith` (a sweep) checks every
 * cell matching its conditions; `{}` is every cell.
 */
export interface Precondition {
  name: string;
  metric: string;
  minus?: string;
  op: Op;
  threshold: number;
  /** Default 0. */
  tolerance?: number;
  tiers?: Tier[];
  inEveryCellWith?: Record<string, CellCondition>;
}

/** A precondition for one metric (cells expanded), as records keep it. */
export type PlainPrecondition = Omit<Precondition, 'inEveryCellWith' | 'tolerance'> & { tolerance: number };

export interface TierSpec {
  seeds: number[];
  params: Record<string, unknown>;
  /**
   * `error` only for a setting known not to decide (its rationale says which precondition
   * fails and why): the claim test then also requires every seed to finish and a precondition
   * to be what failed, so a crash or NaN still fails it.
   */
  expected: SpecVerdict;
  rationale: string;
  timeoutMinutes?: number;
  /**
   * `claims-only`: too slow for `npm test`'s claim suite; `label-leak run` (`npm run claims`)
   * runs it, and a unit test checks its committed record's verdict against `expected`.
   */
  suite?: Suite;
}

export const SUITES = ['claims-only'] as const;
export type Suite = (typeof SUITES)[number];

export interface WriteUpFigure {
  text: string;
  /** The write-up's numbers keyed by our metric names, for the side-by-side. */
  values?: Record<string, number>;
}

export interface ClaimSpec {
  $schema?: string;
  id: string;
  version: number;
  title: string;
  statement: string;
  source: { writeUp: string; reference?: string };
  writeUpFigure: WriteUpFigure;
  experiment: string;
  /** The required tiers always; `gpu` where the claim has one (tierOf says whether). */
  tiers: Record<RequiredTier, TierSpec> & Partial<Record<Tier, TierSpec>>;
  assertions: (Assertion | CellAssertion)[];
  /** What a run must show, seed by seed, before its assertions count (see Precondition). */
  preconditions?: Precondition[];
  notes?: string;
  /**
   * The id of the claim this spec is a positive control of: that claim's assertions on a
   * setting where the effect is present, so a `refuted` there is not what a harness blind to
   * the effect would say anyway. A control needs only the tiers it was measured at.
   */
  controlOf?: string;
}

/** Whether `npm test`'s claim suite runs this tier (see TierSpec.suite). */
export const inTestSuite = (t: Pick<TierSpec, 'suite'>) => t.suite !== 'claims-only';

/** The spec's parameters at `tier`, or undefined when the claim has no such tier. */
export function tierOf(spec: Pick<ClaimSpec, 'tiers'>, tier: Tier): TierSpec | undefined {
  return spec.tiers[tier];
}

/** The spec's parameters at `tier`; a claim without that tier is an error naming the tiers it has. */
export function requireTier(spec: Pick<ClaimSpec, 'id' | 'tiers'>, tier: Tier): TierSpec {
  const t = spec.tiers[tier];
  if (!t) throw new Error(`claim ${spec.id} has no ${tier} tier (it has: ${Object.keys(spec.tiers).join(', ')})`);
  return t;
}

/** The tiers a spec has, in TIERS order. */
export function tiersOf(spec: Pick<ClaimSpec, 'tiers'>, all: readonly Tier[]): Tier[] {
  return all.filter((t) => spec.tiers[t] !== undefined);
}

export function assertionsFor<A extends { tiers?: Tier[] }>(assertions: A[], tier: Tier): A[] {
  return assertions.filter((a) => !a.tiers || a.tiers.includes(tier));
}
