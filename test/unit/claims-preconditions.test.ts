import { describe, expect, it } from 'vitest';
import { assess, checkPrecondition, expandPreconditions } from '../../src/claims/assess.ts';
import { checkSpec } from '../../src/claims/spec-files.ts';
import { SpecError } from '../../src/claims/errors.ts';
import { experiments } from '../../src/experiments/registry.ts';
import { checkRecord, readRecord } from '../../src/results/record.ts';
import type { SeedResult } from '../../src/results/record-types.ts';
import { renderReport } from '../../src/report/markdown.ts';
import type { Assertion, PlainPrecondition, Precondition } from '../../src/spec/claim.ts';

/** Preconditions: what a run must show, seed by seed, before its assertions count. */

const seed = (s: number, metrics: Record<string, number>, status: 'ok' | 'error' = 'ok'): SeedResult => ({
  seed: s,
  status,
  metrics,
  curves: {},
  wallSeconds: 1,
  ...(status === 'error' ? { error: { name: 'Error', message: 'boom' } } : {}),
  startedAt: '2026-12-06T00:00:00.000Z',
  finishedAt: '2026-12-06T00:00:01.000Z',
});

const gapBelow: Assertion = { name: 'no leak', metric: 'adv_acc', minus: 'clean_acc', op: 'notAbove', threshold: 0, tolerance: 0 };
const learned: PlainPrecondition = { name: 'learned', metric: 'clean_acc', op: 'above', threshold: 0.15, tolerance: 0 };

describe('checkPrecondition', () => {
  it('holds when every finished seed lies in the region, and names the seeds that do not', () => {
    const outcomes = [seed(1, { clean_acc: 0.3 }), seed(2, { clean_acc: 0.1 }), seed(3, { clean_acc: 0.15 })];
    const r = checkPrecondition(learned, outcomes);
    // 0.15 is on the open bound of "> 0.15": outside.
    expect(r).toMatchObject({ holds: false, seeds: [1, 2, 3], values: [0.3, 0.1, 0.15], failedSeeds: [2, 3], region: '> 0.15' });
    expect(r.summary).toContain('fails in seeds 2, 3');
  });

  it('a finished seed without the metric fails it (a run that cannot show the precondition is not evidence)', () => {
    const r = checkPrecondition(learned, [seed(1, { clean_acc: 0.3 }), seed(2, { other: 1 })]);
    expect(r).toMatchObject({ holds: false, values: [0.3, null], failedSeeds: [2] });
  });

  it('reads metric − minus and widens `within` by the tolerance', () => {
    const p: PlainPrecondition = { name: 'moves by ε', metric: 'linf', op: 'within', threshold: 6, tolerance: 0.06 };
    expect(checkPrecondition(p, [seed(1, { linf: 5.99998 }), seed(2, { linf: 6.06 })]).holds).toBe(true);
    expect(checkPrecondition(p, [seed(1, { linf: 0 })]).failedSeeds).toEqual([1]);
    const rise: PlainPrecondition = { name: 'rises', metric: 'loss_eps_1', minus: 'clean_loss', op: 'above', threshold: 0, tolerance: 0 };
    expect(checkPrecondition(rise, [seed(1, { loss_eps_1: 1.02, clean_loss: 1 })]).holds).toBe(true);
    expect(checkPrecondition(rise, [seed(1, { loss_eps_1: 1, clean_loss: 1 })]).holds).toBe(false);
  });
});

describe('assess with preconditions', () => {
  const healthy = [seed(1, { clean_acc: 0.9, adv_acc: 0.8 }), seed(2, { clean_acc: 0.92, adv_acc: 0.85 }), seed(3, { clean_acc: 0.91, adv_acc: 0.83 })];

  it('the verdict is the assertions’ when every precondition holds', () => {
    const r = assess([gapBelow], healthy, [learned]);
    expect(r.verdict).toBe('reproduced');
    expect(r.preconditions?.map((p) => p.holds)).toEqual([true]);
  });

  it('one seed failing a precondition makes the verdict error, whatever the assertions say', () => {
    const outcomes = healthy.map((o) => (o.seed === 2 ? seed(2, { clean_acc: 0.1, adv_acc: 0.05 }) : o));
    expect(assess([gapBelow], outcomes).verdict).toBe('reproduced'); // without it, the chance seed passes
    const r = assess([gapBelow], outcomes, [learned]);
    expect(r.verdict).toBe('error');
    expect(r.preconditions?.[0].failedSeeds).toEqual([2]);
  });

  it('an errored seed makes the verdict error even when its asserted metrics and the other seeds agree', () => {
    // As the runner keeps a NonFiniteError seed: its finite metrics stay, its status is error.
    const outcomes = [...healthy.slice(0, 2), seed(3, healthy[2].metrics, 'error')];
    expect(assess([gapBelow], outcomes, [learned]).verdict).toBe('error');
    expect(assess([gapBelow], outcomes).verdict).toBe('error');
  });

  it('without preconditions the result has no preconditions field (records made before them stay as they were)', () => {
    expect('preconditions' in assess([gapBelow], healthy)).toBe(false);
  });
});

describe('preconditions over the cells of a sweep', () => {
  const names = ['clean_acc{fraction=0.5,eps=a}', 'clean_acc{fraction=1,eps=a}', 'adv_acc{fraction=1,eps=a}'];

  it('inEveryCellWith {} checks every cell; conditions select cells', () => {
    const every: Precondition = { name: 'learned', metric: 'clean_acc', op: 'above', threshold: 0.15, inEveryCellWith: {} };
    expect(expandPreconditions([every], names).map((p) => [p.name, p.metric, p.tolerance])).toEqual([
      ['learned — {fraction=0.5,eps=a}', 'clean_acc{fraction=0.5,eps=a}', 0],
      ['learned — {fraction=1,eps=a}', 'clean_acc{fraction=1,eps=a}', 0],
    ]);
    const some: Precondition = { ...every, inEveryCellWith: { fraction: 1 } };
    expect(expandPreconditions([some], names).map((p) => p.metric)).toEqual(['clean_acc{fraction=1,eps=a}']);
  });

  it('a collapsed cell makes the sweep’s verdict error', () => {
    const pre = expandPreconditions([{ name: 'learned', metric: 'clean_acc', op: 'above', threshold: 0.15, inEveryCellWith: {} }], names);
    const outcomes = [1, 2].map((s) => seed(s, { 'clean_acc{fraction=0.5,eps=a}': 0.3, 'clean_acc{fraction=1,eps=a}': 0.1, 'adv_acc{fraction=1,eps=a}': 0.1 }));
    const r = assess([{ ...gapBelow, metric: 'adv_acc{fraction=1,eps=a}', minus: 'clean_acc{fraction=1,eps=a}' }], outcomes, pre);
    expect(r.verdict).toBe('error');
    expect(r.preconditions?.filter((p) => !p.holds).map((p) => p.name)).toEqual(['learned — {fraction=1,eps=a}']);
  });
});

describe('preconditions in a spec', () => {
  // The schema requires both tiers; each gets its own copy of the same small setting.
  const tier = () => ({
    seeds: [1],
    expected: 'reproduced',
    rationale: 'r',
    params: {
      dataset: 'mnist',
      model: { kind: 'mlp', hidden: [8] },
      training: { epochs: 1, batchSize: 8, lr: { base: 0.1, milestones: [], gamma: 1 }, momentum: 0, nesterov: false, weightDecay: 0 },
      evaluation: { eps: 6, attacks: ['fgsm'], batchSize: 8, curveSubset: 0 },
    },
  });
  const spec = (preconditions: unknown) => ({
    id: 'mnist-no-leaking',
    version: 1,
    title: 't',
    statement: 's',
    source: { writeUp: 'w' },
    writeUpFigure: { text: 'x' },
    experiment: 'adversarial-training',
    tiers: { fast: tier(), full: tier() },
    assertions: [gapBelow].map((a) => ({ ...a, metric: 'adv_acc_fgsm' })),
    preconditions,
  });
  const problems = (json: unknown): string[] => {
    try {
      checkSpec(json, 'claims/mnist-no-leaking.json', experiments);
      return [];
    } catch (e) {
      if (!(e instanceof SpecError)) throw e;
      return e.problems.map((p) => `${p.pointer}: ${p.reason}`);
    }
  };

  it('loads a spec whose preconditions name metrics the experiment produces, the new ones included', () => {
    const pre = [
      { name: 'learned', metric: 'clean_acc', op: 'above', threshold: 0.5 },
      { name: 'rises', metric: 'loss_eps_1', minus: 'clean_loss', op: 'above', threshold: 0 },
      { name: 'moves', metric: 'adv_linf_fgsm', op: 'within', threshold: 6, tolerance: 0.06 },
    ];
    expect(problems(spec(pre))).toEqual([]);
  });

  it('names an unknown metric, a missing op and a duplicate name by their pointers', () => {
    const found = problems(spec([{ name: 'a', metric: 'clean_accuracy', op: 'above', threshold: 0.5 }]));
    expect(found.join('\n')).toMatch(/\/preconditions\/0\/metric: metric "clean_accuracy" is not produced by "adversarial-training" at tier fast/);
    expect(problems(spec([{ name: 'a', metric: 'clean_acc', threshold: 0.5 }])).join('\n')).toMatch(/\/preconditions\/0.*op/);
    const dup = problems(spec([{ name: 'a', metric: 'clean_acc', op: 'above', threshold: 0.5 }, { name: 'a', metric: 'clean_loss', op: 'above', threshold: 0 }]));
    expect(dup.join('\n')).toMatch(/\/preconditions\/1\/name: duplicate precondition name "a"/);
  });
});

describe('preconditions in the record and the report', () => {
  it('a record carrying failed preconditions passes the record schema, and the report names what failed', () => {
    const base = readRecord(new URL('../../docs/results/records/fast/mnist-no-leaking.json', import.meta.url).pathname);
    const outcomes = base.outcomes.map((o) => (o.seed === 2 ? { ...o, metrics: { ...o.metrics, clean_acc: 0.1 } } : o));
    const pre: PlainPrecondition[] = [{ ...learned, threshold: 0.5, name: 'the model learned' }];
    const record = { ...base, claim: { ...base.claim, preconditions: pre }, outcomes, ...assess(base.claim.assertions, outcomes, pre) };
    expect(record.verdict).toBe('error');
    expect(() => checkRecord(JSON.parse(JSON.stringify(record)), 'r.json')).not.toThrow();
    const md = renderReport({ results: [{ record, files: ['r.json'], backends: [record.backend], warnings: [] }], plots: new Map(), plotDir: 'plots', sources: ['x'], generatedAt: new Date(0) });
    expect(md).toContain('Verdict: **✗ error: 1 precondition failed (expected reproduced)**, so the assertions below are not evidence:\n\n- ✗ the model learned (seed 2)\n');
    // Accuracies in %, the record's metric name beside the words.
    expect(md).toContain('| the model learned | clean accuracy <sub>`clean_acc`</sub> | &gt; 50% | 1: 94.8%, 2: 10.0% ✗, 3: 94.6% | **no** (seed 2) |');
    expect(md).toContain('✗ error: 1 precondition failed (expected reproduced)');
  });
});
