import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expandAssertions } from '../../src/claims/cells.ts';
import { expandPreconditions } from '../../src/claims/assess.ts';
import { SpecError } from '../../src/claims/errors.ts';
import { loadSpec } from '../../src/claims/load.ts';
import { applyOverrides, parseOverride } from '../../src/claims/overrides.ts';
import { checkSpec } from '../../src/claims/spec-files.ts';
import { experiments } from '../../src/experiments/registry.ts';
import type { ResultRecord } from '../../src/results/record-types.ts';
import { assertionsFor, requireTier } from '../../src/spec/claim.ts';
import { renderName } from '../../src/spec/name-template.ts';
import type { Tier } from '../../src/spec/names.ts';
import type { LoadedSpec } from '../../src/claims/spec.ts';

/** The names a run of `spec` at `tier` writes into its record (as src/claims/runner.ts plans them). */
function names(spec: LoadedSpec, tier: Tier) {
  const params = requireTier(spec, tier).params;
  const metrics = spec.kind.metricNames(params);
  return {
    assertions: expandAssertions(assertionsFor(spec.assertions, tier), metrics).map((a) => renderName(a.name, params, a)),
    preconditions: expandPreconditions(assertionsFor(spec.preconditions ?? [], tier), metrics).map((p) => renderName(p.name, params, p)),
  };
}

describe('names rendered from the parameters they test', () => {
  it('a parameter, a threshold in percent and in points', () => {
    const params = { evaluation: { eps: 12 }, training: { adversarial: { fraction: 0.5 } } };
    expect(renderName('BIM at ε = {evaluation.eps} at least {threshold|points} below FGSM', params, { threshold: 0.1 })).toBe('BIM at ε = 12 at least 10 points below FGSM');
    expect(renderName('clean accuracy above {threshold|%}, {training.adversarial.fraction|%} adversarial', params, { threshold: 0.15 })).toBe('clean accuracy above 15%, 50% adversarial');
    expect(renderName('{threshold|points} off', params, { threshold: 0.01 })).toBe('1 point off');
  });

  it('with --set evaluation.eps=12 the record\'s names say ε = 12', () => {
    const spec = applyOverrides(loadSpec('claims/iterative-beats-one-step.json'), 'fast', [parseOverride('evaluation.eps=12')]);
    expect(names(spec, 'fast').assertions).toEqual(['BIM accuracy at ε = 12 at least 10 points below FGSM accuracy']);
    expect(names(spec, 'fast').preconditions).toContain('FGSM moves the image by ε: mean L∞ perturbation between 5 and 6 (+1%) pixel units at ε = 12');
  });

  it('at the specs\' own parameters the names are those of the committed records, word for word', () => {
    const dir = 'docs/results/records';
    let checked = 0;
    for (const tier of readdirSync(dir)) {
      for (const file of readdirSync(join(dir, tier)).filter((f) => f.endsWith('.json'))) {
        const record = JSON.parse(readFileSync(join(dir, tier, file), 'utf8')) as ResultRecord;
        const spec = loadSpec(`claims/${record.claim.id}.json`);
        if (spec.version !== record.claim.version) continue;
        const rendered = names(spec, record.tier);
        expect(rendered.assertions, file).toEqual(record.claim.assertions.map((a) => a.name));
        if (record.claim.preconditions) expect(rendered.preconditions, file).toEqual(record.claim.preconditions.map((p) => p.name));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(5);
  });

  it('a placeholder that names no number in a tier\'s params is refused when the spec loads', () => {
    const json = JSON.parse(readFileSync('claims/mnist-no-leaking.json', 'utf8'));
    json.assertions[0].name = 'FGSM accuracy at ε = {evaluation.epss} not above clean accuracy';
    const err = (() => {
      try {
        checkSpec(json, 'claims/mnist-no-leaking.json', experiments);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(SpecError);
    expect((err as SpecError).problems.map((p) => `${p.pointer}: ${p.reason}`)).toContain("/assertions/0/name: {evaluation.epss} names no number in the fast tier's params (use a path under params, {threshold} or {tolerance})");
  });
});
