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

/**
 * A set whose pixels are all distinct and non-zero (so no padded zero and no moved pixel can be
 * mistaken for another), and, for each output image, the one (dy, dx, flip) that explains it.
 */
function distinctSet(n: number, h: number, w: number, c: number): ImageSet {
  const size = h * w * c;
  if (size > 255) throw new Error('distinctSet: at most 255 values per image');
  const images = new Uint8Array(n * size);
  for (let b = 0; b < n; b++) for (let p = 0; p < size; p++) images[b * size + p] = p + 1;
  return { images, labels: new Uint8Array(n).map((_, i) => i % 10), count: n, height: h, width: w, channels: c };
}

/** The source pixel value at output (y, x, k) for shift (dy, dx) then mirror; 0 where the shift leaves the image. */
function expectedPixel(set: ImageSet, b: number, y: number, x: number, k: number, dy: number, dx: number, flip: boolean): number {
  const { height: h, width: w, channels: c } = set;
  const sy = y + dy;
  const sx0 = x + dx;
  if (sy < 0 || sy >= h || sx0 < 0 || sx0 >= w) return 0;
  const sx = flip ? w - 1 - sx0 : sx0;
  return set.images[((b * h + sy) * w + sx) * c + k];
}

/** Every (dy, dx, flip) with |dy|, |dx| ≤ crop that reproduces output image b exactly. */
function explanations(set: ImageSet, out: Float32Array, b: number, crop: number): { dy: number; dx: number; flip: boolean }[] {
  const { height: h, width: w, channels: c } = set;
  const found = [];
  for (let dy = -crop; dy <= crop; dy++) {
    for (let dx = -crop; dx <= crop; dx++) {
      for (const flip of [false, true]) {
        let same = true;
        for (let y = 0; y < h && same; y++) {
          for (let x = 0; x < w && same; x++) {
            for (let k = 0; k < c && same; k++) {
              const got = out[((b * h + y) * w + x) * c + k];
              same = got === Math.fround(expectedPixel(set, b, y, x, k, dy, dx, flip) * (1 / 255));
            }
          }
        }
        if (same) found.push({ dy, dx, flip });
      }
    }
  }
  return found;
}

describe('augmentation geometry and rates', () => {
  it('a flip mirrors each image left–right exactly (rows and channel order kept), and about half the images are flipped', () => {
    const n = 2000;
    const set = distinctSet(n, 3, 4, 3);
    const { x, y } = augmentedBatch(set, Array.from({ length: n }, (_, i) => i), { crop: 0, flip: true }, makeRng(11, 'flip'));
    const out = x.dataSync() as Float32Array;
    tf.dispose([x, y]);
    let flipped = 0;
    for (let b = 0; b < n; b++) {
      const ways = explanations(set, out, b, 0);
      // Exactly one of "as is" and "mirrored" (the image has no left–right symmetry).
      expect(ways).toHaveLength(1);
      if (ways[0].flip) flipped++;
    }
    // Seeded, so this is one fixed draw; 4 standard deviations of Binomial(n, 1/2) still bound it.
    expect(Math.abs(flipped - n / 2)).toBeLessThanOrEqual(4 * Math.sqrt(n / 4));
  });

  it('without flip, no image is mirrored', () => {
    const set = distinctSet(50, 3, 4, 2);
    const { x, y } = augmentedBatch(set, Array.from({ length: 50 }, (_, i) => i), { crop: 2, flip: false }, makeRng(5, 'no-flip'));
    const out = x.dataSync() as Float32Array;
    tf.dispose([x, y]);
    for (let b = 0; b < 50; b++) expect(explanations(set, out, b, 2).every((e) => !e.flip)).toBe(true);
  });

  it('a crop shifts each image by (dy, dx) in [−crop, crop]², fills the uncovered border with zeros, and uses every shift at about the uniform rate', () => {
    const crop = 2;
    const n = 1500;
    const set = distinctSet(n, 6, 6, 1);
    const { x, y } = augmentedBatch(set, Array.from({ length: n }, (_, i) => i), { crop, flip: false }, makeRng(3, 'crop'));
    const out = x.dataSync() as Float32Array;
    tf.dispose([x, y]);
    const counts = new Map<string, number>();
    for (let b = 0; b < n; b++) {
      const ways = explanations(set, out, b, crop);
      // Pixels are distinct and non-zero, so one shift at most explains an image; none means a wrong shift or a non-zero pad.
      expect(ways).toHaveLength(1);
      const key = `${ways[0].dy},${ways[0].dx}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    const cells = (2 * crop + 1) ** 2;
    expect(counts.size).toBe(cells);
    const p = 1 / cells;
    for (const k of counts.values()) expect(Math.abs(k - n * p)).toBeLessThanOrEqual(4 * Math.sqrt(n * p * (1 - p)));
  });

  it('crop and flip together: each image is its source shifted, then mirrored, with zero padding', () => {
    const set = distinctSet(300, 5, 5, 2);
    const { x, y } = augmentedBatch(set, Array.from({ length: 300 }, (_, i) => i), { crop: 1, flip: true }, makeRng(8, 'both'));
    const out = x.dataSync() as Float32Array;
    tf.dispose([x, y]);
    const seen = new Set<string>();
    for (let b = 0; b < 300; b++) {
      const ways = explanations(set, out, b, 1);
      expect(ways).toHaveLength(1);
      seen.add(`${ways[0].dy},${ways[0].dx},${ways[0].flip}`);
    }
    expect(seen.size).toBe(9 * 2);
  });

  it('takes images in index order, with their labels', () => {
    const set = randomSet(4, 5, 4, 4, 1);
    const { x, y } = augmentedBatch(set, [3, 1, 3], { crop: 0, flip: false }, makeRng(1));
    const expected = [3, 1, 3].flatMap((i) => Array.from(set.images.slice(i * 16, (i + 1) * 16), (v) => Math.fround(v / 255)));
    expect(Array.from(x.dataSync())).toEqual(expected.map((v) => expect.closeTo(v, 6)));
    expect(Array.from(y.dataSync())).toEqual([set.labels[3], set.labels[1], set.labels[3]]);
    tf.dispose([x, y]);
  });
});

// The training loop draws augmentation and ε from one per-step stream (loop.ts), so how many
// numbers a batch takes, and which, decides every later draw of the run: a spare draw would
// change adversarial ε and the next batches' shifts, and so every recorded result.
describe('augmentation draws from the stream', () => {
  it('each image takes dy = int(2·crop + 1) − crop, then dx likewise, then a coin (flip when < ½), in index order, and nothing more', () => {
    const crop = 2;
    const n = 200;
    const set = distinctSet(n, 5, 5, 1);
    const rng = makeRng(21, 'draws');
    const { x, y } = augmentedBatch(set, Array.from({ length: n }, (_, i) => i), { crop, flip: true }, rng);
    const out = x.dataSync() as Float32Array;
    tf.dispose([x, y]);
    const ref = makeRng(21, 'draws');
    for (let b = 0; b < n; b++) {
      const dy = ref.int(2 * crop + 1) - crop;
      const dx = ref.int(2 * crop + 1) - crop;
      const flip = ref.next() < 0.5;
      expect(explanations(set, out, b, crop)).toEqual([{ dy, dx, flip }]);
    }
    expect(rng.next()).toBe(ref.next());
  });

  it('with crop 0 only the coins are drawn, and with neither crop nor flip nothing is', () => {
    const set = distinctSet(10, 3, 3, 1);
    const all = Array.from({ length: 10 }, (_, i) => i);
    const coins = makeRng(4, 'coins');
    tf.dispose(Object.values(augmentedBatch(set, all, { crop: 0, flip: true }, coins)));
    const ref = makeRng(4, 'coins');
    for (let i = 0; i < 10; i++) ref.next();
    expect(coins.next()).toBe(ref.next());

    const none = makeRng(4, 'none');
    tf.dispose(Object.values(augmentedBatch(set, all, { crop: 0, flip: false }, none)));
    expect(none.next()).toBe(makeRng(4, 'none').next());
  });
});
