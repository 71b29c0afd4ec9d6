import type { Tier } from './names.ts';

/** The shape a claim spec has (the schema in ./claim-schema.ts admits exactly this). */

export const OPS = ['above', 'below', 'notAbove', 'notBelow', 'within'] as const;
export type Op = (typeof OPS)[number];

/** What statistics across seeds can say about one assertion. */
export const VERDICTS = ['reproduced', 'refuted', 'inconclusive'] as const;
export type Verdict = (typeof VERDICTS)[number];
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

export function assertionsFor(assertions: Assertion[], tier: Tier): Assertion[] {
  return assertions.filter((a) => !a.tiers || a.tiers.includes(tier));
}
