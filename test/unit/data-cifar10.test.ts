import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CIFAR_PLANE,
  CIFAR_RECORD,
  parseCifarBatch,
  parseCifarMeta,
  readCifarBatches,
  readCifarDir,
  readCifarMeta,
} from '../../src/data/cifar10.ts';
import { encodeCifar } from '../../src/data/encode.ts';
import { DataFileError } from '../../src/data/errors.ts';
import type { ImageSet } from '../../src/data/types.ts';

const FIXTURE_DIR = join(import.meta.dirname, '..', '..', 'fixtures', 'data', 'cifar-10-batches-bin');

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'label-leak-cifar-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function writeTmp(name: string, bytes: Uint8Array | string): Promise<string> {
  const p = join(tmp, name);
  await writeFile(p, bytes);
  return p;
}

async function rejection(p: Promise<unknown>): Promise<DataFileError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(DataFileError);
  return e as DataFileError;
}

/** A CIFAR-shaped set of `count` random images with labels 0–9. */
const cifarSet = (maxCount: number) =>
  fc.integer({ min: 1, max: maxCount }).chain((count) =>
    fc.record({
      images: fc.uint8Array({ minLength: count * 3072, maxLength: count * 3072 }),
      labels: fc.uint8Array({ minLength: count, maxLength: count, max: 9 }),
      count: fc.constant(count),
      height: fc.constant(32),
      width: fc.constant(32),
      channels: fc.constant(3),
    }),
  );

describe('CIFAR-10 binary records', () => {
  it('puts the red, green and blue values of pixel (y, x) side by side at NHWC position ((y·32 + x)·3)', () => {
    const record = new Uint8Array(CIFAR_RECORD);
    record[0] = 7;
    const y = 5;
    const x = 30;
    const p = y * 32 + x;
    record[1 + p] = 11; // red plane
    record[1 + CIFAR_PLANE + p] = 22; // green plane
    record[1 + 2 * CIFAR_PLANE + p] = 33; // blue plane
    const set = parseCifarBatch(record, 'one.bin');
    expect(set.labels[0]).toBe(7);
    expect(Array.from(set.images.subarray(p * 3, p * 3 + 3))).toEqual([11, 22, 33]);
    expect(set.images.reduce((a, v) => a + v, 0)).toBe(66);
  });

  it('decodes what encodeCifar wrote, for any set of images', () => {
    fc.assert(
      fc.property(cifarSet(3), (set: ImageSet) => {
        const back = parseCifarBatch(encodeCifar(set), 'x.bin');
        expect(back.count).toBe(set.count);
        expect(Buffer.from(back.images).equals(Buffer.from(set.images))).toBe(true);
        expect(Array.from(back.labels)).toEqual(Array.from(set.labels));
      }),
      { numRuns: 30 },
    );
  });

  it('names the file when its size is not a multiple of 3073 bytes', async () => {
    const p = await writeTmp('odd.bin', new Uint8Array(2 * CIFAR_RECORD + 5));
    const e = await rejection(readCifarBatches([p]));
    expect(e.file).toBe(p);
    expect(e.message).toMatch(/odd\.bin: size 6151 bytes is not a positive multiple of the 3073-byte CIFAR record/);
  });

  it('names the file and the record when a label is above 9', async () => {
    const bytes = new Uint8Array(3 * CIFAR_RECORD);
    bytes[2 * CIFAR_RECORD] = 10;
    const p = await writeTmp('badlabel.bin', bytes);
    const e = await rejection(readCifarBatches([p]));
    expect(e.problem).toBe('label');
    expect(e.message).toMatch(/badlabel\.bin: label 10 in record 2 is out of range 0\.\.9/);
    expect(() => parseCifarBatch(bytes, 'inmem.bin')).toThrow(/inmem\.bin: label 10 in record 2/);
  });

  it('names a missing batch file', async () => {
    const p = join(tmp, 'data_batch_9.bin');
    const e = await rejection(readCifarBatches([p]));
    expect(e.problem).toBe('missing');
    expect(e.message).toBe(`${p}: file not found`);
  });

  it('reads files larger than its chunk the same as parsing them whole', async () => {
    // 2,300 records span three 1,000-record chunks, the last one partial.
    const count = 2300;
    const bytes = new Uint8Array(count * CIFAR_RECORD);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + (i >> 9)) & 0xff;
    for (let r = 0; r < count; r++) bytes[r * CIFAR_RECORD] = r % 10;
    const p = await writeTmp('big.bin', bytes);
    const streamed = await readCifarBatches([p, p]);
    const whole = parseCifarBatch(bytes, 'big.bin');
    expect(streamed.count).toBe(2 * count);
    expect(Buffer.from(streamed.images.subarray(0, whole.images.length)).equals(Buffer.from(whole.images))).toBe(true);
    expect(Buffer.from(streamed.images.subarray(whole.images.length)).equals(Buffer.from(whole.images))).toBe(true);
    expect(Buffer.from(streamed.labels.subarray(count)).equals(Buffer.from(whole.labels))).toBe(true);
  });
});

describe('batches.meta.txt', () => {
  it('reads ten class names, ignoring blank lines and CRLF', () => {
    const names = parseCifarMeta('a\r\nb\nc\nd\ne\nf\ng\nh\ni\nj\n\n', 'm.txt');
    expect(names).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j']);
  });

  it('names the file when the count is wrong', async () => {
    const p = await writeTmp('batches.meta.txt', 'cat\ndog\n');
    const e = await rejection(readCifarMeta(p));
    expect(e.message).toBe(`${p}: expected 10 class names (one per line), found 2`);
  });
});

describe('the CIFAR fixture folder', () => {
  it('loads as 200 training and 100 test images of 32×32×3, with the five batches in order', async () => {
    const { classes, train, test } = await readCifarDir(FIXTURE_DIR);
    expect(classes[0]).toBe('airplane');
    expect([train.count, test.count, train.height, train.width, train.channels]).toEqual([200, 100, 32, 32, 3]);
    const second = parseCifarBatch(await readFile(join(FIXTURE_DIR, 'data_batch_2.bin')), 'data_batch_2.bin');
    const per = second.count;
    expect(Buffer.from(train.images.subarray(per * 3072, 2 * per * 3072)).equals(Buffer.from(second.images))).toBe(true);
  });

  it('names a missing batch file inside the folder', async () => {
    const e = await rejection(readCifarDir(tmp));
    expect(e.file).toBe(join(tmp, 'batches.meta.txt'));
  });
});
