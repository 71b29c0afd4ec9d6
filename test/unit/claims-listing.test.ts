import { describe, expect, it } from 'vitest';
import { listing, table } from '../../src/claims/listing.ts';
import { loadSpec } from '../../src/claims/load.ts';

describe('the plain table of `list`', () => {
  it('pads every column but the last to its widest entry, two spaces apart', () => {
    expect(table([['id', 'kind', 'title'], ['a-long-id', 'k', 't'], ['b', 'kind-x', 'a longer title']])).toBe(
      ['id         kind    title', 'a-long-id  k       t', 'b          kind-x  a longer title'].join('\n'),
    );
  });
});

describe('the claims `list` lists', () => {
  const leak = loadSpec('claims/cifar10-label-leaking.json');
  const control = loadSpec('claims/cifar10-label-leaking-control.json');

  it('a positive control follows its claim, once', () => {
    expect(listing([control, leak]).map((l) => l.id)).toEqual([leak.id, control.id]);
  });

  it('a control whose claim was not loaded (list of one file) stands on its own', () => {
    expect(control.controlOf).toBe(leak.id);
    expect(listing([control]).map((l) => [l.id, l.controlOf])).toEqual([[control.id, leak.id]]);
  });
});
