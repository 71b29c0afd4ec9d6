import type { PlannedTraining } from '../experiments/types.ts';
import { tierOf, tiersOf, type TierSpec } from '../spec/claim.ts';
import { TIERS, type Tier } from '../spec/names.ts';
import { MissingTierError } from './errors.ts';
import { applyOverrides, type Override } from './overrides.ts';
import type { LoadedSpec } from './spec.ts';

/**
 * What a run works on, resolved once: which claims have the tier, each one's parameters at
 * that tier with the `--set` overrides applied, and the seeds it runs. `run` (and so the
 * claim suite, which runs it), `run --dry-run`, `list --matrix` and the job plan below all
 * take this plan rather than looking a tier up in a spec themselves.
 */

/** One claim of a run: its spec (overrides applied), its tier's parameters, the seeds run. */
export interface PlannedClaim {
  spec: LoadedSpec;
  tier: TierSpec;
  seeds: number[];
}

export interface ClaimsPlan {
  tier: Tier;
  /** The claims that have the tier, in the order given. */
  claims: PlannedClaim[];
  /** The claims given that lack the tier (gpu exists only for some): a run skips them by name. */
  lacking: LoadedSpec[];
}

export interface PlanOptions {
  tier: Tier;
  /** `--set`: changed tier parameters, re-checked as a spec file is. */
  overrides?: Override[];
  /** `--seed` / `--seeds`; else each claim's tier's seeds. */
  seeds?: number[];
  /**
   * Set when the claims were named (on the command line): then each must have the tier, and
   * one that lacks it is a MissingTierError naming the claims of `folder()` that have it.
   */
  named?: { folder: () => readonly LoadedSpec[] };
}

export function planClaims(specs: readonly LoadedSpec[], opts: PlanOptions): ClaimsPlan {
  const { tier } = opts;
  const lacking = specs.filter((s) => !tierOf(s, tier));
  if (lacking.length > 0 && opts.named) {
    const withTier = opts.named.folder().filter((s) => tierOf(s, tier)).map((s) => s.id);
    throw new MissingTierError(tier, lacking.map((s) => ({ id: s.id, tiers: tiersOf(s, TIERS) })), withTier);
  }
  const claims = specs
    .filter((s) => tierOf(s, tier))
    .map((s) => {
      const spec = applyOverrides(s, tier, opts.overrides ?? []);
      const t = tierOf(spec, tier)!;
      return { spec, tier: t, seeds: opts.seeds ?? t.seeds };
    });
  return { tier, claims, lacking };
}

/**
 * The jobs a run starts (`run --jobs N` runs each as one process; `run --dry-run` prints
 * them): the claims of one seed that share a trained model go into one job, since in
 * separate processes each would train it again. What each claim trains comes from its
 * experiment kind's `trainings(params)`.
 */

export type { PlannedTraining };

/** One process of `run --jobs N`: the claims of one seed that share a trained model run together. */
export interface PlannedJob {
  seed: number;
  claims: string[];
  /** Distinct models this job trains (shared ones once). */
  trainings: PlannedTraining[];
  /** Every evaluation it runs: one per claim and model, shared models included. */
  evaluations: PlannedTraining[];
}

/**
 * Groups (claim, seed) pairs into jobs: two claims go into one job when they train a model
 * with the same share key, since in separate processes each would train it again.
 */
export function planJobs(specs: { id: string; trainings: PlannedTraining[] }[], seeds: (id: string) => number[]): PlannedJob[] {
  const jobs: PlannedJob[] = [];
  const allSeeds = [...new Set(specs.flatMap((s) => seeds(s.id)))].sort((a, b) => a - b);
  for (const seed of allSeeds) {
    const here = specs.filter((s) => seeds(s.id).includes(seed));
    // Union-find over claims by shared keys.
    const parent = here.map((_, i) => i);
    const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i])));
    const owner = new Map<string, number>();
    here.forEach((s, i) => {
      for (const t of s.trainings) {
        if (t.shareKey === undefined) continue;
        const o = owner.get(t.shareKey);
        if (o === undefined) owner.set(t.shareKey, i);
        else parent[find(i)] = find(o);
      }
    });
    const groups = new Map<number, number[]>();
    here.forEach((_, i) => groups.set(find(i), [...(groups.get(find(i)) ?? []), i]));
    for (const members of groups.values()) {
      const trainings = new Map<string, PlannedTraining>();
      for (const i of members) {
        here[i].trainings.forEach((t, n) => {
          const key = t.shareKey ?? `${here[i].id}#${n}`;
          if (!trainings.has(key)) trainings.set(key, t);
        });
      }
      jobs.push({
        seed,
        claims: members.map((i) => here[i].id),
        trainings: [...trainings.values()],
        evaluations: members.flatMap((i) => here[i].trainings),
      });
    }
  }
  return jobs;
}
