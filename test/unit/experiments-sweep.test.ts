import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { beforeEach, describe, expect, it } from 'vitest';
import { cellMetric, cellsOf, sweepKind, type SweepParams } from '../../src/experiments/sweep.ts';
import type { RunContext } from '../../src/experiments/types.ts';
import type { ProgressSink } from '../../src/train/progress.ts';
import { fixed, fixedTraining } from '../fixtures-specs/fixed-kind.ts';
import { standIn, runs } from '../fixtures-specs/stand-in-kind.ts';

// Built before each test, not at import: a mutant that breaks building it fails tests rather than the file's collection.
let sweep: ReturnType<typeof sweepKind>;
beforeEach(() => {
  sweep = sweepKind([standIn]);
});
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

  it('names a cell whose params break a rule at their root as (root)', () => {
    const p = params();
    delete p.params.noise;
    expect(sweep.problems!(p).map((x) => x.reason)).toEqual([`cell {clean=0.4,gap=-0.1}: stand-in params (root) must have required property 'noise' — check the axis paths and values`]);
  });

  it('names every rule a cell breaks, and a repeated axis name by name', () => {
    const p = params();
    p.axes[0] = { name: 'clean', path: 'clean', values: [2] };
    p.axes[1] = { name: 'gap', path: 'gapp', values: [0] };
    expect(sweep.problems!(p).map((x) => x.reason)).toEqual([
      `cell {clean=2,gap=0}: stand-in params (root) must NOT have additional properties 'gapp' — check the axis paths and values`,
      `cell {clean=2,gap=0}: stand-in params /clean must be <= 1 — check the axis paths and values`,
    ]);
    const twice = params();
    twice.axes[1] = { name: 'clean', path: 'gap', values: [0] };
    expect(sweep.problems!(twice)).toEqual([{ pointer: '/axes/1/name', reason: 'duplicate axis name "clean"' }]);
  });

  it('names the metrics the inner kind produces when a plot metric is not one of them', () => {
    const p = { ...params(), plot: ['clean_acc', 'leak'] };
    expect(sweep.problems!(p)).toEqual([{ pointer: '/plot', reason: '"leak" is not a metric of stand-in; it produces: clean_acc, adv_acc_fgsm' }]);
  });
});

describe('the sweep kind over a kind that reports throughput and plans its trainings', () => {
  let over: ReturnType<typeof sweepKind>;
  beforeEach(() => {
    over = sweepKind([fixed, standIn]);
  });
  const p = (values: number[], rates: (number | undefined)[]): SweepParams => ({
    experiment: 'fixed',
    params: { value: 0 },
    axes: [{ name: 'cell', levels: Object.fromEntries(values.map((v, i) => [`c${i}`, rates[i] === undefined ? { value: v } : { value: v, rate: rates[i] }])) }],
  });

  it('returns each cell’s curves as {cell}:curve and the mean throughput of the cells that trained', async () => {
    const out = await over.run(p([1, 2, 3], [100, undefined, 300]), ctx(1));
    expect(out.metrics).toEqual({ 'm{cell=c0}': 1, 'm{cell=c1}': 2, 'm{cell=c2}': 3 });
    expect(out.curves).toEqual({
      '{cell=c0}:epochs': [{ epoch: 1, trainLoss: 1 }],
      '{cell=c1}:epochs': [{ epoch: 1, trainLoss: 2 }],
      '{cell=c2}:epochs': [{ epoch: 1, trainLoss: 3 }],
    });
    expect(out.imagesPerSecond).toBe(200);
    expect((await over.run(p([1, 2], [undefined, undefined]), ctx(1))).imagesPerSecond).toBeUndefined();
  });

  it('plans every cell’s trainings with {cell} before each role, or nothing when the inner kind cannot say', () => {
    const model = { kind: 'mlp', hidden: [] };
    expect(over.trainings!(p([60, 30], []))).toEqual([
      { role: '{cell=c0}:main', dataset: 'mnist', trainSubset: 60, model, training: fixedTraining },
      { role: '{cell=c1}:main', dataset: 'mnist', trainSubset: 30, model, training: fixedTraining },
    ]);
    expect(sweep.trainings!(params())).toBeUndefined();
    // One cell the inner kind cannot plan (its trainings() says undefined): the whole sweep cannot.
    expect(over.trainings!(p([60, -1], []))).toBeUndefined();
    expect([sweep.name, over.name]).toEqual(['sweep', 'sweep']);
  });

  it('refuses an inner kind it was not made with, naming the kinds it knows', () => {
    expect(() => over.metricNames({ ...p([1], []), experiment: 'nope' })).toThrow("sweep: unknown experiment kind 'nope' (known: fixed, stand-in)");
  });
});

describe('the sweep kind’s params schema', () => {
  // Compiled in each test, not while the file is collected: a mutant that breaks the schema must fail a test
  // (StrykerJS's vitest runner counts a file that fails to collect as 0 tests run, and the mutant as survived).
  let validate: ValidateFunction;
  beforeEach(() => {
    validate = new Ajv2020({ strict: true, allErrors: true }).compile(sweep.paramsSchema);
  });
  const valid = (): Record<string, any> => ({
    experiment: 'stand-in',
    params: { clean: 0.5, gap: 0, noise: 0 },
    axes: [
      { name: 'clean', path: 'clean', values: [0.4, 'x', true] },
      { name: 'protocol_2', levels: { plain: {}, 'all-adv': { gap: 0.1 } } },
    ],
    plot: ['clean_acc'],
  });

  it('admits path axes (numbers, strings, booleans) and named axes of levels, with a plot list', () => {
    expect(validate(valid()), JSON.stringify(validate.errors)).toBe(true);
    const plain = valid();
    delete plain.plot;
    plain.axes = [{ name: 'a', path: 'evaluation.eps_1.x', values: [1] }];
    expect(validate(plain), JSON.stringify(validate.errors)).toBe(true);
  });

  const broken: [string, (p: Record<string, any>) => void][] = [
    ['no experiment', (p) => delete p.experiment],
    ['no params', (p) => delete p.params],
    ['no axes', (p) => delete p.axes],
    ['a field besides those', (p) => (p.note = 'x')],
    ['an inner kind it does not know', (p) => (p.experiment = 'nope')],
    ['params that are not an object', (p) => (p.params = 3)],
    ['no axis at all', (p) => (p.axes = [])],
    ['an axis with both a path and levels', (p) => (p.axes[0].levels = { a: {} })],
    ['an axis without a name', (p) => delete p.axes[0].name],
    ['a path axis without a path', (p) => delete p.axes[0].path],
    ['a path axis without values', (p) => delete p.axes[0].values],
    ['an axis name starting with a digit', (p) => (p.axes[0].name = '1clean')],
    ['an axis name with a dot', (p) => (p.axes[0].name = 'a.b')],
    ['a path with an empty step', (p) => (p.axes[0].path = 'evaluation..eps')],
    ['a path starting with a digit', (p) => (p.axes[0].path = '1eps')],
    ['a path with a space', (p) => (p.axes[0].path = 'eps ')],
    ['an empty list of values', (p) => (p.axes[0].values = [])],
    ['a value twice', (p) => (p.axes[0].values = [1, 1])],
    ['an object as a value', (p) => (p.axes[0].values = [{}])],
    ['null as a value', (p) => (p.axes[0].values = [null])],
    ['a named axis without levels', (p) => delete p.axes[1].levels],
    ['a named axis with a field besides name and levels', (p) => (p.axes[1].path = 'x')],
    ['a named axis name with a space', (p) => (p.axes[1].name = 'a b')],
    ['no levels at all', (p) => (p.axes[1].levels = {})],
    ['a level name with a space', (p) => (p.axes[1].levels = { 'a b': {} })],
    ['a level that is not an object of paths', (p) => (p.axes[1].levels = { a: 3 })],
    ['an empty plot list', (p) => (p.plot = [])],
    ['a plot metric twice', (p) => (p.plot = ['clean_acc', 'clean_acc'])],
    ['an empty plot metric', (p) => (p.plot = [''])],
    ['a plot metric that is not a string', (p) => (p.plot = [3])],
  ];
  for (const [what, breakIt] of broken) {
    it(`refuses ${what}`, () => {
      const p = valid();
      breakIt(p);
      expect(validate(p)).toBe(false);
    });
  }
});
