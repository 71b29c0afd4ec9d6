import { describe, expect, it } from 'vitest';
import { table } from '../../src/claims/listing.ts';

describe('the plain table of `list`', () => {
  it('pads every column but the last to its widest entry, two spaces apart', () => {
    expect(table([['id', 'kind', 'title'], ['a-long-id', 'k', 't'], ['b', 'kind-x', 'a longer title']])).toBe(
      ['id         kind    title', 'a-long-id  k       t', 'b          kind-x  a longer title'].join('\n'),
    );
  });
});
