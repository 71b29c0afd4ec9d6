import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { batchPixels, makeBatch, seededSubset, stratifiedIndices, subset } from '../../src/data/batches.ts';
import type { ImageSet } from '../../src/data/types.ts';
import { makeRng } from '../../src/util/rng.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A small random image set: 1–40 images of 1–4 × 1–4 × 1–3, labels 0–(classes-1). */
const imageSet = fc
  .record({
    count: fc.integer({ min: 1, max: 40 }),
    h: fc.integer({ min: 1, max: 4 }),
    w: fc.integer({ min: 1, max: 4 }),
    c: fc.integer({ min: 1, max: 3 }),
    classes: fc.integer({ min: 1, max: 10 }),
  })
  .chain(({ count, h, w, c, classes }) =>
    fc.record({
      images: fc.uint8Array({ minLength: count * h * w * c, maxLength: count * h * w * c }),
      labels: fc.uint8Array({ minLength: count, maxLength: count, max: classes - 1 }),
      count: fc.constant(count),
      height: fc.constant(h),
      width: fc.constant(w),
      channels: fc.constant(c),
    }),
  );

const setWithIndices = imageSet.chain((set) =>
  fc.tuple(fc.constant(set as ImageSet), fc.array(fc.integer({ min: 0, max: set.count - 1 }), { maxLength: 20 })),
);

function counts(labels: ArrayLike<number>): Map<number, number> {
  const m = new Map<number, number>();
  for (let i = 0; i < labels.length; i++) m.set(labels[i], (m.get(labels[i]) ?? 0) + 1);
  return m;
}

describe('makeBatch', () => {
  it('gives pixel p of the i-th chosen image as images[index·size + p] / 255, for any indices', () => {
    fc.assert(
      fc.property(setWithIndices, ([set, idx]) => {
        const size = set.height * set.width * set.channels;
        const pixels = batchPixels(set, idx);
        expect(pixels.length).toBe(idx.length * size);
        idx.forEach((k, i) => {
          for (let p = 0; p < size; p++) expect(pixels[i * size + p]).toBeCloseTo(set.images[k * size + p] / 255, 7);
        });
      }),
      { numRuns: 50 },
    );
  });

  it('returns an NHWC float32 x in [0, 1] and an int32 y, leaving no tensor behind once disposed', () => {
    const set: ImageSet = { images: Uint8Array.from([0, 255, 51, 102, 7, 8, 9, 10]), labels: Uint8Array.from([3, 9]), count: 2, height: 2, width: 1, channels: 2 };
    const before = tf.memory().numTensors;
    const { x, y } = makeBatch(set, [1, 0, 1]);
    expect(x.shape).toEqual([3, 2, 1, 2]);
    expect(x.dtype).toBe('float32');
    expect(y.dtype).toBe('int32');
    expect(Array.from(y.dataSync())).toEqual([9, 3, 9]);
    const xs = Array.from(x.dataSync());
    expect(xs.slice(4, 8)).toEqual([0, 1, 0.2, 0.4].map((v) => Math.fround(v)));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThanOrEqual(1);
    x.dispose();
    y.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects an index outside the set, saying which', () => {
    const set: ImageSet = { images: new Uint8Array(4), labels: new Uint8Array(4), count: 4, height: 1, width: 1, channels: 1 };
    const before = tf.memory().numTensors;
    expect(() => makeBatch(set, [0, 4])).toThrow(/index 4 at position 1 is outside the image set \(0\.\.3\)/);
    expect(() => makeBatch(set, [1.5])).toThrow(/index 1.5/);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('subset', () => {
  it('copies the chosen images and labels in index order, for any indices', () => {
    fc.assert(
      fc.property(setWithIndices, ([set, idx]) => {
        const s = subset(set, idx);
        const size = set.height * set.width * set.channels;
        expect(s.count).toBe(idx.length);
        idx.forEach((k, i) => {
          expect(s.labels[i]).toBe(set.labels[k]);
          expect(Array.from(s.images.subarray(i * size, (i + 1) * size))).toEqual(Array.from(set.images.subarray(k * size, (k + 1) * size)));
        });
      }),
      { numRuns: 50 },
    );
  });
});

describe('seededSubset', () => {
  const sizeAndSet = imageSet.chain((set) => fc.tuple(fc.constant(set as ImageSet), fc.integer({ min: 0, max: set.count }), fc.integer()));

  it('picks n distinct images, the same ones for the same seed', () => {
    fc.assert(
      fc.property(sizeAndSet, fc.boolean(), ([set, n, seed], stratified) => {
        const tagged: ImageSet = { ...set, height: 1, width: 1, channels: 1, images: Uint8Array.from({ length: set.count }, (_, i) => i) };
        const a = seededSubset(tagged, n, makeRng(seed, 'subset'), { stratified });
        const b = seededSubset(tagged, n, makeRng(seed, 'subset'), { stratified });
        expect(a.count).toBe(n);
        expect(new Set(a.images).size).toBe(n);
        expect(Array.from(a.images)).toEqual(Array.from(b.images));
        // Each chosen image keeps its own label.
        a.images.forEach((orig, i) => expect(a.labels[i]).toBe(set.labels[orig]));
      }),
      { numRuns: 100 },
    );
  });

  it('when stratified, gives every class the same count give or take one, as long as no class runs out', () => {
    fc.assert(
      fc.property(sizeAndSet, ([set, n, seed]) => {
        const available = counts(set.labels);
        const chosen = counts(subset(set, stratifiedIndices(set.labels, n, makeRng(seed, 's'))).labels);
        const classes = [...available.keys()];
        const fair = Math.ceil(n / classes.length);
        const nobodyShort = classes.every((c) => available.get(c)! >= fair);
        if (nobodyShort) {
          const got = classes.map((c) => chosen.get(c) ?? 0);
          expect(Math.max(...got) - Math.min(...got)).toBeLessThanOrEqual(1);
        }
        // A class never gets more than it has, and the total is n either way.
        for (const [c, k] of chosen) expect(k).toBeLessThanOrEqual(available.get(c)!);
        expect([...chosen.values()].reduce((a, b) => a + b, 0)).toBe(n);
      }),
      { numRuns: 200 },
    );
  });

  it('does not return the classes in turn (the order is shuffled)', () => {
    const labels = Uint8Array.from({ length: 100 }, (_, i) => i % 10);
    const idx = stratifiedIndices(labels, 50, makeRng(1, 'order'));
    const firstTen = Array.from(idx.subarray(0, 10), (k) => labels[k]);
    expect(firstTen).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('rejects n larger than the set, naming both', () => {
    const set: ImageSet = { images: new Uint8Array(3), labels: new Uint8Array(3), count: 3, height: 1, width: 1, channels: 1 };
    expect(() => seededSubset(set, 4, makeRng(0))).toThrow(/n = 4 must be an integer in 0\.\.3/);
  });
});

describe('stratifiedIndices with fewer images than classes', () => {
  it('does not always favour the lowest labels when n is not a multiple of the class count', () => {
    const labels = Uint8Array.from({ length: 100 }, (_, i) => i % 10);
    const picked = new Set<number>();
    for (let seed = 0; seed < 20; seed++) {
      for (const k of stratifiedIndices(labels, 3, makeRng(seed, 'few'))) picked.add(labels[k]);
    }
    expect(Math.max(...picked)).toBeGreaterThan(2);
  });
});
