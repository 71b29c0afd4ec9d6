import { describe, expect, it } from 'vitest';
import { expandAssertions, expandCellAssertion, isCellAssertion, parseCellMetric, parseCondition, satisfies } from '../../src/claims/cells.ts';
import type { CellAssertion } from '../../src/spec/claim.ts';

/** A 2 × 3 grid (fraction × eps) with two per-cell metrics, as a sweep names them. */
const names = ['0.5', '1'].flatMap((f) => ['4', '8', '16'].flatMap((e) => ['leak_gap_fgsm', 'clean_acc'].map((m) => `${m}{fraction=${f},eps=${e}}`)));

const every = (where: CellAssertion['inEveryCellWith'], extra: Partial<CellAssertion> = {}): CellAssertion => ({
  name: 'leaks',
  inEveryCellWith: where,
  metric: 'leak_gap_fgsm',
  op: 'above',
  threshold: 0,
  tolerance: 0,
  ...extra,
});

describe('cell metric names', () => {
  it('split into a base metric and its coordinates; plain names are not cells', () => {
    const c = parseCellMetric('leak_gap_fgsm{fraction=1,eps=16}')!;
    expect(c.base).toBe('leak_gap_fgsm');
    expect([...c.coords]).toEqual([['fraction', '1'], ['eps', '16']]);
    expect(parseCellMetric('leak_gap_fgsm')).toBeUndefined();
    expect(parseCellMetric('x{novalue}')).toBeUndefined();
  });
});

describe('cell conditions read as written', () => {
  it.each([
    ['16', '>= 16', true],
    ['8', '>= 16', false],
    ['8', '< 16', true],
    ['16', '<=16', true],
    ['16', '> 16', false],
    ['1', 1, true],
    ['1.0', 1, true],
    ['0.5', 1, false],
    ['half-normal', 'half-normal', true],
    ['fixed', '!= half-normal', true],
    ['fixed', '>= 3', false],
    ['true', true, true],
  ] as const)('%s satisfies %s: %s', (actual, cond, expected) => {
    expect(satisfies(actual, cond)).toBe(expected);
  });

  it('a bare value is equality', () => {
    expect(parseCondition(4)).toEqual({ op: '=', value: '4' });
    expect(parseCondition('write-up')).toEqual({ op: '=', value: 'write-up' });
  });
});

describe('“in every cell with …” becomes one plain assertion per matching cell', () => {
  it('selects by every condition and keeps op, threshold, tolerance and tiers', () => {
    const { assertions, problems } = expandCellAssertion(every({ fraction: 1, eps: '>= 8' }, { tolerance: 0.01, tiers: ['fast'] }), names);
    expect(problems).toEqual([]);
    expect(assertions).toEqual([
      { name: 'leaks — {fraction=1,eps=8}', metric: 'leak_gap_fgsm{fraction=1,eps=8}', op: 'above', threshold: 0, tolerance: 0.01, tiers: ['fast'] },
      { name: 'leaks — {fraction=1,eps=16}', metric: 'leak_gap_fgsm{fraction=1,eps=16}', op: 'above', threshold: 0, tolerance: 0.01, tiers: ['fast'] },
    ]);
  });

  it('a minus is taken in the same cell', () => {
    const { assertions } = expandCellAssertion(every({ eps: 4, fraction: 0.5 }, { metric: 'clean_acc', minus: 'leak_gap_fgsm' }), names);
    expect(assertions).toEqual([expect.objectContaining({ metric: 'clean_acc{fraction=0.5,eps=4}', minus: 'leak_gap_fgsm{fraction=0.5,eps=4}' })]);
  });

  it('names what is wrong: an unknown axis, an unknown metric, no matching cell, no cells at all', () => {
    expect(expandCellAssertion(every({ epsilon: 4 }), names).problems).toEqual([{ pointer: '/inEveryCellWith/epsilon', reason: 'no axis "epsilon"; the axes are: fraction, eps' }]);
    expect(expandCellAssertion(every({ eps: 4 }, { metric: 'gap' }), names).problems[0]).toMatchObject({ pointer: '/metric', reason: expect.stringContaining('leak_gap_fgsm, clean_acc') });
    expect(expandCellAssertion(every({ eps: '> 16' }), names).problems).toEqual([{ pointer: '/inEveryCellWith', reason: 'no cell matches these conditions' }]);
    expect(expandCellAssertion(every({ eps: 4 }), ['clean_acc']).problems[0].reason).toMatch(/no per-cell metrics/);
  });
});

describe('“rises with” compares every two neighbouring cells along the axis', () => {
  it('in numeric order, within each group equal on the other axes', () => {
    const { assertions } = expandCellAssertion({ name: 'gap rises with ε', metric: 'leak_gap_fgsm', risesWith: 'eps', tolerance: 0 }, names);
    expect(assertions.map((a) => [a.name, a.metric, a.minus, a.op, a.threshold])).toEqual([
      ['gap rises with ε — {fraction=0.5}: eps 4 → 8', 'leak_gap_fgsm{fraction=0.5,eps=8}', 'leak_gap_fgsm{fraction=0.5,eps=4}', 'above', 0],
      ['gap rises with ε — {fraction=0.5}: eps 8 → 16', 'leak_gap_fgsm{fraction=0.5,eps=16}', 'leak_gap_fgsm{fraction=0.5,eps=8}', 'above', 0],
      ['gap rises with ε — {fraction=1}: eps 4 → 8', 'leak_gap_fgsm{fraction=1,eps=8}', 'leak_gap_fgsm{fraction=1,eps=4}', 'above', 0],
      ['gap rises with ε — {fraction=1}: eps 8 → 16', 'leak_gap_fgsm{fraction=1,eps=16}', 'leak_gap_fgsm{fraction=1,eps=8}', 'above', 0],
    ]);
  });

  it('numeric levels compare in numeric order whatever order the grid lists them in', () => {
    const shuffled = ['16', '4', '8'].map((e) => `clean_acc{eps=${e}}`);
    const { assertions } = expandCellAssertion({ name: 'r', metric: 'clean_acc', risesWith: 'eps', tolerance: 0 }, shuffled);
    expect(assertions.map((a) => [a.minus, a.metric])).toEqual([
      ['clean_acc{eps=4}', 'clean_acc{eps=8}'],
      ['clean_acc{eps=8}', 'clean_acc{eps=16}'],
    ]);
  });

  it('“falls with” asks for a fall; a cell filter narrows the groups', () => {
    const { assertions } = expandCellAssertion({ name: 'f', metric: 'clean_acc', fallsWith: 'fraction', inEveryCellWith: { eps: 16 }, tolerance: 0.02 }, names);
    expect(assertions).toEqual([{ name: 'f — {eps=16}: fraction 0.5 → 1', metric: 'clean_acc{fraction=1,eps=16}', minus: 'clean_acc{fraction=0.5,eps=16}', op: 'below', threshold: 0, tolerance: 0.02 }]);
  });

  it('an axis with one matching value has no neighbours to compare', () => {
    expect(expandCellAssertion({ name: 'r', metric: 'clean_acc', risesWith: 'eps', inEveryCellWith: { eps: 8 }, tolerance: 0 }, names).problems).toEqual([
      { pointer: '/risesWith', reason: 'no two matching cells differ only in "eps"' },
    ]);
  });
});

describe('expandAssertions', () => {
  it('leaves plain assertions as they are, and throws on a cell assertion that cannot expand', () => {
    const plain = { name: 'p', metric: 'clean_acc{fraction=1,eps=4}', op: 'above' as const, threshold: 0, tolerance: 0 };
    expect(expandAssertions([plain, every({ fraction: 0.5, eps: 4 })], names)).toEqual([plain, expect.objectContaining({ metric: 'leak_gap_fgsm{fraction=0.5,eps=4}' })]);
    expect(() => expandAssertions([every({ nope: 1 })], names)).toThrow(/assertion "leaks": \/inEveryCellWith\/nope/);
  });
});

describe('cell names and conditions, at their edges', () => {
  it('a cell name is the whole name: text around it, an empty axis or a brace in the base is not a cell', () => {
    expect(parseCellMetric('x}y{a=1}')).toBeUndefined();
    expect(parseCellMetric('x{a=1}z')).toBeUndefined();
    expect(parseCellMetric('x{=1}')).toBeUndefined();
    expect(parseCellMetric('x{a=}')).toMatchObject({ base: 'x', id: 'a=' });
  });

  it('a comparator counts only at the start; text before it makes the whole string a value', () => {
    expect(parseCondition('a >= 3')).toEqual({ op: '=', value: 'a >= 3' });
    expect(parseCondition('  >= 3  ')).toEqual({ op: '>=', value: '3' });
  });

  // Each order operator below, at and above the value: an operator swapped for another, or a
  // comparison made strict or loose, changes one row.
  it.each([
    ['3', '>= 4', false], ['4', '>= 4', true], ['5', '>= 4', true],
    ['3', '> 4', false], ['4', '> 4', false], ['5', '> 4', true],
    ['3', '<= 4', true], ['4', '<= 4', true], ['5', '<= 4', false],
    ['3', '< 4', true], ['4', '< 4', false], ['5', '< 4', false],
    ['4', '!= 4.0', false], ['4', '!= 5', true],
  ] as const)('%s satisfies %s: %s', (actual, cond, expected) => {
    expect(satisfies(actual, cond)).toBe(expected);
  });

  it('blank or infinite text is not a number: it equals nothing numeric and orders against nothing', () => {
    // Number('') and Number(' ') are 0, Number('Infinity') is Infinity: numeric() must refuse them.
    expect(satisfies('', 0)).toBe(false);
    expect(satisfies(' ', 0)).toBe(false);
    expect(satisfies('', '>= 0')).toBe(false);
    expect(satisfies('Infinity', '>= 3')).toBe(false);
    expect(satisfies('0', ' ')).toBe(false);
  });

  it('an assertion with only risesWith or fallsWith is a cell assertion', () => {
    expect(isCellAssertion({ name: 'r', metric: 'm', risesWith: 'eps', tolerance: 0 } as CellAssertion)).toBe(true);
    expect(isCellAssertion({ name: 'f', metric: 'm', fallsWith: 'eps', tolerance: 0 } as CellAssertion)).toBe(true);
    expect(isCellAssertion({ name: 'p', metric: 'm', op: 'above', threshold: 0, tolerance: 0 })).toBe(false);
  });
});

describe('cell expansion, what it returns beside problems', () => {
  it('a problem comes with no assertions, and says exactly what is wrong', () => {
    expect(expandCellAssertion(every({ eps: 4 }), ['clean_acc'])).toEqual({
      assertions: [],
      problems: [{ pointer: '', reason: 'the experiment produces no per-cell metrics (name{axis=value}); cell assertions need a sweep' }],
    });
    expect(expandCellAssertion(every({ epsilon: 4 }), names).assertions).toEqual([]);
    expect(expandCellAssertion(every({ eps: '> 16' }), names).assertions).toEqual([]);
    expect(expandCellAssertion({ name: 'r', metric: 'clean_acc', risesWith: 'eps', inEveryCellWith: { eps: 8 }, tolerance: 0 }, names).assertions).toEqual([]);
  });

  it('an unknown rises/falls axis is named under its own field', () => {
    expect(expandCellAssertion({ name: 'f', metric: 'clean_acc', fallsWith: 'epsilon', tolerance: 0 }, names)).toEqual({
      assertions: [],
      problems: [{ pointer: '/fallsWith', reason: 'no axis "epsilon"; the axes are: fraction, eps' }],
    });
    expect(expandCellAssertion({ name: 'r', metric: 'clean_acc', risesWith: 'epsilon', tolerance: 0 }, names).problems).toEqual([
      { pointer: '/risesWith', reason: 'no axis "epsilon"; the axes are: fraction, eps' },
    ]);
  });

  it('only cells that have the metric (and the minus) are selected; the threshold is kept', () => {
    const partial = ['a{eps=4}', 'a{eps=8}', 'b{eps=4}'];
    expect(expandCellAssertion(every({}, { metric: 'b', threshold: 0.05 }), partial).assertions).toEqual([
      { name: 'leaks — {eps=4}', metric: 'b{eps=4}', op: 'above', threshold: 0.05, tolerance: 0 },
    ]);
    expect(expandCellAssertion(every({}, { metric: 'a', minus: 'b' }), partial).assertions.map((a) => a.metric)).toEqual(['a{eps=4}']);
  });

  it('with three axes a group names both other axes; with one axis a pair has no group', () => {
    const three = ['1', '2'].flatMap((x) => ['p', 'q'].flatMap((y) => `m{x=${x},y=${y},z=1}`));
    const { assertions } = expandCellAssertion({ name: 'r', metric: 'm', risesWith: 'x', threshold: 0.1, tolerance: 0 }, three);
    expect(assertions.map((a) => [a.name, a.threshold])).toEqual([
      ['r — {y=p,z=1}: x 1 → 2', 0.1],
      ['r — {y=q,z=1}: x 1 → 2', 0.1],
    ]);
    const one = expandCellAssertion({ name: 'r', metric: 'clean_acc', risesWith: 'eps', tolerance: 0 }, ['clean_acc{eps=4}', 'clean_acc{eps=8}']);
    expect(one.assertions.map((a) => a.name)).toEqual(['r — eps 4 → 8']);
  });

  it('named levels keep the grid order, even when some of them look like numbers', () => {
    // Sorted numerically these would come out 2, 10, x.
    const mixed = ['10', '2', 'x'].map((l) => `m{level=${l}}`);
    const { assertions } = expandCellAssertion({ name: 'r', metric: 'm', risesWith: 'level', tolerance: 0 }, mixed);
    expect(assertions.map((a) => [a.minus, a.metric])).toEqual([
      ['m{level=10}', 'm{level=2}'],
      ['m{level=2}', 'm{level=x}'],
    ]);
  });

  it('expandAssertions names every problem of an assertion, separated by "; "', () => {
    expect(() => expandAssertions([every({ nope: 1 }, { metric: 'gap' })], names)).toThrow(
      'assertion "leaks": /inEveryCellWith/nope: no axis "nope"; the axes are: fraction, eps; /metric: "gap" is not a per-cell metric; the cells have: leak_gap_fgsm, clean_acc',
    );
  });
});
