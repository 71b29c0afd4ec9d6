import { describe, expect, it } from 'vitest';
import { SpecError } from '../../src/claims/errors.ts';
import { loadSpec } from '../../src/claims/load.ts';
import { applyOverrides, OverrideError, OverrideValueError, parseOverride } from '../../src/claims/overrides.ts';
import { checkSpec } from '../../src/claims/spec-files.ts';
import { experiments } from '../../src/experiments/registry.ts';

const spec = () => loadSpec('claims/cifar10-label-leaking.json');

describe('--set PATH=VALUE', () => {
  it('reads the value as JSON when it is JSON, else as a string', () => {
    expect(parseOverride('training.epochs=5')).toEqual({ path: ['training', 'epochs'], value: 5, text: 'training.epochs=5' });
    expect(parseOverride('training.lr.milestones=[3,4]').value).toEqual([3, 4]);
    expect(parseOverride('control=false').value).toBe(false);
    expect(parseOverride('dataset=mnist').value).toBe('mnist');
  });

  it('refuses text without a path', () => {
    expect(() => parseOverride('epochs')).toThrow(OverrideError);
    expect(() => parseOverride('=3')).toThrow(/PATH=VALUE/);
    expect(() => parseOverride('training..epochs=3')).toThrow(/not a parameter path/);
    expect(() => parseOverride('__proto__.x=1')).toThrow(/not a parameter path/);
  });

  it('changes only the named tier, and the changed spec gets its own hash', () => {
    const s = spec();
    const o = applyOverrides(s, 'full', [parseOverride('model.depth=20'), parseOverride('training.epochs=5')]);
    expect(o.tiers.full.params).toMatchObject({ model: { kind: 'resnet', depth: 20 }, training: { epochs: 5, batchSize: 128 } });
    expect(o.tiers.fast).toEqual(s.tiers.fast);
    expect(o.hash).not.toBe(s.hash);
    expect(s.tiers.full.params).toMatchObject({ model: { depth: 110 }, training: { epochs: 164 } });
  });

  it('checks the result like a spec file: a misspelt key or a bad value names its JSON pointer', () => {
    const problems = (sets: string[]) => {
      try {
        applyOverrides(spec(), 'full', sets.map(parseOverride));
      } catch (e) {
        expect(e).toBeInstanceOf(SpecError);
        return (e as SpecError).problems.map((p) => `${p.file} ${p.pointer}: ${p.reason}`).join('\n');
      }
      throw new Error('expected the overrides to be refused');
    };
    expect(problems(['training.epoch=5'])).toMatch(/claims\/cifar10-label-leaking\.json \/tiers\/full\/params\/training\/epoch: unknown field/);
    expect(problems(['model.depth="deep"'])).toMatch(/\/tiers\/full\/params\/model\/depth: must be integer/);
    expect(problems(['training.batchSize=0'])).toMatch(/\/tiers\/full\/params\/training\/batchSize/);
  });
});

describe('a --set value the schema refuses', () => {
  const message = (sets: string[], claim = 'claims/mnist-no-leaking.json', tier: 'fast' | 'full' = 'fast') => {
    try {
      applyOverrides(loadSpec(claim), tier, sets.map(parseOverride));
    } catch (e) {
      expect(e).toBeInstanceOf(OverrideValueError);
      return (e as Error).message;
    }
    throw new Error('expected the overrides to be refused');
  };

  it('is blamed on the --set, not on the spec file', () => {
    expect(message(['training.epochs=six'])).toBe("--set training.epochs=six: must be integer (in mnist-no-leaking's fast tier)");
    expect(message(['training.epochs=6', 'training.epoch=5'])).toBe("--set training.epoch=5: unknown field (not in the schema) (in mnist-no-leaking's fast tier)");
    expect(message(['training.epochs=six'])).not.toContain('.json');
  });

  it('a value that fits no branch of a oneOf is one line of what it may be', () => {
    expect(message(['training.adversarial=5'])).toBe("--set training.adversarial=5: must be null or object (in mnist-no-leaking's fast tier)");
  });

  it('two problems at one place that are not the branches of a oneOf are both said, apart', () => {
    expect(message(['training.epochs=-1.5'])).toBe("--set training.epochs=-1.5: must be integer; must be >= 1 (in mnist-no-leaking's fast tier)");
  });

  it('is blamed on the last --set that wrote the place, and never on a --set beside it', () => {
    expect(message(['training.epochs=2', 'training.epochs=x'])).toBe("--set training.epochs=x: must be integer (in mnist-no-leaking's fast tier)");
    expect(message(['training.epochs=x', 'training.momentum=0.9'])).toBe("--set training.epochs=x: must be integer (in mnist-no-leaking's fast tier)");
  });

  it("a problem outside the params (an assertion's metric the changed evaluation no longer makes) names every --set and the JSON pointer, a line each", () => {
    const lines = message(['evaluation.attacks=["bim"]', 'training.epochs=3']).split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^--set evaluation\.attacks=\["bim"\] --set training\.epochs=3: \/assertions\/0\/metric: metric "adv_acc_fgsm" is not produced/);
    expect(lines[1]).toMatch(/^--set evaluation\.attacks=\["bim"\] --set training\.epochs=3: \/preconditions\/2\/metric: metric "adv_linf_fgsm" is not produced/);
  });

  it('a problem in the params at a place no --set wrote (a rule across fields) names every --set and the place', () => {
    const { file, hash: _h, kind: _k, ...content } = loadSpec('claims/mnist-no-leaking.json');
    const json = structuredClone(content);
    (json.tiers.fast!.params as { evaluation: { curveSubset: number } }).evaluation.curveSubset = 0;
    const noCurve = checkSpec(json, file, experiments);
    expect(() => applyOverrides(noCurve, 'fast', [parseOverride('epochMetrics=true')])).toThrow(
      "--set epochMetrics=true: evaluation.curveSubset: epochMetrics reads the per-epoch curve: make curveSubset > 0 (in mnist-no-leaking's fast tier)",
    );
  });

  it('its error is an OverrideValueError by name', () => {
    expect(() => applyOverrides(loadSpec('claims/mnist-no-leaking.json'), 'fast', [parseOverride('training.epochs=six')])).toThrow(expect.objectContaining({ name: 'OverrideValueError' }));
  });

  it("a kind's own failure while checking is passed on as it is, not dressed as a --set problem", () => {
    const kind = experiments['adversarial-training']!;
    const failing = { ...experiments, 'adversarial-training': { ...kind, problems: () => { throw new RangeError('the kind broke'); } } };
    const spec = loadSpec('claims/mnist-no-leaking.json');
    expect(() => applyOverrides(spec, 'fast', [parseOverride('training.epochs=3')], failing as typeof experiments)).toThrow(new RangeError('the kind broke'));
  });

  it('a deeper place is named below the --set that wrote it', () => {
    expect(message(['training.lr={"base":"x","milestones":[5],"gamma":0.1}'])).toBe("--set training.lr={\"base\":\"x\",\"milestones\":[5],\"gamma\":0.1}: training.lr.base: must be number (in mnist-no-leaking's fast tier)");
  });
});

describe('--set’s guards', () => {
  it('refuses every prototype key, naming the path as written', () => {
    for (const key of ['__proto__', 'constructor', 'prototype']) {
      expect(() => parseOverride(`training.${key}.x=1`)).toThrow(`--set: 'training.${key}.x' is not a parameter path (keys separated by '.')`);
    }
  });

  it('its error is an OverrideError by name', () => {
    expect(() => parseOverride('epochs')).toThrow(expect.objectContaining({ name: 'OverrideError' }));
  });

  it('no overrides: the spec itself, not a re-checked copy', () => {
    const s = spec();
    expect(applyOverrides(s, 'full', [])).toBe(s);
  });
});
