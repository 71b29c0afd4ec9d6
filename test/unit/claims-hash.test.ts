import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, contentHash } from '../../src/claims/hash.ts';

describe('canonical JSON', () => {
  it('sorts object keys at every level, keeps array order, and writes no whitespace', () => {
    expect(canonicalJson({ c: 'z', a: [3, { y: 2, x: 1 }], b: null })).toBe('{"a":[3,{"x":1,"y":2}],"b":null,"c":"z"}');
    expect(canonicalJson([{ b: 1, a: 2 }, 'k'])).toBe('[{"a":2,"b":1},"k"]');
  });

  it('orders keys by code unit, upper case before lower, and "a" before "ab"', () => {
    expect(canonicalJson({ b: 1, ab: 2, a: 3, B: 4 })).toBe('{"B":4,"a":3,"ab":2,"b":1}');
  });

  it('is the same for any key order', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (o) => {
        const reversed = Object.fromEntries(Object.entries(o).reverse());
        expect(canonicalJson(reversed)).toBe(canonicalJson(o));
      }),
    );
  });
});

describe('content hash', () => {
  it('is the first 16 hex digits of the SHA-256 of the canonical JSON', () => {
    // The digest of '{"a":[3,{"x":1,"y":2}],"b":null,"c":"z"}' as written out by hand above, from Python's hashlib: d12b12a9a9cc296e.
    expect(contentHash({ c: 'z', b: null, a: [3, { y: 2, x: 1 }] })).toBe('d12b12a9a9cc296e');
    const v = { k: [1, 2], j: { z: true } };
    expect(contentHash(v)).toBe(createHash('sha256').update(canonicalJson(v)).digest('hex').slice(0, 16));
  });

  it('differs when a value or the order of an array differs', () => {
    expect(contentHash({ a: [1, 2] })).not.toBe(contentHash({ a: [2, 1] }));
    expect(contentHash({ a: 1 })).not.toBe(contentHash({ a: 2 }));
  });
});
