import { lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { downloadFix } from '../../src/data/download-fix.ts';
import { DataFileError } from '../../src/data/errors.ts';
import { DataDirWriteError, DownloadError, fetchDataset, partialPath, type FetchOptions } from '../../src/data/fetch.ts';
import type { DatasetSource } from '../../src/data/manifest.ts';

// Downloads that must not run away: more bytes than the archive has, a server that goes
// silent, a disk that fills up, a folder that cannot be written. Each ends at once with the
// cause in words and a fix that fits it; the waits are a few hundred milliseconds, injected.

const ROOT = join(import.meta.dirname, '..', '..', 'fixtures');
const STALL_MS = 300;

/**
 * Serves fixtures/fetch/cifar-10-binary.tar.gz in ways a real server can misbehave:
 *  /long/…      the file, then 1 MiB more, chunked (no length said)
 *  /long-said/… the same, with a content-length that says so
 *  /silent/…    accepts the request and never answers
 *  /stall/…     sends the headers and half of what was asked for, then goes silent
 */
let server: Server;
let base: string;
let requests: string[];
const sockets = new Set<Socket>();
let body: Buffer;

beforeAll(async () => {
  body = await readFile(join(ROOT, 'fetch', 'cifar-10-binary.tar.gz'));
  requests = [];
  server = createServer((req, res) => {
    const url = req.url ?? '/';
    requests.push(url);
    const mode = url.split('/')[1];
    const extra = Buffer.alloc(1024 * 1024, 7);
    if (mode === 'long') {
      res.writeHead(200);
      res.write(body);
      res.end(extra);
    } else if (mode === 'long-said') {
      res.writeHead(200, { 'content-length': body.length + extra.length });
      res.end(Buffer.concat([body, extra]));
    } else if (mode === 'silent') {
      // never answers
    } else if (mode === 'stall') {
      const from = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0);
      const rest = body.subarray(from);
      res.writeHead(from > 0 ? 206 : 200, {
        'content-length': rest.length,
        ...(from > 0 ? { 'content-range': `bytes ${from}-${body.length - 1}/${body.length}` } : {}),
      });
      res.write(rest.subarray(0, Math.max(1, rest.length >> 1)));
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => server.close(r));
});

let sources: Record<string, DatasetSource>;
let tmp: string;
let n = 0;
const freshDataDir = () => join(tmp, `d${n++}`);
beforeAll(async () => {
  sources = JSON.parse(await readFile(join(ROOT, 'fetch', 'sources.json'), 'utf8'));
  tmp = await mkdtemp(join(tmpdir(), 'label-leak-fetch-limits-'));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));
beforeEach(() => {
  requests.length = 0;
});

const fetchLoopback = (opts: FetchOptions) => fetchDataset(sources.cifar10, { env: {}, retryDelayMs: 0, stallTimeoutMs: STALL_MS, ...opts });

async function rejection<T>(p: Promise<unknown>, type: new (...a: any[]) => T): Promise<T> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(type);
  return e as T;
}

describe('a download larger than the archive', () => {
  it.each(['long', 'long-said'])('(%s) stops at the archive\'s known size: never more bytes on disk, the file removed', async (mode) => {
    const dataDir = freshDataDir();
    const expected = sources.cifar10.archives[0].bytes!;
    let most = 0;
    // Not a stall test: on a starved machine (seen at autogroup nice 10 beside three trainings) 300 ms
    // without a byte can pass on loopback, and the download would end as stalled and be retried.
    const e = await rejection(fetchLoopback({ dataDir, baseUrl: `${base}/${mode}/`, stallTimeoutMs: 30_000, onProgress: (p) => (most = Math.max(most, p.received)) }), DownloadError);
    expect(e.problem).toBe('size');
    expect(e.message).toMatch(new RegExp(`: the server sent more than the ${expected} bytes the archive has \\(\\d+ so far\\); stopped, removed the file, nothing was unpacked$`));
    expect(most).toBeLessThanOrEqual(expected);
    expect(requests).toHaveLength(1);
    expect(await readdir(dataDir)).toEqual([]);
  });
});

describe('a server that goes silent', () => {
  it('that never answers: a stalled download after the stall timeout, named as such, with a fix that fits', async () => {
    const e = await rejection(fetchLoopback({ dataDir: freshDataDir(), baseUrl: `${base}/silent/` }), DownloadError);
    expect(e.problem).toBe('stalled');
    expect(e.message).toBe(`${base}/silent/cifar-10-binary.tar.gz: no answer from the server in ${STALL_MS / 1000} s`);
    expect(requests).toHaveLength(1);
    expect(downloadFix('cifar10', e)).toMatch(/^the server went silent: run again later \(the download resumes where it stopped\), or set LABEL_LEAK_DATA_MIRROR/);
  });

  it('whose body stops: resumed while bytes come, each stall said on a line of its own, the bytes kept', async () => {
    const dataDir = freshDataDir();
    const notices: string[] = [];
    const e = await rejection(fetchLoopback({ dataDir, baseUrl: `${base}/stall/`, onNotice: (l) => notices.push(l) }), DownloadError);
    expect(e.problem).toBe('stalled');
    expect(e.message).toMatch(new RegExp(`the server stopped sending: nothing for ${STALL_MS / 1000} s after \\d+ bytes$`));
    expect(notices[0]).toMatch(new RegExp(`^cifar-10-binary\\.tar\\.gz: the server stopped sending: nothing for ${STALL_MS / 1000} s after ${body.length >> 1} bytes; retrying$`));
    expect(requests.length).toBeGreaterThan(1);
    // What arrived stays, for a later run to resume.
    const part = partialPath(dataDir, sources.cifar10, sources.cifar10.archives[0]);
    expect((await lstat(part)).size).toBeGreaterThanOrEqual(body.length >> 1);
  });
});

describe('the data directory cannot take the download', () => {
  it('a full disk is said as such, with where and how much is needed; never as a dropped connection', async () => {
    const dataDir = freshDataDir();
    await mkdir(dataDir, { recursive: true });
    // /dev/full answers every write with ENOSPC: the partial download's place on a full disk.
    const part = partialPath(dataDir, sources.cifar10, sources.cifar10.archives[0]);
    await symlink('/dev/full', part);
    const e = await rejection(fetchLoopback({ dataDir, baseUrl: `${base}/stall/` }), DataDirWriteError);
    const unpacked = sources.cifar10.files.reduce((s, f) => s + (f.bytes ?? 0), 0);
    const need = sources.cifar10.archives[0].bytes! + unpacked;
    expect(e.problem).toBe('disk-full');
    expect(e.needBytes).toBe(need);
    expect(e.message).toBe(`${part}: cannot write: no space left on device (ENOSPC); ${(need / 1048576).toFixed(1)} MiB more are needed there`);
    expect(requests).toHaveLength(1);
    expect(downloadFix('cifar10', e)).toMatch(new RegExp(`^free ${Math.ceil(need / 1048576)} MiB on the disk of ${part}, or point --data-dir at a disk with room, and run again`));
  });

  it('a data directory under a file is named, with a fix about the folder, not the network', async () => {
    const file = join(tmp, `file${n++}`);
    await writeFile(file, 'x');
    const e = await rejection(fetchLoopback({ dataDir: join(file, 'data'), baseUrl: `${base}/stall/` }), DataDirWriteError);
    expect(e.problem).toBe('not-writable');
    expect(e.message).toBe(`${join(file, 'data')}: cannot write: ${file} is a file, not a folder`);
    expect(requests).toEqual([]);
    expect(downloadFix('cifar10', e)).toMatch(new RegExp(`^make ${join(file, 'data')} writable, or point --data-dir \\(or LABEL_LEAK_DATA_DIR\\) at a folder you can write to`));
  });
});

describe('each failed download gets the fix of its cause', () => {
  const url = 'http://example.invalid/a.tar.gz';
  it.each([
    [new DownloadError(url, 'http', 'HTTP 404', 404), /^the server no longer has the file \(HTTP 404\)/],
    [new DownloadError(url, 'http', 'HTTP 403', 403), /^the server refuses the download \(HTTP 403\)/],
    [new DownloadError(url, 'http', 'HTTP 503', 503), /^the server failed \(HTTP 503\): run again later/],
    [new DownloadError(url, 'network', 'connection lost'), /^check the network connection and run again/],
    [new DownloadError(url, 'checksum', 'mismatch'), /^the server sent something other than the official file/],
    [new DownloadError(url, 'offline', 'off'), /^run `label-leak data fetch cifar10` with network access/],
    [new DataFileError('LABEL_LEAK_OFFLINE', 'shape', '"maybe" is not a yes/no value'), /^correct LABEL_LEAK_OFFLINE as said above$/],
  ] as [DownloadError | DataFileError, RegExp][])('%s', (e, fix) => {
    expect(downloadFix('cifar10', e)).toMatch(fix);
    // The network is named only where the network failed.
    if (e.problem !== 'network' && e.problem !== 'offline') expect(downloadFix('cifar10', e)).not.toMatch(/network/);
  });
});
