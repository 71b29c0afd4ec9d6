import type { PlannedTraining } from '../experiments/types.ts';

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
