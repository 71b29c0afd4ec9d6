import { describe, expect, it } from 'vitest';
import { parseMatrix, parseSeeds, selectMatrix, words } from '../../scripts/gpu-matrix.ts';

describe('scripts/gpu-matrix.ts (the workflow inputs narrowing the matrix)', () => {
  // The shape `label-leak list --json --matrix full` prints (extra fields are dropped).
  const full = parseMatrix(
    JSON.stringify({
      claims: [],
      matrix: {
        tier: 'full',
        include: [
          { claim: 'a', tier: 'full', seed: 1 },
          { claim: 'a', tier: 'full', seed: 2 },
          { claim: 'b', tier: 'full', seed: 1 },
        ],
      },
    }),
  );

  it('keeps everything when no input is given (scheduled runs)', () => {
    expect(full.include[0]).toEqual({ claim: 'a', seed: 1 });
    expect(selectMatrix(full, [], [])).toEqual(full);
  });

  it('keeps the named claims, and replaces their seeds when seeds are given', () => {
    expect(selectMatrix(full, words('b'), [])).toEqual({ include: [{ claim: 'b', seed: 1 }] });
    expect(selectMatrix(full, words(' a, b '), parseSeeds('7,8'))).toEqual({
      include: [
        { claim: 'a', seed: 7 },
        { claim: 'a', seed: 8 },
        { claim: 'b', seed: 7 },
        { claim: 'b', seed: 8 },
      ],
    });
  });

  it('refuses unknown claims, bad seeds, non-matrix input and oversize matrices', () => {
    expect(() => selectMatrix(full, ['zz'], [])).toThrow(/unknown claim\(s\) zz; the full tier has: a, b/);
    expect(() => parseSeeds('1,x')).toThrow(/integers/);
    expect(() => parseMatrix('[1]')).toThrow(/\{matrix: \{include/);
    expect(() => parseMatrix(JSON.stringify({ include: [{ claim: 'a', seed: 1 }] }))).toThrow(/must have required property 'matrix'/);
    expect(() => parseMatrix('not json')).toThrow(/did not print JSON/);
    expect(() => selectMatrix({ include: [] }, [], [])).toThrow(/empty/);
    const seeds = Array.from({ length: 200 }, (_, i) => i);
    expect(() => selectMatrix(full, [], seeds)).toThrow(/256-job/);
  });
});
