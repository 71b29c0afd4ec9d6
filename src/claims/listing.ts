import { requireTier, tiersOf, type SpecVerdict } from '../spec/claim.ts';
import { planClaims } from './plan.ts';
import { TIERS, type Tier } from '../spec/names.ts';
import type { LoadedSpec } from './spec.ts';

/** What `label-leak list` shows, as data (the command only prints it). */

export interface ClaimListing {
  id: string;
  version: number;
  title: string;
  experiment: string;
  file: string;
  /** The tiers the spec has (every claim has fast and full, gpu where it applies; a control the tiers it was measured at). */
  tiers: Partial<Record<Tier, TierListing>>;
  /** Set on a positive control: the claim it controls. */
  controlOf?: string;
  /** The ids of this claim's positive controls. */
  controls: string[];
}

export interface TierListing {
  expected: SpecVerdict;
  seeds: number[];
  timeoutMinutes?: number;
  /** Present when `npm test`'s claim suite leaves this tier out (see TierSpec.suite). */
  suite?: string;
  metrics: string[];
}

export interface MatrixEntry {
  claim: string;
  tier: Tier;
  seed: number;
}

function tierListing(s: LoadedSpec, tier: Tier): TierListing {
  const t = requireTier(s, tier);
  return {
    expected: t.expected,
    seeds: t.seeds,
    ...(t.timeoutMinutes ? { timeoutMinutes: t.timeoutMinutes } : {}),
    ...(t.suite ? { suite: t.suite } : {}),
    // The names assertions may use, so a spec author need not read the kind's code.
    metrics: s.kind.metricNames(t.params),
  };
}

/** Claims in the given order, each followed by its positive controls. */
export function listing(specs: readonly LoadedSpec[]): ClaimListing[] {
  const entry = (s: LoadedSpec): ClaimListing => ({
    id: s.id,
    version: s.version,
    title: s.title,
    experiment: s.experiment,
    file: s.file,
    tiers: Object.fromEntries(tiersOf(s, TIERS).map((t) => [t, tierListing(s, t)])),
    ...(s.controlOf ? { controlOf: s.controlOf } : {}),
    controls: specs.filter((c) => c.controlOf === s.id).map((c) => c.id),
  });
  const ids = new Set(specs.map((s) => s.id));
  // A control whose claim was not loaded (e.g. `list` of one file) stands on its own.
  const main = specs.filter((s) => s.controlOf === undefined || !ids.has(s.controlOf));
  return main.flatMap((s) => [entry(s), ...specs.filter((c) => c.controlOf === s.id).map(entry)]);
}

/** One job per (claim, seed) at `tier`, for the claims that have it: the shape a CI job matrix (`include`) takes. */
export function seedMatrix(specs: readonly LoadedSpec[], tier: Tier): MatrixEntry[] {
  return planClaims(specs, { tier }).claims.flatMap((c) => c.seeds.map((seed) => ({ claim: c.spec.id, tier, seed })));
}

/** Plain columns, padded to the widest entry. */
export function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n');
}
