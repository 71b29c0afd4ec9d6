import { describe, expect, it } from 'vitest';
import { accuracyRows, evaluationEps, lossRows, lossVsEpsSpec, accuracySpec, renderSvg, plotsFor } from '../../src/report/plots.ts';
import type { ResultRecord, SeedResult } from '../../src/results/record-types.ts';

const seed = (n: number, curves: SeedResult['curves'], status: 'ok' | 'error' = 'ok'): SeedResult => ({
  seed: n,
  status,
  metrics: {},
  curves,
  wallSeconds: 1,
  ...(status === 'error' ? { error: { name: 'E', message: 'm' } } : {}),
  startedAt: '2026-01-01T00:00:00.000Z',
  finishedAt: '2026-01-01T00:00:01.000Z',
});

const sweep = (shift: number) => [0, 2, 4, 6, 8, 16].map((eps) => ({ eps, loss: 1 + shift + Math.sin(eps / 5), acc: 0.5 }));
const outcomes = [
  seed(1, { lossVsEps: sweep(0), 'control:lossVsEps': sweep(1), epochs: [{ epoch: 1, cleanAcc: 0.3, advAcc: 0.35, trainLoss: 2 }, { epoch: 2, cleanAcc: 0.5, advAcc: null }] }),
  seed(2, { lossVsEps: sweep(0.1), epochs: [{ epoch: 1, cleanAcc: 0.31, advAcc: 0.36 }] }),
  seed(3, { lossVsEps: sweep(9) }, 'error'),
];
const record = { claim: { id: 'c', experiment: 'adversarial-training' }, tier: 'fast', params: { evaluation: { eps: 6 } }, outcomes } as unknown as ResultRecord;

describe('plot data', () => {
  it('takes curves from finished seeds only, labelling the control twin', () => {
    const rows = lossRows(outcomes, 'adversarial-training');
    expect(rows).toHaveLength(18); // 6 points × (seed 1 main + control, seed 2 main); failed seed 3 left out
    expect(new Set(rows.map((r) => r.model))).toEqual(new Set(['adversarial-training', 'control (plain training)']));
    expect(rows.some((r) => r.seed === 3)).toBe(false);
  });

  it('splits epochs into clean and FGSM accuracy, skipping missing (null) values', () => {
    const rows = accuracyRows(outcomes, 'adversarial-training');
    expect(rows).toEqual([
      { seed: 1, model: 'adversarial-training', metric: 'clean', epoch: 1, accuracy: 0.3 },
      { seed: 1, model: 'adversarial-training', metric: 'FGSM', epoch: 1, accuracy: 0.35 },
      { seed: 1, model: 'adversarial-training', metric: 'clean', epoch: 2, accuracy: 0.5 },
      { seed: 2, model: 'adversarial-training', metric: 'clean', epoch: 1, accuracy: 0.31 },
      { seed: 2, model: 'adversarial-training', metric: 'FGSM', epoch: 1, accuracy: 0.36 },
    ]);
  });

  it('marks the spec’s evaluation ε, the write-up’s 6 when the params do not say', () => {
    expect(evaluationEps({ evaluation: { eps: 4 } })).toBe(4);
    expect(evaluationEps({})).toBe(6);
  });
});

describe('rendered SVG', () => {
  it('loss versus ε: an SVG with the two models, the ε = 6 rule and axis titles', async () => {
    const svg = await renderSvg(lossVsEpsSpec(record, lossRows(outcomes, 'adversarial-training')));
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('ε = 6');
    expect(svg).toContain('control (plain training)');
    expect(svg).toContain('adversarial-training');
    expect(svg).toContain('cross-entropy');
    expect(svg).toContain('mean over 2 seeds');
    // two mean lines and two bands, drawn as paths with data
    expect((svg.match(/<path[^>]* d="M/g) ?? []).length).toBeGreaterThanOrEqual(4);
  });

  it('accuracy over epochs: clean and FGSM series', async () => {
    const svg = await renderSvg(accuracySpec(record, accuracyRows(outcomes, 'adversarial-training')));
    expect(svg).toContain('>clean<');
    expect(svg).toContain('>FGSM<');
    expect(svg).toContain('epoch');
  });

  it('a record without curves has no plots', async () => {
    expect(await plotsFor({ ...record, outcomes: [seed(1, {})] })).toEqual([]);
    expect((await plotsFor(record)).map((p) => p.name)).toEqual(['c-fast-loss-vs-eps.svg', 'c-fast-accuracy.svg']);
  });
});
