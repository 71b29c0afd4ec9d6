import { describe, expect, it } from 'vitest';
import { adversarialTraining, epochLeakMetrics } from '../../src/experiments/adversarial-training.ts';

/** The regime in time: hand-worked curves, each number derived in the comment beside it. */
describe('epochLeakMetrics', () => {
  it('finds the first leaking epoch, counts the leaking epochs and takes the largest gap', () => {
    const m = epochLeakMetrics([
      { epoch: 1, cleanAcc: 0.2, advAcc: 0.1 }, // −0.1
      { epoch: 2, cleanAcc: 0.3, advAcc: 0.3 }, // 0: not above
      { epoch: 3, cleanAcc: 0.25, advAcc: 0.4 }, // +0.15: first leak
      { epoch: 4, cleanAcc: 0.35, advAcc: 0.3 }, // −0.05
      { epoch: 5, cleanAcc: 0.2, advAcc: 0.45 }, // +0.25: largest
    ]);
    expect(m.epoch_first_leak).toBe(3);
    expect(m.epoch_leak_count).toBe(2);
    expect(m.epoch_max_leak_gap).toBeCloseTo(0.25, 12);
  });

  it('says 0 for the first leak when no epoch leaks; the largest gap is then the least negative', () => {
    expect(epochLeakMetrics([{ epoch: 1, cleanAcc: 0.3, advAcc: 0.1 }, { epoch: 2, cleanAcc: 0.3, advAcc: 0.25 }])).toEqual({
      epoch_first_leak: 0,
      epoch_leak_count: 0,
      epoch_max_leak_gap: expect.closeTo(-0.05, 12),
    });
  });

  it('refuses a run without a per-epoch curve, naming the setting to change', () => {
    expect(() => epochLeakMetrics([{ epoch: 1, trainLoss: 2 }])).toThrow(/curveSubset must be > 0/);
    const p = { dataset: 'mnist', model: { kind: 'mlp', hidden: [] }, training: {}, evaluation: { eps: 6, attacks: ['fgsm'], batchSize: 10, curveSubset: 0 }, epochMetrics: true } as any;
    expect(adversarialTraining.problems!(p)).toEqual([{ pointer: '/evaluation/curveSubset', reason: expect.stringMatching(/curveSubset > 0/) }]);
    expect(adversarialTraining.problems!({ ...p, epochMetrics: false })).toEqual([]);
  });
});
