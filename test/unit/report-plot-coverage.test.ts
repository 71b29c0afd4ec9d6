import { readdirSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { plotsFor, type Plot } from '../../src/report/plots.ts';
import { heatmapSpec, type CellRow } from '../../src/report/sweep-plots.ts';
import { renderSvg } from '../../src/report/plots.ts';
import type { ResultRecord } from '../../src/results/record-types.ts';
import { committedRecord } from '../helpers/record-folders.ts';

/**
 * Issue 28 item 5: a plot for every quantity a claim asserts (and every precondition it
 * checks), on the committed records the README's report is made from.
 */

const ids = readdirSync('docs/results/records/fast')
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.slice(0, -'.json'.length));

const plots = new Map<string, Plot[]>();
beforeAll(async () => {
  for (const id of ids) plots.set(id, await plotsFor(committedRecord(id)));
}, 120_000);

/** Every metric an assertion or precondition of the record reads. */
function checkedMetrics(r: ResultRecord): string[] {
  return [...r.assertions, ...(r.preconditions ?? [])].flatMap((q) => (q.minus === undefined ? [q.metric] : [q.metric, q.minus]));
}

describe('plots of what the claims assert', () => {
  it('reads every committed fast record', () => {
    expect(ids.length).toBeGreaterThanOrEqual(9);
  });

  it.each(ids)('%s: every metric its assertions and preconditions read is drawn in a plot', (id) => {
    const drawn = new Set(plots.get(id)!.flatMap((p) => p.metrics));
    const missing = checkedMetrics(committedRecord(id)).filter((m) => !drawn.has(m));
    expect(missing, `${id}: no plot draws ${missing.join(', ')}`).toEqual([]);
  });

  it("iterative-beats-one-step: its BIM and FGSM accuracies side by side", () => {
    const q = plots.get('iterative-beats-one-step')!.find((p) => p.name.endsWith('-quantities.svg'))!;
    expect(q.metrics).toEqual(expect.arrayContaining(['adv_acc_fgsm', 'adv_acc_bim']));
    expect(q.svg).toContain('BIM accuracy');
  });

  it('gradient-sign-separability: the three probe accuracies', () => {
    const q = plots.get('gradient-sign-separability')!.find((p) => p.name.endsWith('-quantities.svg'))!;
    expect(q.metrics).toEqual(expect.arrayContaining(['probe_acc_true', 'probe_acc_random', 'probe_acc_pixels']));
    expect(q.svg).toContain('probe accuracy on random-label signs');
  });

  it('leak-regime: one accuracy panel per training setting, heat maps titled in words', () => {
    const ps = plots.get('leak-regime')!;
    const acc = ps.find((p) => p.name === 'leak-regime-fast-accuracy.svg')!.svg;
    // The record's cells, from its metric names (clean_acc{protocol=writeUp}), labelled as the panels are.
    const cells = Object.keys(committedRecord('leak-regime').outcomes[0].metrics).flatMap((m) => /^clean_acc\{(.+)\}$/.exec(m)?.[1].replaceAll(',', ', ') ?? []);
    expect(cells.length).toBeGreaterThan(1);
    for (const cell of cells) expect(acc).toContain(`>${cell}<`);
    const heat = ps.find((p) => p.name === 'leak-regime-fast-leak_gap_fgsm-cells.svg')!.svg;
    expect(heat).toContain('leak gap (FGSM − clean accuracy) (points)');
    expect(heat).not.toMatch(/>[^<]*leak_gap_fgsm[^<]*</);
  });

  it('records with per-epoch leak metrics get each seed’s curve', () => {
    const withEpochs = ids.filter((id) => committedRecord(id).outcomes.some((o) => Object.keys(o.metrics).some((m) => m.endsWith('epoch_first_leak'))));
    expect(withEpochs.length).toBeGreaterThan(0);
    for (const id of withEpochs) {
      const p = plots.get(id)!.find((q) => q.name.endsWith('-accuracy-per-seed.svg'));
      expect(p, id).toBeDefined();
      for (const o of committedRecord(id).outcomes) expect(p!.svg).toContain(`>seed ${o.seed}<`);
    }
  });
});

describe('heat map cell text', () => {
  it('is white on the dark ends of the scale and dark on the pale middle', async () => {
    const rows: CellRow[] = [
      { seed: 1, metric: 'leak_gap_fgsm', cell: 'a=1,b=x', value: -0.2, a: 1, b: 'x' },
      { seed: 1, metric: 'leak_gap_fgsm', cell: 'a=1,b=y', value: 0.01, a: 1, b: 'y' },
      { seed: 1, metric: 'leak_gap_fgsm', cell: 'a=2,b=x', value: 0.19, a: 2, b: 'x' },
    ];
    const svg = await renderSvg(heatmapSpec({ claim: { id: 'c' }, tier: 'fast' } as ResultRecord, 'leak_gap_fgsm', rows, ['a', 'b']));
    const fill = (label: string) => new RegExp(`<text[^>]*fill="([^"]+)"[^>]*>${label}</text>`).exec(svg)?.[1];
    expect(fill('−20.0')).toBe('white');
    expect(fill('\\+19.0')).toBe('white');
    expect(fill('\\+1.0')).toBe('#1f2328');
  });
});
