import type { LoadedSpec, Tier, Verdict } from './spec.ts';

/** What `label-leak list` shows, as data (the command only prints it). */

export interface ClaimListing {
  id: string;
  version: number;
  title: string;
  experiment: string;
  file: string;
  tiers: Record<Tier, { expected: Verdict; seeds: number[]; timeoutMinutes?: number }>;
}

export interface MatrixEntry {
  claim: string;
  tier: Tier;
  seed: number;
}

export function listing(specs: readonly LoadedSpec[]): ClaimListing[] {
  return specs.map((s) => ({
    id: s.id,
    version: s.version,
    title: s.title,
    experiment: s.experiment,
    file: s.file,
    tiers: {
      fast: { expected: s.tiers.fast.expected, seeds: s.tiers.fast.seeds, ...(s.tiers.fast.timeoutMinutes ? { timeoutMinutes: s.tiers.fast.timeoutMinutes } : {}) },
      full: { expected: s.tiers.full.expected, seeds: s.tiers.full.seeds, ...(s.tiers.full.timeoutMinutes ? { timeoutMinutes: s.tiers.full.timeoutMinutes } : {}) },
    },
  }));
}

/** One job per (claim, seed) at `tier`: the shape a CI job matrix (`include`) takes. */
export function seedMatrix(specs: readonly LoadedSpec[], tier: Tier): MatrixEntry[] {
  return specs.flatMap((s) => s.tiers[tier].seeds.map((seed) => ({ claim: s.id, tier, seed })));
}

/** Plain columns, padded to the widest entry. */
export function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n');
}
