import seedrandom from 'seedrandom';

/**
 * A seeded random stream. Every source of randomness in a run (data order, subsets,
 * weight initialisation, ε draws) forks its own named stream from the run's one seed,
 * so adding draws to one stream never shifts another.
 */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Standard normal (Box–Muller). */
  normal(): number;
  /** An independent stream named `label`, determined by this stream's seed. */
  fork(label: string): Rng;
  /** The integer seed tfjs initialisers take. */
  tfSeed(): number;
  /** The generator's state, for checkpoints. */
  state(): object;
}

export function makeRng(seed: number | string, stream = 'root', restored?: object): Rng {
  const key = `label-leak/${seed}/${stream}`;
  const prng = restored
    ? seedrandom('', { state: restored as seedrandom.State.Arc4 })
    : seedrandom(key, { state: true });
  const rng: Rng = {
    next: () => prng.quick(),
    int: (n) => Math.floor(prng.quick() * n),
    normal: () => {
      // 1 - u keeps log() away from 0.
      const u = 1 - prng.quick();
      const v = prng.quick();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
    fork: (label) => makeRng(seed, `${stream}/${label}`),
    tfSeed: () => Math.floor(prng.quick() * 2 ** 31),
    state: () => prng.state(),
  };
  return rng;
}

/** Fisher–Yates permutation of 0..n-1. */
export function permutation(rng: Rng, n: number): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

/** |N(0, σ)|: the write-up draws ε ~ N(0, σ) and discards negatives, which is the same law. */
export function halfNormal(rng: Rng, sigma: number): number {
  return Math.abs(rng.normal()) * sigma;
}
