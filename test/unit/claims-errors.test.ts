import { describe, expect, it } from 'vitest';
import { ajvProblems, MissingTierError, SpecError, UnknownClaimError } from '../../src/claims/errors.ts';

describe('spec errors', () => {
  it('a SpecError is one line per problem: file, pointer (or "(document)"), reason', () => {
    const e = new SpecError([{ file: 'a.json', pointer: '/x', reason: 'bad' }, { file: 'b.json', pointer: '', reason: 'worse' }]);
    expect(e.message).toBe('a.json: /x: bad\nb.json: (document): worse');
    expect(e.name).toBe('SpecError');
  });

  it('an unknown claim names the file it looked for and the known claims, or "(none)"', () => {
    const some = new UnknownClaimError('x', ['a', 'b'], 'claims');
    expect(some.message).toBe('unknown claim "x" (no claims/x.json); known claims: a, b');
    expect(some.name).toBe('UnknownClaimError');
    expect(new UnknownClaimError('x', [], 'claims').message).toBe('unknown claim "x" (no claims/x.json); known claims: (none)');
  });

  it('ajv’s enum and const errors become "must be one of …" and "must be …"', () => {
    const problems = ajvProblems('f.json', [
      { keyword: 'enum', instancePath: '/op', schemaPath: '', params: { allowedValues: ['above', 'below'] } },
      { keyword: 'const', instancePath: '/v', schemaPath: '', params: { allowedValue: 2 } },
    ]);
    expect(problems).toEqual([
      { file: 'f.json', pointer: '/op', reason: 'must be one of "above", "below"' },
      { file: 'f.json', pointer: '/v', reason: 'must be 2' },
    ]);
  });
});

describe('a claim named without the tier asked for', () => {
  it('names each lacking claim with its tiers, the claims that have the tier, and a tier to use', () => {
    const e = new MissingTierError('gpu', [{ id: 'a', tiers: ['fast', 'full'] }, { id: 'b', tiers: ['full'] }], ['c', 'd']);
    expect(e.message).toBe('no gpu tier in a (has: fast, full); b (has: full); claims with one: c, d — name those, or use --tier fast');
    expect(e.name).toBe('MissingTierError');
    expect(new MissingTierError('gpu', [{ id: 'b', tiers: ['full'] }], []).message).toBe('no gpu tier in b (has: full); claims with one: (none) — name those, or use --tier full');
    expect(new MissingTierError('gpu', [], []).message).toBe('no gpu tier in ; claims with one: (none) — name those, or use --tier fast');
  });
});
