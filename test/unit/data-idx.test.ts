import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeIdx } from '../../src/data/encode.ts';
import { DataFileError } from '../../src/data/errors.ts';
import { gunzipIfNeeded, idxToImageSet, loadIdxPair, parseIdx, readIdxFile } from '../../src/data/idx.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'data');

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'label-leak-idx-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function writeTmp(name: string, bytes: Uint8Array): Promise<string> {
  const p = join(tmp, name);
  await writeFile(p, bytes);
  return p;
}

/** Rejects with a DataFileError of this kind whose message names the file. */
async function expectFileError(p: Promise<unknown>, file: string, problem: string, text: RegExp): Promise<void> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DataFileError);
  const e = err as DataFileError;
  expect(e.problem).toBe(problem);
  expect(e.file).toBe(file);
  expect(e.message).toContain(file);
  expect(e.message).toMatch(text);
}

const idxArray = fc
  .array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 4 })
  .chain((dims) =>
    fc.record({
      dims: fc.constant(dims),
      data: fc.uint8Array({ minLength: dims.reduce((a, b) => a * b, 1), maxLength: dims.reduce((a, b) => a * b, 1) }),
    }),
  );

describe('parseIdx', () => {
  it('recovers the dimensions and bytes that were encoded, for any unsigned-byte array', () => {
    fc.assert(
      fc.property(idxArray, ({ dims, data }) => {
        const parsed = parseIdx(encodeIdx(dims, data), 'x.idx');
        expect(parsed.dims).toEqual(dims);
        expect(Array.from(parsed.data)).toEqual(Array.from(data));
      }),
    );
  });

  it('reads the same array through gzip as without it', () => {
    fc.assert(
      fc.property(idxArray, ({ dims, data }) => {
        const plain = encodeIdx(dims, data);
        const viaGzip = parseIdx(gunzipIfNeeded(gzipSync(plain), 'x.gz'), 'x.gz');
        expect(Array.from(viaGzip.data)).toEqual(Array.from(data));
      }),
    );
  });

  it('rejects any file whose length differs from what the header says, as truncated or oversized', () => {
    fc.assert(
      fc.property(idxArray, fc.integer({ min: -3, max: 3 }).filter((d) => d !== 0), ({ dims, data }, delta) => {
        const good = encodeIdx(dims, data);
        const bad = delta < 0 ? good.subarray(0, Math.max(0, good.length + delta)) : Uint8Array.from([...good, ...new Uint8Array(delta)]);
        let problem = '';
        try {
          parseIdx(bad, 'f.idx');
        } catch (e) {
          problem = (e as DataFileError).problem;
        }
        expect(problem).toBe(delta < 0 ? 'truncated' : 'oversized');
      }),
    );
  });

  it('names the file on a wrong magic number', () => {
    expect(() => parseIdx(Uint8Array.from([0x50, 0x4b, 3, 4, 0, 0, 0, 0]), 'zip.idx')).toThrow(/zip\.idx: wrong IDX magic number \(50 4b 03 04\)/);
  });

  it('names the file and the dtype when the data is not unsigned bytes', () => {
    const floats = Uint8Array.from([0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0]);
    expect(() => parseIdx(floats, 'floats.idx')).toThrow(/floats\.idx: wrong IDX dtype 0x0d \(float\)/);
  });

  it('names the file when the header itself is cut short', () => {
    expect(() => parseIdx(Uint8Array.from([0, 0, 8, 3, 0, 0]), 'short.idx')).toThrow(/short\.idx: truncated IDX header/);
    expect(() => parseIdx(Uint8Array.from([0, 0]), 'tiny.idx')).toThrow(/tiny\.idx: truncated/);
  });
});

describe('readIdxFile', () => {
  it('names a missing file', async () => {
    const p = join(tmp, 'nope-idx3-ubyte');
    await expectFileError(readIdxFile(p), p, 'missing', /file not found/);
  });

  it('names a truncated file on disk, with the sizes', async () => {
    const p = await writeTmp('cut-idx3-ubyte', encodeIdx([2, 2, 2], new Uint8Array(8)).subarray(0, 20));
    await expectFileError(readIdxFile(p), p, 'truncated', /header says 2×2×2 = 8 data bytes, file has 4/);
  });

  it('names an oversized file on disk', async () => {
    const p = await writeTmp('big-idx1-ubyte', Uint8Array.from([...encodeIdx([3], new Uint8Array(3)), 7]));
    await expectFileError(readIdxFile(p), p, 'oversized', /3 data bytes, file has 4/);
  });

  it('names a file that starts like gzip but is not', async () => {
    const p = await writeTmp('broken.gz', Uint8Array.from([0x1f, 0x8b, 8, 0, 1, 2, 3]));
    await expectFileError(readIdxFile(p), p, 'gzip', /not a readable gzip file/);
  });

  it('detects gzip by its magic bytes, whatever the file is called', async () => {
    const p = await writeTmp('no-extension', gzipSync(encodeIdx([2], Uint8Array.from([4, 5]))));
    expect(Array.from((await readIdxFile(p)).data)).toEqual([4, 5]);
  });
});

describe('idxToImageSet / loadIdxPair', () => {
  it('names the label file when a label is out of range', async () => {
    const images = await writeTmp('i-idx3-ubyte', encodeIdx([3, 2, 2], new Uint8Array(12)));
    const labels = await writeTmp('l-idx1-ubyte', encodeIdx([3], Uint8Array.from([1, 10, 2])));
    await expectFileError(loadIdxPair({ images, labels }), labels, 'label', /label 10 at index 1 is out of range 0\.\.9/);
  });

  it('names the label file when counts disagree', () => {
    const images = { dims: [3, 2, 2], data: new Uint8Array(12) };
    const labels = { dims: [2], data: new Uint8Array(2) };
    expect(() => idxToImageSet(images, labels, { images: 'a', labels: 'b-labels' })).toThrow(/b-labels: 2 labels for 3 images in a/);
  });

  it('names the image file when it is not rank 3', () => {
    const images = { dims: [12], data: new Uint8Array(12) };
    const labels = { dims: [12], data: new Uint8Array(12) };
    expect(() => idxToImageSet(images, labels, { images: 'flat-images', labels: 'l' })).toThrow(/flat-images: expected an image file of rank 3/);
  });

  it('loads the plain mnist fixture and the gzip fashion-mnist fixture as 28×28×1 sets', async () => {
    for (const [dir, ext] of [['mnist', ''], ['fashion-mnist', '.gz']]) {
      const set = await loadIdxPair({
        images: join(FIXTURES, dir, `train-images-idx3-ubyte${ext}`),
        labels: join(FIXTURES, dir, `train-labels-idx1-ubyte${ext}`),
      });
      expect([set.count, set.height, set.width, set.channels]).toEqual([300, 28, 28, 1]);
      expect(set.images.length).toBe(300 * 784);
      expect(Math.max(...set.labels)).toBe(9);
    }
  });
});
