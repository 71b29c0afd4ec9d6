import { describe, expect, it } from 'vitest';
import { adversarialTraining, epochBimMetrics, epochLeakMetrics } from '../../src/experiments/adversarial-training.ts';
import { curveOf } from '../../src/experiments/protocol.ts';

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

  it('reads only the epochs that measured both accuracies (a point lacking either is not a gap)', () => {
    expect(
      epochLeakMetrics([
        { epoch: 1, cleanAcc: 0.3 }, // no FGSM accuracy: skipped
        { epoch: 2, advAcc: 0.4 }, // no clean accuracy: skipped
        { epoch: 3, cleanAcc: 0.2, advAcc: 0.3 }, // +0.1: the only gap
      ]),
    ).toEqual({ epoch_first_leak: 3, epoch_leak_count: 1, epoch_max_leak_gap: expect.closeTo(0.1, 12) });
  });

  it('with a curve subset, epochMetrics and curveBim are no problem', () => {
    const p = { dataset: 'mnist', model: { kind: 'mlp', hidden: [] }, training: {}, evaluation: { eps: 6, attacks: ['fgsm'], batchSize: 10, curveSubset: 1, curveBim: true }, epochMetrics: true } as any;
    expect(adversarialTraining.problems!(p)).toEqual([]);
  });

  it('refuses a run without a per-epoch curve, naming the setting to change', () => {
    expect(() => epochLeakMetrics([{ epoch: 1, trainLoss: 2 }])).toThrow(/curveSubset must be > 0/);
    const p = { dataset: 'mnist', model: { kind: 'mlp', hidden: [] }, training: {}, evaluation: { eps: 6, attacks: ['fgsm'], batchSize: 10, curveSubset: 0 }, epochMetrics: true } as any;
    expect(adversarialTraining.problems!(p)).toEqual([{ pointer: '/evaluation/curveSubset', reason: expect.stringMatching(/curveSubset > 0/) }]);
    expect(adversarialTraining.problems!({ ...p, epochMetrics: false })).toEqual([]);
  });
});

describe('epochBimMetrics (evaluation.curveBim)', () => {
  it('finds the first epoch whose BIM accuracy is more than 10 points below FGSM, and the largest FGSM − BIM gap', () => {
    const m = epochBimMetrics([
      { epoch: 1, advAcc: 0.2, bimAcc: 0.15 }, // 0.05
      { epoch: 2, advAcc: 0.3, bimAcc: 0.22 }, // 0.08: not more than 10 points
      { epoch: 3, advAcc: 0.4, bimAcc: 0.25 }, // 0.15: collapse
      { epoch: 4, advAcc: 0.6, bimAcc: 0.1 }, // 0.50: largest
    ]);
    expect(m.epoch_bim_collapse).toBe(3);
    expect(m.epoch_max_fgsm_bim_gap).toBeCloseTo(0.5, 12);
  });

  it('says 0 when BIM never collapses, and refuses a curve without BIM, naming the setting', () => {
    expect(epochBimMetrics([{ epoch: 1, advAcc: 0.3, bimAcc: 0.29 }]).epoch_bim_collapse).toBe(0);
    // A gap of exactly 10 points (0.1 − 0 is the double 0.1 itself) is not more than 10 points.
    expect(epochBimMetrics([{ epoch: 1, advAcc: 0.1, bimAcc: 0 }, { epoch: 2, advAcc: 0.5, bimAcc: 0.25 }]).epoch_bim_collapse).toBe(2);
    expect(() => epochBimMetrics([{ epoch: 1, cleanAcc: 0.3, advAcc: 0.2 }])).toThrow(/curveBim must be true/);
  });

  it('reads only the epochs that measured both FGSM and BIM accuracy', () => {
    expect(epochBimMetrics([{ epoch: 1, bimAcc: 0.1 }, { epoch: 2, advAcc: 0.5, bimAcc: 0.2 }])).toEqual({ epoch_bim_collapse: 2, epoch_max_fgsm_bim_gap: expect.closeTo(0.3, 12) });
  });

  it('adds its metrics only with curveBim, and needs a curve subset', () => {
    const ev = { eps: 6, attacks: ['fgsm'], batchSize: 10, curveSubset: 100 };
    const p = { dataset: 'mnist', model: { kind: 'mlp', hidden: [] }, training: {}, evaluation: ev, epochMetrics: true } as any;
    expect(adversarialTraining.metricNames(p)).not.toContain('epoch_bim_collapse');
    expect(adversarialTraining.metricNames({ ...p, evaluation: { ...ev, curveBim: true } })).toEqual(expect.arrayContaining(['epoch_bim_collapse', 'epoch_max_fgsm_bim_gap']));
    expect(adversarialTraining.problems!({ ...p, evaluation: { ...ev, curveSubset: 0, curveBim: true }, epochMetrics: false })).toEqual([
      { pointer: '/evaluation/curveBim', reason: expect.stringMatching(/curveSubset > 0/) },
    ]);
  });

  it('keeps the model-sharing key of a curve without BIM as it was (committed checkpoints and shared models stay valid)', () => {
    const ev = { eps: 6, attacks: ['fgsm'] as const, batchSize: 500, curveSubset: 500 };
    expect(JSON.stringify(curveOf({ ...ev, attacks: [...ev.attacks] }))).toBe('{"eps":6,"subset":500,"batchSize":500}');
    expect(curveOf({ ...ev, attacks: [...ev.attacks], curveBim: true })).not.toEqual(curveOf({ ...ev, attacks: [...ev.attacks] }));
  });
});
