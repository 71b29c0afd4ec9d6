import type { ExperimentKind } from '../experiments/types.ts';

/** The shape `claims/claim.schema.json` admits; the schema is the authority, these types mirror it. */

export const TIERS = ['fast', 'full'] as const;
export type Tier = (typeof TIERS)[number];

export const OPS = ['above', 'below', 'notAbove', 'notBelow', 'within'] as const;
export type Op = (typeof OPS)[number];

/** What statistics across seeds can say about one assertion. */
export type Verdict = 'reproduced' | 'refuted' | 'inconclusive';
/** A spec's verdict: `error` when any seed failed (NaN/Inf, exception). */
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

export interface TierSpec {
  seeds: number[];
  params: Record<string, unknown>;
  expected: Verdict;
  rationale: string;
  timeoutMinutes?: number;
}

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
  tiers: Record<Tier, TierSpec>;
  assertions: Assertion[];
  notes?: string;
}

/** A spec as the loader hands it out: checked, with its experiment kind resolved. */
export interface LoadedSpec extends ClaimSpec {
  /** The file it came from. */
  readonly file: string;
  /** Content hash of the spec's JSON (key order and formatting do not matter). */
  readonly hash: string;
  readonly kind: ExperimentKind<any>;
}

export type Registry = Record<string, ExperimentKind<any>>;

export function assertionsFor(assertions: Assertion[], tier: Tier): Assertion[] {
  return assertions.filter((a) => !a.tiers || a.tiers.includes(tier));
}

export function isTier(s: string): s is Tier {
  return (TIERS as readonly string[]).includes(s);
}
