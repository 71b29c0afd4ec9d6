import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { pipeline, type Readable } from 'node:stream';
import { DataFileError, readFailure } from './errors.ts';

export type HashAlgorithm = 'sha256' | 'sha1';

export interface ContentDigest {
  /** Bytes of the content (after gunzip when the file is gzip). */
  bytes: number;
  gzip: boolean;
  hex: Partial<Record<HashAlgorithm, string>>;
}

async function startsWithGzipMagic(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const head = new Uint8Array(2);
    const { bytesRead } = await handle.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

/**
 * Size and digests of a file's content, streamed. A gzip file is digested as what it
 * unpacks to, since official checksums of unpacked sets are what a user's copy can match.
 */
export async function digestContent(file: string, algorithms: HashAlgorithm[]): Promise<ContentDigest> {
  return digest(file, algorithms).catch((e: unknown) => {
    throw readFailure(file, e);
  });
}

async function digest(file: string, algorithms: HashAlgorithm[]): Promise<ContentDigest> {
  const gzip = await startsWithGzipMagic(file);
  const hashes = algorithms.map((a) => [a, createHash(a)] as const);
  const raw = createReadStream(file);
  // pipeline() carries a read error on to the gunzip stream, which the loop then throws.
  const stream: Readable = gzip ? pipeline(raw, createGunzip(), () => {}) : raw;
  let bytes = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      for (const [, h] of hashes) h.update(chunk);
    }
  } catch (e) {
    if (gzip && (e as NodeJS.ErrnoException).code?.startsWith('Z_')) {
      throw new DataFileError(file, 'gzip', `not a readable gzip file (${(e as Error).message})`);
    }
    throw e;
  }
  const hex: Partial<Record<HashAlgorithm, string>> = {};
  for (const [a, h] of hashes) hex[a] = h.digest('hex');
  return { bytes, gzip, hex };
}

/**
 * Content size without reading the content: the file's size, or for a gzip file the ISIZE
 * field of its trailer (the unpacked size modulo 2³², exact for single-member files < 4 GiB).
 */
export async function contentSize(file: string): Promise<number> {
  return sizeOfContent(file).catch((e: unknown) => {
    throw readFailure(file, e);
  });
}

async function sizeOfContent(file: string): Promise<number> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const head = new Uint8Array(2);
    await handle.read(head, 0, 2, 0);
    if (size < 18 || head[0] !== 0x1f || head[1] !== 0x8b) return size;
    const tail = new Uint8Array(4);
    await handle.read(tail, 0, 4, size - 4);
    return new DataView(tail.buffer).getUint32(0, true);
  } finally {
    await handle.close();
  }
}
