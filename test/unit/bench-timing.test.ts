import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { imagesPerSecond, measure, median, summarize } from '../../src/bench/timing.ts';

/** A clock that advances by the given durations, one per run, for tests without real time. */
function fakeRuns(durations: number[]) {
  let t = 0;
  let i = 0;
  const calls: number[] = [];
  return {
    now: () => t,
    fn: () => {
      calls.push(i);
      t += durations[Math.min(i, durations.length - 1)];
      i += 1;
    },
    calls,
  };
}

describe('measure', () => {
  it('excludes the warm-up runs and times the rest', async () => {
    const f = fakeRuns([100, 90, 10, 30, 20]);
    const s = await measure(f.fn, { warmup: 2, repeats: 3 }, f.now);
    expect(f.calls).toHaveLength(5);
    expect(s.runsMs).toEqual([10, 30, 20]);
    expect(s).toMatchObject({ medianMs: 20, minMs: 10, maxMs: 30 });
  });

  it('stops repeating once the budget is spent, but always times one run', async () => {
    const f = fakeRuns([5, 40, 40, 40, 40]);
    const s = await measure(f.fn, { warmup: 1, repeats: 5, budgetMs: 70 }, f.now);
    expect(s.runsMs).toEqual([40, 40]);
    const g = fakeRuns([1000]);
    expect((await measure(g.fn, { warmup: 0, repeats: 0, budgetMs: 1 }, g.now)).runsMs).toEqual([1000]);
  });

  it('skips the remaining warm-ups of a backend whose first warm-up used the budget', async () => {
    const f = fakeRuns([500, 500, 500]);
    await measure(f.fn, { warmup: 3, repeats: 1, budgetMs: 400 }, f.now);
    expect(f.calls).toHaveLength(2); // one warm-up, one timed run
  });
});

describe('median', () => {
  it('is a value with as many others at or below it as at or above it', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 30 }), (xs) => {
        const m = median(xs);
        expect(xs.filter((x) => x <= m).length).toBeGreaterThanOrEqual(xs.length / 2);
        expect(xs.filter((x) => x >= m).length).toBeGreaterThanOrEqual(xs.length / 2);
      }),
    );
  });

  it('of no values is an error', () => {
    expect(() => median([])).toThrow(RangeError);
  });
});

describe('imagesPerSecond', () => {
  it('is the batch over the median run time', () => {
    expect(imagesPerSecond(128, summarize([500, 1000, 2000]))).toBeCloseTo(128, 10);
  });
});
