import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { beforeEach, describe, expect, it } from 'vitest';
import { compositeKind, type CompositeParams } from '../../src/experiments/composite.ts';
import type { RunContext } from '../../src/experiments/types.ts';
import type { ProgressSink } from '../../src/train/progress.ts';
import { fixed, fixedTraining as training } from '../fixtures-specs/fixed-kind.ts';
import { runs, standIn } from '../fixtures-specs/stand-in-kind.ts';

/**
 * The composite kind on kinds that train nothing: the stand-in, and `fixed` (its metric, curve
 * and throughput are its params), so every number the composite returns traces to its part.
 */

// Built before each test, not at import: a mutant that breaks building it fails tests rather than the file's collection.
let composite: ReturnType<typeof compositeKind>;
beforeEach(() => {
  composite = compositeKind([fixed, standIn]);
});
const quiet: ProgressSink = { start: () => {}, tick: () => {}, stop: () => {} };
const ctx = (seed: number) => ({ seed, progress: quiet, backend: { name: 'cpu' } }) as unknown as RunContext;
const part = (value: number, rate?: number) => ({ experiment: 'fixed', params: rate === undefined ? { value } : { value, rate } });

describe('the composite kind', () => {
  it('names each part’s metrics prefixed with the part’s name and a dot', () => {
    const p: CompositeParams = { parts: { a: part(1), 'b-2': { experiment: 'stand-in', params: { clean: 0.5, gap: 0, noise: 0 } } } };
    expect(composite.metricNames(p)).toEqual(['a.m', 'b-2.clean_acc', 'b-2.adv_acc_fgsm']);
  });

  it('runs each part with the claim’s context; metrics as part.metric, curves as part:curve, throughput the mean of the parts that trained', async () => {
    runs.length = 0;
    const p: CompositeParams = { parts: { a: part(1, 100), b: part(2, 300), c: part(3), s: { experiment: 'stand-in', params: { clean: 0.5, gap: 0.25, noise: 0 } } } };
    const out = await composite.run(p, ctx(7));
    // The stand-in with no noise: clean 0.5 and FGSM 0.5 + 0.25, at 1000 images a second.
    expect(out.metrics).toEqual({ 'a.m': 1, 'b.m': 2, 'c.m': 3, 's.clean_acc': 0.5, 's.adv_acc_fgsm': 0.75 });
    expect(Object.keys(out.curves)).toEqual(['a:epochs', 'b:epochs', 'c:epochs', 's:epochs']);
    expect(out.curves['b:epochs']).toEqual([{ epoch: 1, trainLoss: 2 }]);
    expect(out.imagesPerSecond).toBe((100 + 300 + 1000) / 3);
    expect(runs.map((r) => r.seed)).toEqual([7]);
  });

  it('has no throughput when no part trained', async () => {
    const out = await composite.run({ parts: { a: part(1), b: part(2) } }, ctx(1));
    expect(out.imagesPerSecond).toBeUndefined();
  });

  it('plans every part’s trainings with the part’s name before each role, or nothing when a part cannot say', () => {
    expect(composite.trainings!({ parts: { a: part(60), b: part(30) } })).toEqual([
      { role: 'a.main', dataset: 'mnist', trainSubset: 60, model: { kind: 'mlp', hidden: [] }, training },
      { role: 'b.main', dataset: 'mnist', trainSubset: 30, model: { kind: 'mlp', hidden: [] }, training },
    ]);
    // A part whose kind cannot plan its params (trainings() says undefined), and the stand-in, which plans nothing:
    // the estimate would leave their training out, so there is none.
    expect(composite.trainings!({ parts: { a: part(60), b: part(-1) } })).toBeUndefined();
    expect(composite.name).toBe('composite');
    expect(composite.trainings!({ parts: { a: part(60), s: { experiment: 'stand-in', params: { clean: 0.5, gap: 0, noise: 0 } } } })).toBeUndefined();
  });

  it('refuses a part of a kind it was not made with, naming the kinds it knows', () => {
    expect(() => composite.metricNames({ parts: { a: { experiment: 'nope', params: {} } } })).toThrow("composite: unknown experiment kind 'nope' (known: fixed, stand-in)");
  });

  describe('its params schema', () => {
    // Compiled in each test, not while the file is collected: a mutant that breaks the schema must fail a test
    // (StrykerJS's vitest runner counts a file that fails to collect as 0 tests run, and the mutant as survived).
    let validate: ValidateFunction;
    beforeEach(() => {
      validate = new Ajv2020({ strict: true, allErrors: true }).compile(composite.paramsSchema);
    });
    const valid = { parts: { a: part(1, 10), 'b-2': { experiment: 'stand-in', params: { clean: 0.5, gap: 0, noise: 0 } } } };

    it('admits parts of each kind it was made with, named in lower case with digits and -', () => {
      expect(validate(valid), JSON.stringify(validate.errors)).toBe(true);
    });

    const broken: [string, unknown][] = [
      ['no parts', {}],
      ['an empty set of parts', { parts: {} }],
      ['a field besides the parts', { ...valid, note: 'x' }],
      ['a part name with a capital', { parts: { A: part(1) } }],
      ['a part name starting with a digit', { parts: { '1a': part(1) } }],
      ['a part name with _', { parts: { a_b: part(1) } }],
      ['a part of an unknown kind', { parts: { a: { experiment: 'nope', params: { value: 1 } } } }],
      ['a part whose params are another kind’s', { parts: { a: { experiment: 'stand-in', params: { value: 1 } } } }],
      ['a part whose params its kind refuses', { parts: { a: { experiment: 'fixed', params: { value: 'one' } } } }],
      ['a part without params', { parts: { a: { experiment: 'fixed' } } }],
      ['a part without its kind', { parts: { a: { params: { value: 1 } } } }],
      ['a part with a field besides kind and params', { parts: { a: { ...part(1), note: 'x' } } }],
    ];
    for (const [what, params] of broken) {
      it(`refuses ${what}`, () => {
        expect(validate(params)).toBe(false);
      });
    }
  });
});
