/** Timing of repeated runs: pure, with the clock injected so the logic is testable without timings. */

export interface TimingPlan {
  /** Untimed runs first (kernel caches, allocator growth, JIT). */
  warmup: number;
  /** Timed runs, at most. */
  repeats: number;
  /** Stop warming up, and stop repeating, once this much time went into either (one run of each happens). */
  budgetMs?: number;
}

export interface TimingSummary {
  medianMs: number;
  minMs: number;
  maxMs: number;
  /** Every timed run, in order. */
  runsMs: number[];
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError('median of no values');
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function summarize(runsMs: readonly number[]): TimingSummary {
  return { medianMs: median(runsMs), minMs: Math.min(...runsMs), maxMs: Math.max(...runsMs), runsMs: [...runsMs] };
}

/** Runs `fn` warmup + up to `repeats` times and summarises the timed runs. */
export async function measure(
  fn: () => void | Promise<void>,
  plan: TimingPlan,
  now: () => number = () => performance.now(),
): Promise<TimingSummary> {
  // A backend so slow that one warm-up run uses the whole budget gets no second one.
  let warm = 0;
  for (let i = 0; i < plan.warmup; i++) {
    const t0 = now();
    await fn();
    warm += now() - t0;
    if (plan.budgetMs !== undefined && warm >= plan.budgetMs) break;
  }
  const runs: number[] = [];
  let spent = 0;
  while (runs.length < Math.max(1, plan.repeats)) {
    const t0 = now();
    await fn();
    const dt = now() - t0;
    runs.push(dt);
    spent += dt;
    if (plan.budgetMs !== undefined && spent >= plan.budgetMs) break;
  }
  return summarize(runs);
}

/** Images per second at the median run. */
export function imagesPerSecond(batch: number, s: TimingSummary): number {
  return (batch * 1000) / s.medianMs;
}
