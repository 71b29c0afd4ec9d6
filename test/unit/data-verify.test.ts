import { createHash } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentSize } from '../../src/data/digest.ts';
import { LAYOUTS } from '../../src/data/layout.ts';
import type { DatasetSource } from '../../src/data/manifest.ts';
import { parseSha256Sums, verifyDataset } from '../../src/data/verify.ts';

const ROOT = join(import.meta.dirname, '..', '..', 'fixtures');
const FIXTURES = join(ROOT, 'data');
const CIFAR_FILES = LAYOUTS.cifar10.files;
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const sha1 = (b: Uint8Array) => createHash('sha1').update(b).digest('hex');

let tmp: string;
let n = 0;
/** A fresh data directory holding a copy of the CIFAR fixture folder. */
async function cifarCopy(): Promise<{ dataDir: string; dir: string }> {
  const dataDir = join(tmp, `d${n++}`);
  const dir = join(dataDir, 'cifar-10-batches-bin');
  await cp(join(FIXTURES, 'cifar-10-batches-bin'), dir, { recursive: true });
  return { dataDir, dir };
}

/** A source whose sizes and SHA-1s are the fixture's own (as the official list is for the real set). */
async function cifarSource(digest: (name: string, bytes: Uint8Array) => string | undefined): Promise<DatasetSource> {
  const files = await Promise.all(
    CIFAR_FILES.map(async (name) => {
      const bytes = await readFile(join(FIXTURES, 'cifar-10-batches-bin', name));
      const hex = digest(name, bytes);
      return { name, bytes: bytes.length, ...(hex ? { digest: { algorithm: 'sha1' as const, hex } } : {}) };
    }),
  );
  return { dataset: 'cifar10', subdir: 'cifar-10-batches-bin', baseUrl: 'http://unused/', archives: [], files };
}

async function writeSums(dir: string, tamper?: string): Promise<void> {
  const lines = await Promise.all(
    CIFAR_FILES.map(async (name) => {
      const hex = sha256(await readFile(join(dir, name)));
      return `${name === tamper ? hex.replace(/^./, (c) => (c === '0' ? '1' : '0')) : hex}  ${name}`;
    }),
  );
  await writeFile(join(dir, 'SHA256SUMS'), `${lines.join('\n')}\n`);
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'label-leak-verify-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('verifyDataset', () => {
  it('reports ok when every file is there with the official size and checksum', async () => {
    const { dataDir, dir } = await cifarCopy();
    const source = await cifarSource((name, b) => (name === 'batches.meta.txt' ? undefined : sha1(b)));
    const r = await verifyDataset('cifar10', { dataDir, source });
    expect(r.status).toBe('ok');
    expect(r.dir).toBe(dir);
    expect(r.summary).toBe('present, sizes OK, checksums match the official set; no official checksum held for batches.meta.txt');
    expect(r.files.every((f) => f.sizeOk !== false && f.present)).toBe(true);
  });

  it('reports a re-encoded copy as present, sizes OK, checksum differs from the official set — not as a failure', async () => {
    const { dataDir, dir } = await cifarCopy();
    await writeSums(dir);
    // The official list holds other checksums for the same names and sizes.
    const source = await cifarSource((_, b) => sha1(Uint8Array.from([...b.subarray(0, 10), 1])));
    const r = await verifyDataset('cifar10', { dataDir, source });
    expect(r.status).toBe('unofficial');
    expect(r.summary).toMatch(/^present, sizes OK, checksum differs from the official set \(data_batch_1\.bin,/);
    expect(r.summary).toContain("all match the folder's own SHA256SUMS");
    expect(r.files.find((f) => f.name === 'test_batch.bin')).toMatchObject({ official: 'differs', officialAlgorithm: 'sha1', localSums: 'match' });
  });

  it('reports corrupt, naming the file and both sizes, when a size is wrong', async () => {
    const { dataDir, dir } = await cifarCopy();
    await truncate(join(dir, 'data_batch_4.bin'), 3073);
    const r = await verifyDataset('cifar10', { dataDir, source: await cifarSource(() => undefined) });
    expect(r.status).toBe('corrupt');
    expect(r.summary).toBe('wrong size: data_batch_4.bin (3073 bytes, expected 122920)');
  });

  it("reports corrupt when a file differs from the folder's own SHA256SUMS", async () => {
    const { dataDir, dir } = await cifarCopy();
    await writeSums(dir, 'data_batch_2.bin');
    const r = await verifyDataset('cifar10', { dataDir, source: await cifarSource(() => undefined) });
    expect(r.status).toBe('corrupt');
    expect(r.summary).toBe("checksum differs from the folder's own SHA256SUMS: data_batch_2.bin");
  });

  it('reports the missing files of an incomplete folder by name', async () => {
    const { dataDir, dir } = await cifarCopy();
    await rm(join(dir, 'test_batch.bin'));
    await rm(join(dir, 'batches.meta.txt'));
    const r = await verifyDataset('cifar10', { dataDir, source: await cifarSource(() => undefined) });
    expect(r.status).toBe('missing');
    expect(r.summary).toBe('missing: test_batch.bin, batches.meta.txt');
  });

  it('reports a set found nowhere with the missing-dataset explanation', async () => {
    const r = await verifyDataset('fashion-mnist', { dataDir: join(tmp, 'none'), fallbacks: [] });
    expect(r.status).toBe('missing');
    expect(r.summary).toContain(`${join(tmp, 'none', 'fashion-mnist')} (data directory, given by --data-dir)`);
    expect(r.summary).toContain('apt-get install dataset-fashion-mnist');
  });

  it('checks gzip files by what they unpack to', async () => {
    const sources = JSON.parse(await readFile(join(ROOT, 'fetch', 'sources.json'), 'utf8')) as Record<string, DatasetSource>;
    const r = await verifyDataset('fashion-mnist', { dataDir: FIXTURES, fallbacks: [], source: sources['fashion-mnist'] });
    expect(r.status).toBe('ok');
    expect(r.files.map((f) => f.bytes)).toEqual([300 * 784 + 16, 300 + 8, 100 * 784 + 16, 100 + 8]);
  });

  it('without checksums, still checks sizes, reading a gzip file\'s size from its trailer', async () => {
    const sources = JSON.parse(await readFile(join(ROOT, 'fetch', 'sources.json'), 'utf8')) as Record<string, DatasetSource>;
    const r = await verifyDataset('fashion-mnist', { dataDir: FIXTURES, fallbacks: [], source: sources['fashion-mnist'], checksums: false });
    expect(r.status).toBe('ok');
    expect(r.summary).toBe('present, sizes OK (checksums not checked)');
    expect(r.files.every((f) => f.sizeOk === true && f.official === 'not-checked')).toBe(true);
    expect(await contentSize(join(FIXTURES, 'fashion-mnist', 'train-images-idx3-ubyte.gz'))).toBe(300 * 784 + 16);
  });
});

describe('verifyDataset: content that does not parse', () => {
  it('a CIFAR label of 200, without a SHA256SUMS to catch it, is corrupt, not an unofficial copy', async () => {
    const { dataDir, dir } = await cifarCopy();
    const source = await cifarSource((name, b) => (name === 'batches.meta.txt' ? undefined : sha1(b)));
    const file = join(dir, 'data_batch_2.bin');
    const bytes = await readFile(file);
    bytes[3073 * 5] = 200;
    await writeFile(file, bytes);
    const r = await verifyDataset('cifar10', { dataDir, source });
    expect(r.status).toBe('corrupt');
    expect(r.summary).toMatch(new RegExp(`${file}: label 200 in record 5`));
  });

  it('a wrong IDX magic is corrupt', async () => {
    const dataDir = join(tmp, `d${n++}`);
    await cp(join(FIXTURES, 'mnist'), join(dataDir, 'mnist'), { recursive: true });
    const file = join(dataDir, 'mnist', 't10k-images-idx3-ubyte');
    const bytes = await readFile(file);
    bytes[0] = 7;
    await writeFile(file, bytes);
    const files = await Promise.all(
      LAYOUTS.mnist.files.map(async (name) => ({ name, bytes: (await readFile(join(FIXTURES, 'mnist', name))).length, digest: { algorithm: 'sha256' as const, hex: '0'.repeat(64) } })),
    );
    const r = await verifyDataset('mnist', { dataDir, fallbacks: [], source: { dataset: 'mnist', subdir: 'mnist', baseUrl: 'http://unused/', archives: [], files } });
    expect(r.status).toBe('corrupt');
    expect(r.summary).toMatch(new RegExp(`${file}: wrong IDX magic`));
  });

  it('a corrupt .gz is reported in its set\'s report instead of aborting the others', async () => {
    const dataDir = join(tmp, `d${n++}`);
    await cp(join(FIXTURES, 'fashion-mnist'), join(dataDir, 'fashion-mnist'), { recursive: true });
    const file = join(dataDir, 'fashion-mnist', 'train-images-idx3-ubyte.gz');
    await writeFile(file, (await readFile(file)).subarray(0, 500));
    const sources = JSON.parse(await readFile(join(ROOT, 'fetch', 'sources.json'), 'utf8')) as Record<string, DatasetSource>;
    const r = await verifyDataset('fashion-mnist', { dataDir, fallbacks: [], source: sources['fashion-mnist'] });
    expect(r.status).toBe('corrupt');
    expect(r.summary).toMatch(new RegExp(`${file}: not a readable gzip file`));
  });
});

describe('parseSha256Sums', () => {
  it('reads both sha256sum formats (text and binary mode)', () => {
    const a = 'a'.repeat(64);
    const b = 'B'.repeat(64);
    const sums = parseSha256Sums(`${a}  x.bin\n${b} *y.bin\n\n`, 'SUMS');
    expect([...sums]).toEqual([['x.bin', a], ['y.bin', 'b'.repeat(64)]]);
  });

  it('names the file and the line of a malformed entry', () => {
    expect(() => parseSha256Sums(`${'a'.repeat(64)}  ok\nnot a checksum\n`, '/d/SHA256SUMS')).toThrow(/\/d\/SHA256SUMS: line 2 is not/);
  });
});
