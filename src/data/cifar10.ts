import { open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DataFileError, readFailure } from './errors.ts';
import type { ImageSet } from './types.ts';

export const CIFAR_SIDE = 32;
export const CIFAR_PLANE = CIFAR_SIDE * CIFAR_SIDE;
export const CIFAR_PIXELS = 3 * CIFAR_PLANE;
/** One label byte, then the red, green and blue planes. */
export const CIFAR_RECORD = 1 + CIFAR_PIXELS;
export const CIFAR_TRAIN_FILES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'];
export const CIFAR_TEST_FILES = ['test_batch.bin'];
export const CIFAR_META_FILE = 'batches.meta.txt';

/**
 * Copies `records` CIFAR records from `src` (planar: label, R plane, G plane, B plane) into
 * `images` (interleaved NHWC) and `labels`, starting at image `first`. Returns the index of
 * the first record whose label is ≥ numClasses, or -1.
 */
function decodeCifarRecords(
  src: Uint8Array,
  records: number,
  images: Uint8Array,
  labels: Uint8Array,
  first: number,
  numClasses = 10,
): number {
  for (let r = 0; r < records; r++) {
    const inBase = r * CIFAR_RECORD;
    const label = src[inBase];
    if (label >= numClasses) return r;
    labels[first + r] = label;
    const red = inBase + 1;
    const green = red + CIFAR_PLANE;
    const blue = green + CIFAR_PLANE;
    let out = (first + r) * CIFAR_PIXELS;
    for (let p = 0; p < CIFAR_PLANE; p++) {
      images[out] = src[red + p];
      images[out + 1] = src[green + p];
      images[out + 2] = src[blue + p];
      out += 3;
    }
  }
  return -1;
}

/** Parses one batch file held in memory. */
export function parseCifarBatch(bytes: Uint8Array, file: string, numClasses = 10): ImageSet {
  checkCifarSize(bytes.length, file);
  const count = bytes.length / CIFAR_RECORD;
  const images = new Uint8Array(count * CIFAR_PIXELS);
  const labels = new Uint8Array(count);
  const bad = decodeCifarRecords(bytes, count, images, labels, 0, numClasses);
  if (bad >= 0) throw labelError(file, bytes[bad * CIFAR_RECORD], bad, numClasses);
  return { images, labels, count, height: CIFAR_SIDE, width: CIFAR_SIDE, channels: 3 };
}

function checkCifarSize(bytes: number, file: string): void {
  if (bytes === 0 || bytes % CIFAR_RECORD !== 0) {
    const whole = Math.floor(bytes / CIFAR_RECORD);
    throw new DataFileError(
      file,
      // A size off the record grid is most often a partial download.
      'truncated',
      `size ${bytes} bytes is not a positive multiple of the ${CIFAR_RECORD}-byte CIFAR record (${whole} whole records and ${bytes - whole * CIFAR_RECORD} bytes over)`,
    );
  }
}

function labelError(file: string, label: number, record: number, numClasses: number): DataFileError {
  return new DataFileError(file, 'label', `label ${label} in record ${record} is out of range 0..${numClasses - 1}`);
}

async function sizeOf(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch (e) {
    throw readFailure(file, e);
  }
}

/** Records read per chunk: 1000 records are 3 MB, so reading adds little to resident memory. */
const CHUNK_RECORDS = 1000;

/**
 * Reads batch files into one ImageSet. Sizes are checked first so the set is allocated once;
 * each file is then streamed through a small reused buffer rather than held whole.
 */
export async function readCifarBatches(files: string[], numClasses = 10): Promise<ImageSet> {
  const sizes = await Promise.all(files.map(sizeOf));
  sizes.forEach((s, i) => checkCifarSize(s, files[i]));
  const count = sizes.reduce((a, s) => a + s / CIFAR_RECORD, 0);
  const images = new Uint8Array(count * CIFAR_PIXELS);
  const labels = new Uint8Array(count);
  const chunk = new Uint8Array(CHUNK_RECORDS * CIFAR_RECORD);
  let first = 0;
  for (let f = 0; f < files.length; f++) {
    const handle = await open(files[f], 'r').catch((e: unknown) => {
      throw readFailure(files[f], e);
    });
    try {
      const records = sizes[f] / CIFAR_RECORD;
      for (let done = 0; done < records; ) {
        const n = Math.min(CHUNK_RECORDS, records - done);
        const want = n * CIFAR_RECORD;
        let got = 0;
        while (got < want) {
          const { bytesRead } = await handle.read(chunk, got, want - got, done * CIFAR_RECORD + got).catch((e: unknown) => {
            throw readFailure(files[f], e);
          });
          // The file shrank after stat(): report it as what it now is.
          if (bytesRead === 0) throw new DataFileError(files[f], 'truncated', `file ended early at byte ${done * CIFAR_RECORD + got} of ${sizes[f]}`);
          got += bytesRead;
        }
        const bad = decodeCifarRecords(chunk, n, images, labels, first + done, numClasses);
        if (bad >= 0) throw labelError(files[f], chunk[bad * CIFAR_RECORD], done + bad, numClasses);
        done += n;
      }
      first += records;
    } finally {
      await handle.close();
    }
  }
  return { images, labels, count, height: CIFAR_SIDE, width: CIFAR_SIDE, channels: 3 };
}

/** Class names from batches.meta.txt: one per line, blank lines ignored. */
export function parseCifarMeta(text: string, file: string, numClasses = 10): string[] {
  const names = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
  if (names.length !== numClasses) {
    throw new DataFileError(file, 'meta', `expected ${numClasses} class names (one per line), found ${names.length}`);
  }
  return names;
}

export async function readCifarMeta(file: string, numClasses = 10): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw readFailure(file, e);
  }
  return parseCifarMeta(text, file, numClasses);
}

/** All of a `cifar-10-batches-bin` folder: both splits and the class names. */
export async function readCifarDir(dir: string): Promise<{ classes: string[]; train: ImageSet; test: ImageSet }> {
  const classes = await readCifarMeta(join(dir, CIFAR_META_FILE));
  const train = await readCifarBatches(CIFAR_TRAIN_FILES.map((f) => join(dir, f)));
  const test = await readCifarBatches(CIFAR_TEST_FILES.map((f) => join(dir, f)));
  return { classes, train, test };
}
