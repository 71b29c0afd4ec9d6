import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { DataFileError, readFailure } from './errors.ts';
import type { ImageSet } from './types.ts';
import { fileKind, NotRegularFileError } from '../util/regular-file.ts';

/** An IDX array of unsigned bytes: its dimensions and the row-major data. */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

const IDX_UBYTE = 0x08;
const DTYPE_NAMES: Record<number, string> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'short',
  0x0c: 'int',
  0x0d: 'float',
  0x0e: 'double',
};

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** The bytes themselves, or their decompression when they start with the gzip magic. */
export function gunzipIfNeeded(bytes: Uint8Array, file: string): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  try {
    return gunzipSync(bytes);
  } catch (e) {
    throw new DataFileError(file, 'gzip', `not a readable gzip file (${(e as Error).message})`);
  }
}

/**
 * Parses an IDX file (LeCun's format: two zero bytes, a dtype byte, a rank byte, then one
 * big-endian uint32 per dimension, then the data). Only unsigned-byte data is accepted,
 * which is what MNIST and Fashion-MNIST use. The data is a view into `bytes`, not a copy.
 */
export function parseIdx(bytes: Uint8Array, file: string): IdxArray {
  if (bytes.length < 4) {
    throw new DataFileError(file, 'truncated', `truncated IDX file: ${bytes.length} bytes, shorter than the 4-byte magic`);
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    const hex = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new DataFileError(file, 'magic', `wrong IDX magic number (${hex}); an IDX file starts with 00 00 <dtype> <rank>`);
  }
  const dtype = bytes[2];
  if (dtype !== IDX_UBYTE) {
    const nameOf = DTYPE_NAMES[dtype] ?? 'unknown';
    throw new DataFileError(file, 'dtype', `wrong IDX dtype 0x${dtype.toString(16).padStart(2, '0')} (${nameOf}); only unsigned byte (0x08) is supported`);
  }
  const rank = bytes[3];
  const headerBytes = 4 + 4 * rank;
  if (rank === 0) throw new DataFileError(file, 'shape', 'IDX rank is 0; expected at least one dimension');
  if (bytes.length < headerBytes) {
    throw new DataFileError(file, 'truncated', `truncated IDX header: ${bytes.length} bytes, but rank ${rank} needs ${headerBytes}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let expected = 1;
  for (let d = 0; d < rank; d++) {
    const n = view.getUint32(4 + 4 * d, false);
    dims.push(n);
    expected *= n;
  }
  const actual = bytes.length - headerBytes;
  const shape = dims.join('×');
  if (actual < expected) {
    throw new DataFileError(file, 'truncated', `truncated IDX file: header says ${shape} = ${expected} data bytes, file has ${actual}`);
  }
  if (actual > expected) {
    throw new DataFileError(file, 'oversized', `oversized IDX file: header says ${shape} = ${expected} data bytes, file has ${actual}`);
  }
  return { dims, data: new Uint8Array(bytes.buffer, bytes.byteOffset + headerBytes, expected) };
}

/** Reads and parses an IDX file, plain or gzip (told apart by the gzip magic, not the name). */
export async function readIdxFile(file: string): Promise<IdxArray> {
  let raw: Uint8Array;
  try {
    // Opened without blocking and checked on the descriptor: a FIFO in place of a data file
    // is named, not waited on forever.
    const handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      const s = await handle.stat();
      if (!s.isFile()) throw new NotRegularFileError(file, fileKind(s));
      raw = await handle.readFile();
    } finally {
      await handle.close();
    }
  } catch (e) {
    throw readFailure(file, e);
  }
  return parseIdx(gunzipIfNeeded(raw, file), file);
}

/** Images (rank 3: n × rows × cols) and labels (rank 1: n) as a single-channel ImageSet. */
export function idxToImageSet(
  images: IdxArray,
  labels: IdxArray,
  files: { images: string; labels: string },
  numClasses = 10,
): ImageSet {
  if (images.dims.length !== 3) {
    throw new DataFileError(files.images, 'shape', `expected an image file of rank 3 (count × rows × cols), got rank ${images.dims.length}`);
  }
  if (labels.dims.length !== 1) {
    throw new DataFileError(files.labels, 'shape', `expected a label file of rank 1, got rank ${labels.dims.length}`);
  }
  const [count, height, width] = images.dims;
  if (labels.dims[0] !== count) {
    throw new DataFileError(files.labels, 'shape', `${labels.dims[0]} labels for ${count} images in ${files.images}`);
  }
  const bad = labels.data.findIndex((l) => l >= numClasses);
  if (bad >= 0) {
    throw new DataFileError(files.labels, 'label', `label ${labels.data[bad]} at index ${bad} is out of range 0..${numClasses - 1}`);
  }
  return { images: images.data, labels: labels.data, count, height, width, channels: 1 };
}

/** Loads one split (an image file and its label file). */
export async function loadIdxPair(files: { images: string; labels: string }, numClasses = 10): Promise<ImageSet> {
  const [images, labels] = await Promise.all([readIdxFile(files.images), readIdxFile(files.labels)]);
  return idxToImageSet(images, labels, files, numClasses);
}
