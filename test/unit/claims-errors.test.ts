import { describe, expect, it } from 'vitest';
import { ajvProblems, SpecError, UnknownClaimError } from '../../src/claims/errors.ts';

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
