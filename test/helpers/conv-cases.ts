import fc from 'fast-check';

/** A convolution's shape: batch, image, channels, filter, padding, and a seed for its values. */
export interface ConvShape {
  n: number;
  h: number;
  w: number;
  ci: number;
  co: number;
  kh: number;
  kw: number;
  pad: 'same' | 'valid';
  seed: number;
}

/**
 * Shapes small enough for the cpu backend, with 'valid' never asking for a filter wider than
 * the image; `extra` adds what a property varies besides (strides, fusing).
 */
export function convShapes<E extends object>(extra: fc.Arbitrary<E>): fc.Arbitrary<ConvShape & E> {
  const shape = fc.record({
    n: fc.integer({ min: 1, max: 3 }),
    h: fc.integer({ min: 1, max: 9 }),
    w: fc.integer({ min: 1, max: 9 }),
    ci: fc.integer({ min: 1, max: 6 }),
    co: fc.integer({ min: 1, max: 6 }),
    kh: fc.integer({ min: 1, max: 4 }),
    kw: fc.integer({ min: 1, max: 4 }),
    pad: fc.constantFrom('same' as const, 'valid' as const),
    seed: fc.integer({ min: 0, max: 2 ** 30 }),
  });
  return fc
    .tuple(shape, extra)
    .map(([s, e]) => ({ ...s, ...e }))
    .filter((c) => c.pad === 'same' || (c.kh <= c.h && c.kw <= c.w));
}

/** max |a − b| / max |b|: a norm-wise relative error, meaningful where entries are near 0. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return scale === 0 ? diff : diff / scale;
}
