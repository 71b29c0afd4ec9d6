import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ImageSet } from '../../src/data/types.ts';
import { augmentedBatch } from '../../src/train/augment.ts';
import { drawEpsilons } from '../../src/train/step.ts';
import { makeRng } from '../../src/util/rng.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function randomSet(seed: number, n: number, h: number, w: number, c: number): ImageSet {
  const rng = makeRng(seed, 'test');
  const images = new Uint8Array(n * h * w * c).map(() => rng.int(256));
  const labels = new Uint8Array(n).map(() => rng.int(10));
  return { images, labels, count: n, height: h, width: w, channels: c };
}

describe('augmentation', () => {
  it('without crop or flip is the plain batch scaled to [0, 1]', () => {
    const set = randomSet(1, 4, 5, 6, 3);
    const { x, y } = augmentedBatch(set, [2, 0], { crop: 0, flip: false }, makeRng(1));
    const expected = [...set.images.slice(2 * 90, 3 * 90), ...set.images.slice(0, 90)].map((v) => v / 255);
    expect(Array.from(x.dataSync())).toEqual(expected.map((v) => expect.closeTo(v, 6)));
    expect(Array.from(y.dataSync())).toEqual([set.labels[2], set.labels[0]]);
    tf.dispose([x, y]);
  });

  it('keeps every value in [0, 1] and the multiset of labels', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 4 }), fc.boolean(), (seed, crop, flip) => {
        const set = randomSet(seed, 6, 8, 8, 1);
        const { x, y } = augmentedBatch(set, [0, 1, 2, 3, 4, 5], { crop, flip }, makeRng(seed));
        const v = x.dataSync();
        const ok = v.every((p) => p >= 0 && p <= 1);
        const labels = Array.from(y.dataSync());
        tf.dispose([x, y]);
        expect(ok).toBe(true);
        expect(labels).toEqual(Array.from(set.labels));
      }),
      { numRuns: 30 },
    );
  });

  it('a shifted or flipped image holds only pixels of its source (or zero padding)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), (seed) => {
        const set = randomSet(seed, 1, 6, 6, 1);
        const { x, y } = augmentedBatch(set, [0], { crop: 2, flip: true }, makeRng(seed));
        const source = new Set(Array.from(set.images).map((p) => Math.round(p)));
        const values = Array.from(x.dataSync()).map((p) => Math.round(p * 255));
        tf.dispose([x, y]);
        expect(values.every((p) => p === 0 || source.has(p))).toBe(true);
      }),
      { numRuns: 30 },
    );
  });
});

describe('ε draws for adversarial batches', () => {
  it('are never negative, and never above epsMax when one is set', () => {
    fc.assert(
      fc.property(fc.integer(), fc.double({ min: 0.1, max: 30, noNaN: true }), fc.option(fc.double({ min: 1, max: 40, noNaN: true })), (seed, sigma, max) => {
        const eps = drawEpsilons({ attack: 'fgsm', fraction: 0.5, epsSigma: sigma, epsMax: max ?? undefined, lossWeight: 1 }, 50, makeRng(seed));
        expect(eps.every((e) => e >= 0 && (max === null || e <= max))).toBe(true);
      }),
      { numRuns: 50 },
    );
  });

  it('have the half-normal mean σ·√(2/π)', () => {
    const eps = drawEpsilons({ attack: 'fgsm', fraction: 0.5, epsSigma: 12, lossWeight: 1 }, 20000, makeRng(7));
    const mean = eps.reduce((a, b) => a + b, 0) / eps.length;
    expect(mean).toBeCloseTo(12 * Math.sqrt(2 / Math.PI), 0);
  });
});
