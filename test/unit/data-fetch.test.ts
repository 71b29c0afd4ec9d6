import { mkdir, readdir, readFile, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DownloadError, fetchDataset, partialPath, type FetchOptions, type FetchProgress } from '../../src/data/fetch.ts';
import type { DatasetSource } from '../../src/data/manifest.ts';
import { clearDatasetCache, loadDataset } from '../../src/data/registry.ts';

const ROOT = join(import.meta.dirname, '..', '..', 'fixtures');

/**
 * Serves fixtures/ on 127.0.0.1, honouring `Range: bytes=N-` with 206. Under /tampered/
 * the same files come with one byte flipped (same size, other checksum); under /short/
 * they come cut in half (a whole response, just short); under /drop-once/ the first
 * response of each file is cut off mid-body (the connection drops) and later ones are
 * whole; under /drop-always/ every response drops after half the file, ranges ignored.
 */
function startServer(): Promise<{ server: Server; base: string; requests: string[]; ranges: (string | undefined)[] }> {
  const requests: string[] = [];
  const ranges: (string | undefined)[] = [];
  const dropped = new Set<string>();
  const server = createServer(async (req, res) => {
    const url = req.url ?? '/';
    requests.push(url);
    ranges.push(req.headers.range);
    const [, mode, ...rest] = url.split('/');
    const variants = ['tampered', 'short', 'drop-once', 'drop-always'];
    const variant = variants.includes(mode) ? mode : 'plain';
    const rel = normalize(variant === 'plain' ? url : `/${rest.join('/')}`);
    let body: Uint8Array;
    try {
      body = new Uint8Array(await readFile(join(ROOT, rel)));
    } catch {
      res.writeHead(404);
      res.end('not found');
      return;
    }
    if (variant === 'tampered') body[body.length >> 1] ^= 0xff;
    if (variant === 'short') body = body.subarray(0, body.length >> 1);
    const drop = variant === 'drop-always' || (variant === 'drop-once' && !dropped.has(rel));
    if (drop) {
      dropped.add(rel);
      // Promise the whole file, send half, then cut the connection. The pause lets the
      // client read the half first: fetch() discards chunks it has not yet handed over
      // when the stream errors, which on a real network costs only a re-requested chunk.
      res.writeHead(200, { 'content-length': body.length });
      res.write(body.subarray(0, body.length >> 1), () => setTimeout(() => res.socket?.end(), 300));
      return;
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m && Number(m[1]) < body.length) {
      const from = Number(m[1]);
      res.writeHead(206, { 'content-length': body.length - from, 'content-range': `bytes ${from}-${body.length - 1}/${body.length}` });
      res.end(body.subarray(from));
      return;
    }
    res.writeHead(200, { 'content-length': body.length });
    res.end(body);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ server, base: `http://127.0.0.1:${port}`, requests, ranges });
    });
  });
}

let server: Server;
let base: string;
let requests: string[];
let ranges: (string | undefined)[];
let sources: Record<string, DatasetSource>;
let tmp: string;
let n = 0;
const freshDataDir = () => join(tmp, `d${n++}`);

beforeAll(async () => {
  ({ server, base, requests, ranges } = await startServer());
  sources = JSON.parse(await readFile(join(ROOT, 'fetch', 'sources.json'), 'utf8'));
  tmp = await mkdtemp(join(tmpdir(), 'label-leak-fetch-'));
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  await rm(tmp, { recursive: true, force: true });
});
beforeEach(() => {
  requests.length = 0;
  ranges.length = 0;
  clearDatasetCache();
});

/**
 * fetchDataset with an environment of its own: these tests are about downloading, so the
 * LABEL_LEAK_OFFLINE=1 that CI exports must not reach them (the server is on 127.0.0.1).
 */
const fetchLoopback = (source: DatasetSource, opts: FetchOptions) => fetchDataset(source, { env: {}, retryDelayMs: 0, ...opts });

async function rejection(p: Promise<unknown>): Promise<DownloadError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(DownloadError);
  return e as DownloadError;
}

describe('fetchDataset from a loopback server', () => {
  it('downloads the tarball, checks it, and unpacks only the set\'s files into <data dir>/cifar-10-batches-bin', async () => {
    const dataDir = freshDataDir();
    const progress: FetchProgress[] = [];
    const r = await fetchLoopback(sources.cifar10, { dataDir, baseUrl: `${base}/fetch/`, onProgress: (p) => progress.push(p) });
    expect(r.skipped).toBe(false);
    expect(r.dir).toBe(join(dataDir, 'cifar-10-batches-bin'));
    expect(r.archives).toEqual([{ url: `${base}/fetch/cifar-10-binary.tar.gz`, bytes: sources.cifar10.archives[0].bytes, sha256: sources.cifar10.archives[0].sha256 }]);
    expect((await readdir(r.dir)).sort()).toEqual(sources.cifar10.files.map((f) => f.name).sort());
    // No staging folder or archive is left behind.
    expect(await readdir(dataDir)).toEqual(['cifar-10-batches-bin']);
    const bytes = sources.cifar10.archives[0].bytes!;
    expect(progress.at(-1)).toEqual({ archive: 'cifar-10-binary.tar.gz', received: bytes, total: bytes, resumedFrom: 0 });
    const ds = await loadDataset('cifar10', { dataDir });
    expect([ds.train.count, ds.test.count]).toEqual([10, 2]);
  });

  it('unpacks .gz archives to the official file names', async () => {
    const dataDir = freshDataDir();
    const r = await fetchLoopback(sources['fashion-mnist'], { dataDir, baseUrl: `${base}/data/fashion-mnist` });
    for (const f of sources['fashion-mnist'].files) {
      const got = await readFile(join(r.dir, f.name));
      const want = gunzipSync(await readFile(join(ROOT, 'data', 'fashion-mnist', `${f.name}.gz`)));
      expect(Buffer.compare(got, want)).toBe(0);
    }
    expect((await loadDataset('fashion-mnist', { dataDir, fallbacks: [] })).train.count).toBe(300);
  });

  it('refuses an archive whose SHA-256 differs, naming the URL and both checksums, and writes nothing', async () => {
    const dataDir = freshDataDir();
    const e = await rejection(fetchLoopback(sources.cifar10, { dataDir, baseUrl: `${base}/tampered/fetch/` }));
    expect(e.problem).toBe('checksum');
    expect(e.message).toMatch(new RegExp(`^${base}/tampered/fetch/cifar-10-binary\\.tar\\.gz: SHA-256 mismatch: got [0-9a-f]{64}, expected ${sources.cifar10.archives[0].sha256}; the file was removed and nothing was unpacked$`));
    // Neither the set nor the refused download is left: a later run starts afresh.
    expect(await readdir(dataDir)).toEqual([]);
  });

  it('refuses a short download by its size', async () => {
    const dataDir = freshDataDir();
    const e = await rejection(fetchLoopback(sources.cifar10, { dataDir, baseUrl: `${base}/short/fetch/` }));
    expect(e.problem).toBe('size');
    expect(e.message).toMatch(/cifar-10-binary\.tar\.gz: downloaded \d+ bytes, expected \d+/);
    expect(await readdir(dataDir)).toEqual([]);
  });

  it('reports an HTTP error with the URL and status', async () => {
    const e = await rejection(fetchLoopback(sources.cifar10, { dataDir: freshDataDir(), baseUrl: `${base}/nowhere/` }));
    expect(e.problem).toBe('http');
    expect(e.message).toBe(`${base}/nowhere/cifar-10-binary.tar.gz: download failed: HTTP 404 Not Found`);
  });

  it('reports a refused connection as a network error with the URL', async () => {
    const closed = createServer();
    const port = await new Promise<number>((r) => closed.listen(0, '127.0.0.1', () => r((closed.address() as AddressInfo).port)));
    await new Promise((r) => closed.close(r));
    const e = await rejection(fetchLoopback(sources.cifar10, { dataDir: freshDataDir(), baseUrl: `http://127.0.0.1:${port}/` }));
    expect(e.problem).toBe('network');
    expect(e.message).toContain(`http://127.0.0.1:${port}/cifar-10-binary.tar.gz: download failed`);
  });

  it('leaves a set that is already there alone unless forced', async () => {
    const dataDir = freshDataDir();
    await fetchLoopback(sources.cifar10, { dataDir, baseUrl: `${base}/fetch/` });
    requests.length = 0;
    const again = await fetchLoopback(sources.cifar10, { dataDir, baseUrl: `${base}/fetch/` });
    expect(again.skipped).toBe(true);
    expect(requests).toEqual([]);
    const forced = await fetchLoopback(sources.cifar10, { dataDir, baseUrl: `${base}/fetch/`, force: true });
    expect(forced.skipped).toBe(false);
    expect(requests).toEqual(['/fetch/cifar-10-binary.tar.gz']);
  });

  it('keeps the files already in place when a forced fetch fails', async () => {
    const dataDir = freshDataDir();
    const r = await fetchLoopback(sources.cifar10, { dataDir, baseUrl: `${base}/fetch/` });
    const before = await readFile(join(r.dir, 'test_batch.bin'));
    await rejection(fetchLoopback(sources.cifar10, { dataDir, baseUrl: `${base}/tampered/fetch/`, force: true }));
    expect(Buffer.compare(await readFile(join(r.dir, 'test_batch.bin')), before)).toBe(0);
    expect(await readdir(dataDir)).toEqual(['cifar-10-batches-bin']);
  });

  it('resumes a dropped connection with a Range request and gets the same files', async () => {
    const dataDir = freshDataDir();
    const notices: string[] = [];
    const progress: FetchProgress[] = [];
    const r = await fetchLoopback(sources.cifar10, {
      dataDir,
      baseUrl: `${base}/drop-once/fetch/`,
      retryDelayMs: 0,
      onNotice: (l) => notices.push(l),
      onProgress: (p) => progress.push(p),
    });
    const bytes = sources.cifar10.archives[0].bytes!;
    const half = bytes >> 1;
    expect(requests).toEqual(['/drop-once/fetch/cifar-10-binary.tar.gz', '/drop-once/fetch/cifar-10-binary.tar.gz']);
    expect(ranges).toEqual([undefined, `bytes=${half}-`]);
    expect(notices).toEqual([
      expect.stringMatching(new RegExp(`^cifar-10-binary\\.tar\\.gz: connection lost after ${half} bytes .*; retrying$`)),
      `cifar-10-binary.tar.gz: resuming at byte ${half} of ${bytes}`,
    ]);
    expect(progress.at(-1)).toEqual({ archive: 'cifar-10-binary.tar.gz', received: bytes, total: bytes, resumedFrom: half });
    expect(await readdir(dataDir)).toEqual(['cifar-10-batches-bin']);
    const ds = await loadDataset('cifar10', { dataDir: r.dataDir.dir });
    expect([ds.train.count, ds.test.count]).toEqual([10, 2]);
  });

  it('keeps a partial download (never as the dataset) when the network gives up, and a later fetch resumes it', async () => {
    const dataDir = freshDataDir();
    const e = await rejection(fetchLoopback(sources.cifar10, { dataDir, baseUrl: `${base}/drop-always/fetch/`, retryDelayMs: 0 }));
    expect(e.problem).toBe('network');
    const bytes = sources.cifar10.archives[0].bytes!;
    const part = partialPath(dataDir, sources.cifar10, sources.cifar10.archives[0]);
    expect((await stat(part)).size).toBe(bytes >> 1);
    // Only the hidden partial file: no dataset folder a loader could take.
    expect(await readdir(dataDir)).toEqual([part.slice(dataDir.length + 1)]);
    await expect(loadDataset('cifar10', { dataDir })).rejects.toThrow(/Dataset cifar10 not found/);

    requests.length = 0;
    ranges.length = 0;
    await fetchLoopback(sources.cifar10, { dataDir, baseUrl: `${base}/fetch/`, retryDelayMs: 0 });
    expect(ranges).toEqual([`bytes=${bytes >> 1}-`]);
    expect(await readdir(dataDir)).toEqual(['cifar-10-batches-bin']);
    expect((await loadDataset('cifar10', { dataDir })).train.count).toBe(10);
  });

  it('downloads whole again when a resumed partial does not check out, once', async () => {
    const dataDir = freshDataDir();
    await mkdir(dataDir, { recursive: true });
    const part = partialPath(dataDir, sources.cifar10, sources.cifar10.archives[0]);
    await writeFile(part, new Uint8Array(100).fill(7));
    await fetchLoopback(sources.cifar10, { dataDir, baseUrl: `${base}/fetch/`, retryDelayMs: 0 });
    expect(ranges).toEqual(['bytes=100-', undefined]);
    expect(await readdir(dataDir)).toEqual(['cifar-10-batches-bin']);
  });

  it('offline: makes no request and says so', async () => {
    const dataDir = freshDataDir();
    const e = await rejection(fetchLoopback(sources.cifar10, { dataDir, baseUrl: `${base}/fetch/`, env: { LABEL_LEAK_OFFLINE: '1' } }));
    expect(e.problem).toBe('offline');
    expect(e.message).toMatch(/network access is off \(--offline or LABEL_LEAK_OFFLINE=1\)/);
    expect(requests).toEqual([]);
    expect(await readdir(dataDir).catch(() => [])).toEqual([]);
  });
});
