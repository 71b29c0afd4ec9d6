import { Ajv2020 } from 'ajv/dist/2020.js';
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

describe('ajv errors as problems, without the noise of rejected branches', () => {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  const model = {
    oneOf: [
      { type: 'object', required: ['kind'], properties: { kind: { const: 'mlp' }, hidden: { type: 'array', items: { type: 'integer' } } } },
      { type: 'object', required: ['kind'], properties: { kind: { const: 'cnn' }, width: { type: 'integer' } } },
    ],
  };
  const validate = ajv.compile({ type: 'object', properties: { model, other: { type: 'integer' } } });
  const problemsFor = (data: unknown) => {
    expect(validate(data)).toBe(false);
    return ajvProblems('f.json', validate.errors, '/p');
  };

  it('a oneOf told apart by its kind reports only the branch of that kind, and errors outside it', () => {
    expect(problemsFor({ model: { kind: 'mlp', hidden: [1.5] }, other: 'x' })).toEqual([
      { file: 'f.json', pointer: '/p/model/hidden/0', reason: 'must be integer' },
      { file: 'f.json', pointer: '/p/other', reason: 'must be integer' },
    ]);
  });

  it('a kind no branch accepts keeps every error, the oneOf\'s own included', () => {
    const problems = problemsFor({ model: { kind: 'rnn' } });
    expect(problems).toContainEqual({ file: 'f.json', pointer: '/p/model', reason: 'must match exactly one schema in oneOf' });
    expect(problems.filter((p) => p.pointer === '/p/model/kind')).toHaveLength(2);
  });

  it('an `if` failure is left out: the branch\'s own errors say what to fix; no errors, no problems', () => {
    const cond = ajv.compile({ type: 'object', if: { properties: { a: { const: 1 } }, required: ['a'] }, then: { properties: { b: true }, required: ['b'] } });
    expect(cond({ a: 1 })).toBe(false);
    expect(cond.errors!.map((e) => e.keyword).sort()).toEqual(['if', 'required']);
    expect(ajvProblems('f.json', cond.errors)).toEqual([{ file: 'f.json', pointer: '/b', reason: 'required field is missing' }]);
    expect(ajvProblems('f.json', null)).toEqual([]);
  });

  it('a branch is rejected by a wrong kind even when other fields of it are wrong too; the accepted branch\'s errors stay', () => {
    expect(problemsFor({ model: { kind: 'mlp', hidden: [1.5], width: 'x' } })).toEqual([{ file: 'f.json', pointer: '/p/model/hidden/0', reason: 'must be integer' }]);
  });

  it('an error at a direct field of the accepted branch other than a const does not reject it', () => {
    expect(problemsFor({ model: { kind: 'mlp', hidden: 'x' } })).toEqual([{ file: 'f.json', pointer: '/p/model/hidden', reason: 'must be array' }]);
  });

  it('an error of the accepted branch at the oneOf\'s own place (a missing field) is that branch\'s', () => {
    const needs = ajv.compile({
      oneOf: [
        { type: 'object', required: ['kind', 'hidden'], properties: { kind: { const: 'mlp' }, hidden: { type: 'array' } } },
        { type: 'object', properties: { kind: { const: 'cnn' } } },
      ],
    });
    expect(needs({ kind: 'mlp' })).toBe(false);
    expect(ajvProblems('f.json', needs.errors)).toEqual([{ file: 'f.json', pointer: '/hidden', reason: 'required field is missing' }]);
  });

  it('a const deeper inside the accepted branch does not reject it', () => {
    const deep = {
      oneOf: [
        { type: 'object', properties: { kind: { const: 'mlp' }, act: { type: 'object', properties: { name: { const: 'relu' } } } } },
        { type: 'object', properties: { kind: { const: 'cnn' } } },
      ],
    };
    const v = ajv.compile(deep);
    expect(v({ kind: 'mlp', act: { name: 'tanh' } })).toBe(false);
    expect(ajvProblems('f.json', v.errors)).toEqual([{ file: 'f.json', pointer: '/act/name', reason: 'must be "relu"' }]);
  });

  it('the branches of a oneOf reused at two places (one $ref) are told apart by where each value is, even a field whose name extends the other\'s', () => {
    const reused = ajv.compile({ $defs: { model }, type: 'object', properties: { m: { $ref: '#/$defs/model' }, mX: { $ref: '#/$defs/model' } } });
    expect(reused({ m: { kind: 'mlp', hidden: [1.5] }, mX: { kind: 'cnn', width: 'x' } })).toBe(false);
    expect(ajvProblems('f.json', reused.errors)).toEqual([
      { file: 'f.json', pointer: '/m/hidden/0', reason: 'must be integer' },
      { file: 'f.json', pointer: '/mX/width', reason: 'must be integer' },
    ]);
  });

  it('a oneOf of more than ten branches keeps the errors of the one its kind picks (branch 10 is not branch 1)', () => {
    const kinds = Array.from({ length: 11 }, (_, i) => ({ type: 'object', properties: { kind: { const: `k${i}` }, w: { type: 'integer' } } }));
    const many = ajv.compile({ oneOf: kinds });
    expect(many({ kind: 'k10', w: 'x' })).toBe(false);
    expect(ajvProblems('f.json', many.errors)).toEqual([{ file: 'f.json', pointer: '/w', reason: 'must be integer' }]);
  });

  it('an anyOf keeps every branch\'s errors: only a oneOf is pruned', () => {
    const any = ajv.compile({ anyOf: model.oneOf });
    expect(any({ kind: 'mlp', hidden: [1.5] })).toBe(false);
    const problems = ajvProblems('f.json', any.errors);
    expect(problems).toContainEqual({ file: 'f.json', pointer: '/kind', reason: 'must be "cnn"' });
    expect(problems).toContainEqual({ file: 'f.json', pointer: '/hidden/0', reason: 'must be integer' });
  });
});
