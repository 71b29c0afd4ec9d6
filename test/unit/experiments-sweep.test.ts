import { describe, expect, it } from 'vitest';
import { cellMetric, cellsOf, sweepKind, type SweepParams } from '../../src/experiments/sweep.ts';
import type { RunContext } from '../../src/experiments/types.ts';
import type { ProgressSink } from '../../src/train/progress.ts';
import { standIn, runs } from '../fixtures-specs/stand-in-kind.ts';

const sweep = sweepKind([standIn]);
const params = (): SweepParams => ({
  experiment: 'stand-in',
  params: { clean: 0.5, gap: 0, noise: 0 },
  axes: [
    { name: 'clean', path: 'clean', values: [0.4, 0.6] },
    { name: 'gap', path: 'gap', values: [-0.1, 0, 0.1] },
  ],
});
const quiet: ProgressSink = { start: () => {}, tick: () => {}, stop: () => {} };
const ctx = (seed: number) => ({ seed, progress: quiet, backend: { name: 'cpu' } }) as unknown as RunContext;

describe('the sweep kind', () => {
  it('has one cell per combination of axis values, the first axis slowest, each with its params changed at the axis paths', () => {
    const cells = cellsOf(params());
    expect(cells.map((c) => c.id)).toEqual(['clean=0.4,gap=-0.1', 'clean=0.4,gap=0', 'clean=0.4,gap=0.1', 'clean=0.6,gap=-0.1', 'clean=0.6,gap=0', 'clean=0.6,gap=0.1']);
    expect(cells[5].params).toEqual({ clean: 0.6, gap: 0.1, noise: 0 });
    expect(cells[5].coords).toEqual({ clean: 0.6, gap: 0.1 });
  });

  it('a named axis sets several paths per level, and nested paths create what they lead through', () => {
    const cells = cellsOf({
      params: { a: { b: 1 } },
      axes: [{ name: 'protocol', levels: { small: { 'a.b': 2, 'c.d': 'x' }, large: { 'a.b': 3 } } }],
    });
    expect(cells.map((c) => [c.id, c.params])).toEqual([
      ['protocol=small', { a: { b: 2 }, c: { d: 'x' } }],
      ['protocol=large', { a: { b: 3 } }],
    ]);
  });

  it('names every inner metric once per cell, metric{axis=value,…}', () => {
    const names = sweep.metricNames(params());
    expect(names).toHaveLength(12);
    expect(names).toContain('adv_acc_fgsm{clean=0.6,gap=0.1}');
    expect(cellMetric('clean_acc', 'clean=0.4,gap=0')).toBe('clean_acc{clean=0.4,gap=0}');
  });

  it('runs every cell with the claim’s seed and returns every cell’s metrics', async () => {
    runs.length = 0;
    const out = await sweep.run(params(), ctx(7));
    expect(runs.map((r) => r.seed)).toEqual([7, 7, 7, 7, 7, 7]);
    expect(Object.keys(out.metrics).sort()).toEqual([...sweep.metricNames(params())].sort());
    expect(out.metrics['adv_acc_fgsm{clean=0.6,gap=0.1}'] - out.metrics['clean_acc{clean=0.6,gap=0.1}']).toBeCloseTo(0.1, 9);
    expect(Object.keys(out.curves)).toContain('{clean=0.4,gap=-0.1}:epochs');
  });

  it('checks each cell as the inner kind’s params: a misspelt path or a bad value names the cell', () => {
    const bad = params();
    bad.axes[1] = { name: 'gap', path: 'gapp', values: [0] };
    expect(sweep.problems!(bad)).toEqual([expect.objectContaining({ pointer: '/axes', reason: expect.stringMatching(/cell \{clean=0.4,gap=0\}: .*must NOT have additional properties 'gapp'/) })]);
    const outOfRange = params();
    outOfRange.axes[0] = { name: 'clean', path: 'clean', values: [0.5, 2] };
    expect(sweep.problems!(outOfRange).map((p) => p.reason)).toEqual([expect.stringMatching(/cell \{clean=2,gap=-0.1\}: stand-in params \/clean must be <= 1/)]);
    expect(sweep.problems!(params())).toEqual([]);
  });

  it('rejects two axes of one name and a plot metric the inner kind does not produce', () => {
    const p = params();
    p.axes.push({ name: 'gap', path: 'noise', values: [0] });
    p.plot = ['leak'];
    expect(sweep.problems!(p).map((x) => x.pointer)).toEqual(['/axes/2/name', '/plot']);
  });
});
