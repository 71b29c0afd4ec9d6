import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { createGunzip } from 'node:zlib';
import * as tar from 'tar';
import { resolveDataDir, type ResolvedDataDir } from './data-dir.ts';
import { DataFileError } from './errors.ts';
import { OFFLINE_ENV, isOffline } from './mirror.ts';
import type { ArchiveSpec, DatasetSource } from './manifest.ts';

/** A download that did not arrive as it should (HTTP error, wrong size, wrong checksum), or was not allowed. */
export class DownloadError extends Error {
  override readonly name = 'DownloadError';
  constructor(
    readonly url: string,
    readonly problem: 'http' | 'network' | 'size' | 'checksum' | 'offline',
    detail: string,
  ) {
    super(`${url}: ${detail}`);
  }
}

export interface FetchProgress {
  archive: string;
  /** Bytes on disk so far, those of an earlier interrupted download included. */
  received: number;
  /** Unknown when neither the source nor the server says. */
  total?: number;
  /** Bytes that were already on disk when this attempt started (a resumed download). */
  resumedFrom: number;
}

export interface FetchOptions {
  /** The `--data-dir` value. */
  dataDir?: string;
  env?: Record<string, string | undefined>;
  /** Replaces the source's base URL (a mirror, or a loopback server in tests). */
  baseUrl?: string;
  /** Download again even when the files are there with the right sizes. */
  force?: boolean;
  /** Forbid network access (default: LABEL_LEAK_OFFLINE from env). */
  offline?: boolean;
  onProgress?: (p: FetchProgress) => void;
  /** One line per event worth a log line (a dropped connection, a resumed download). */
  onNotice?: (line: string) => void;
  /** Pause before resuming after a dropped connection (default 1000 ms). */
  retryDelayMs?: number;
  fetchImpl?: typeof fetch;
}

export interface FetchResult {
  dataset: string;
  dataDir: ResolvedDataDir;
  /** Where the files are now. */
  dir: string;
  skipped: boolean;
  archives: { url: string; bytes: number; sha256: string }[];
}

export function archiveUrl(baseUrl: string, archive: ArchiveSpec): string {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  return new URL(archive.name, base).toString();
}

/** Attempts in a row that may end in a dropped connection, as long as each one brings bytes. */
const MAX_ATTEMPTS = 10;

type DownloadOpts = Pick<FetchOptions, 'onProgress' | 'onNotice' | 'fetchImpl' | 'retryDelayMs' | 'offline'> & { archive: string };

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

function networkError(url: string, e: unknown, received?: number): DownloadError {
  const cause = (e as { cause?: Error }).cause;
  const why = cause?.message ?? (e as Error).message;
  return new DownloadError(url, 'network', received === undefined ? `download failed (${why})` : `connection lost after ${received} bytes (${why})`);
}

/**
 * One request for the bytes of `url` that `file` lacks: with `Range` when part of it is
 * there, appending on 206, starting over on 200 (a server that ignores ranges). A dropped
 * connection throws a `network` DownloadError and leaves the bytes that did arrive.
 */
async function requestRest(url: string, file: string, have: number, expectedBytes: number | undefined, opts: DownloadOpts): Promise<void> {
  const fetchImpl = opts.fetchImpl ?? fetch;
  let res: Response;
  try {
    res = await fetchImpl(url, have > 0 ? { headers: { range: `bytes=${have}-` } } : {});
  } catch (e) {
    throw networkError(url, e);
  }
  // Nothing past what is there: the file is whole as far as the server knows; the checks decide.
  if (res.status === 416 && have > 0) {
    await res.body?.cancel();
    return;
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    throw new DownloadError(url, 'http', `download failed: HTTP ${res.status} ${res.statusText}`);
  }
  let offset = 0;
  let total = expectedBytes;
  if (res.status === 206) {
    const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
    if (!m || Number(m[1]) !== have) {
      await res.body.cancel();
      await rm(file, { force: true });
      throw new DownloadError(url, 'network', `the server resumed at the wrong place (${res.headers.get('content-range')}); starting over`);
    }
    offset = have;
    if (m[2] !== '*') total ??= Number(m[2]);
  } else {
    const length = Number(res.headers.get('content-length') ?? NaN);
    if (Number.isFinite(length)) total ??= length;
  }
  // Each chunk is written before the next is read, so every byte that arrived is on disk
  // when the connection drops (a piped write stream may drop its buffer on destroy).
  let received = offset;
  const out = await open(file, offset > 0 ? 'a' : 'w');
  try {
    for await (const chunk of Readable.fromWeb(res.body as NodeReadableStream<Uint8Array>)) {
      await out.write(chunk);
      received += chunk.length;
      opts.onProgress?.({ archive: opts.archive, received, total, resumedFrom: offset });
    }
  } catch (e) {
    throw networkError(url, e, received);
  } finally {
    await out.close();
  }
}

/**
 * Downloads `url` into `file` and checks its size and SHA-256. The file is a partial
 * download, never a dataset file: when the connection drops, the next attempt (in this
 * process, or in a later run) asks only for the missing bytes. A file of the wrong size or
 * checksum is removed before the error is thrown, so it is never resumed or used.
 */
export async function downloadVerified(
  url: string,
  file: string,
  expected: { bytes?: number; sha256: string },
  opts: DownloadOpts,
): Promise<void> {
  const delay = opts.retryDelayMs ?? 1000;
  let freshRetryDone = false;
  let lastError: DownloadError | undefined;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    let have = (await sizeOrNull(file)) ?? 0;
    if (expected.bytes !== undefined && have > expected.bytes) {
      await rm(file, { force: true });
      have = 0;
    }
    const resumed = have > 0;
    if (expected.bytes === undefined || have < expected.bytes) {
      if (opts.offline) {
        throw new DownloadError(url, 'offline', `not downloaded: network access is off (--offline or ${OFFLINE_ENV}=1)`);
      }
      if (resumed) opts.onNotice?.(`${opts.archive}: resuming at byte ${have}${expected.bytes ? ` of ${expected.bytes}` : ''}`);
      try {
        await requestRest(url, file, have, expected.bytes, opts);
      } catch (e) {
        if (!(e instanceof DownloadError) || e.problem !== 'network') throw e;
        lastError = e;
        const now = (await sizeOrNull(file)) ?? 0;
        // Retry only while attempts change something (bytes arrived, or a bad partial was dropped):
        // a machine without network fails at once.
        if (now === have) throw e;
        opts.onNotice?.(`${opts.archive}: ${e.message.slice(url.length + 2)}; retrying`);
        if (delay > 0) await new Promise((r) => setTimeout(r, delay));
        continue;
      }
    }
    const size = (await sizeOrNull(file)) ?? 0;
    if (expected.bytes !== undefined && size !== expected.bytes) {
      await rm(file, { force: true });
      throw new DownloadError(url, 'size', `downloaded ${size} bytes, expected ${expected.bytes}; nothing was unpacked`);
    }
    const got = await sha256File(file);
    if (got !== expected.sha256) {
      await rm(file, { force: true });
      // Bytes kept from an earlier run may belong to another version of the file: once, start over.
      if (resumed && !freshRetryDone) {
        freshRetryDone = true;
        opts.onNotice?.(`${opts.archive}: the resumed file did not check out (SHA-256 ${got}); downloading it whole`);
        continue;
      }
      throw new DownloadError(url, 'checksum', `SHA-256 mismatch: got ${got}, expected ${expected.sha256}; the file was removed and nothing was unpacked`);
    }
    return;
  }
  throw lastError ?? new DownloadError(url, 'network', `gave up after ${MAX_ATTEMPTS} attempts`);
}

async function gunzipTo(from: string, to: string): Promise<void> {
  try {
    await pipeline(createReadStream(from), createGunzip(), createWriteStream(to));
  } catch (e) {
    throw new DataFileError(from, 'gzip', `cannot unpack (${(e as Error).message})`);
  }
}

/** Unpacks one verified archive into `staging`; returns official file name → unpacked path. */
async function unpack(archive: ArchiveSpec, file: string, staging: string, wanted: Set<string>): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (archive.format === 'gz') {
    const name = archive.unpacksTo;
    if (!name) throw new Error(`archive ${archive.name}: a gz archive needs unpacksTo`);
    const to = join(staging, name);
    await gunzipTo(file, to);
    out.set(name, to);
    return out;
  }
  const folder = archive.folder ?? '';
  const into = join(staging, 'tar');
  await mkdir(into);
  const prefix = folder ? `${folder}/` : '';
  try {
    // Only the set's own files come out (not readme.html); tar strips absolute and ../ paths itself.
    await tar.x({
      file,
      cwd: into,
      strict: true,
      filter: (p) => p.startsWith(prefix) && wanted.has(p.slice(prefix.length)),
    });
  } catch (e) {
    throw new DataFileError(file, 'gzip', `cannot unpack tar archive (${(e as Error).message})`);
  }
  for (const name of wanted) out.set(name, join(into, folder, name));
  return out;
}

async function sizeOrNull(p: string): Promise<number | null> {
  try {
    return (await stat(p)).size;
  } catch {
    return null;
  }
}

/** Every file is in `dir` with its official size (files without a known size: present). */
async function alreadyThere(source: DatasetSource, dir: string): Promise<boolean> {
  for (const f of source.files) {
    const size = await sizeOrNull(join(dir, f.name));
    if (size === null || (f.bytes !== undefined && size !== f.bytes)) return false;
  }
  return true;
}

/** Where an archive's download accumulates until it checks out; a hidden name no loader reads. */
export function partialPath(dataDir: string, source: DatasetSource, archive: ArchiveSpec): string {
  return join(dataDir, `.${source.subdir}.${archive.name}.part`);
}

/**
 * Downloads a dataset's archives into `<data dir>/<subdir>/`: each archive accumulates in
 * a hidden `.part` file (resumed, by HTTP Range, after a dropped connection or in a later
 * run) and its size and SHA-256 are checked before anything is unpacked; everything is
 * unpacked in a staging folder beside the target, and each file is then renamed into
 * place, so a failed or interrupted fetch never leaves a half-written file under its real
 * name. The `.part` files go once the set is in place, or at once when they fail a check.
 */
export async function fetchDataset(source: DatasetSource, opts: FetchOptions = {}): Promise<FetchResult> {
  const dataDir = resolveDataDir({ flag: opts.dataDir, env: opts.env });
  const dir = join(dataDir.dir, source.subdir);
  const result: FetchResult = { dataset: source.dataset, dataDir, dir, skipped: false, archives: [] };
  if (!opts.force && (await alreadyThere(source, dir))) return { ...result, skipped: true };
  const offline = opts.offline ?? isOffline(opts.env ?? process.env);
  await mkdir(dataDir.dir, { recursive: true });
  const parts: string[] = [];
  const wanted = new Set(source.files.map((f) => f.name));
  const unpacked = new Map<string, string>();
  // Every archive first: a download cut off by a kill leaves only its resumable `.part`.
  for (const archive of source.archives) {
    const url = archiveUrl(opts.baseUrl ?? source.baseUrl, archive);
    const part = partialPath(dataDir.dir, source, archive);
    await downloadVerified(url, part, archive, { ...opts, offline, archive: archive.name });
    parts.push(part);
  }
  const staging = await mkdtemp(join(dataDir.dir, `.fetch-${source.subdir}-`));
  try {
    for (const [i, archive] of source.archives.entries()) {
      const url = archiveUrl(opts.baseUrl ?? source.baseUrl, archive);
      const part = parts[i];
      try {
        for (const [name, path] of await unpack(archive, part, staging, wanted)) unpacked.set(name, path);
      } catch (e) {
        // Checked, yet unreadable (a digest list vouched for it): never resume it.
        await rm(part, { force: true });
        throw e;
      }
      const bytes = (await sizeOrNull(part)) ?? 0;
      result.archives.push({ url, bytes, sha256: archive.sha256 });
    }
    for (const f of source.files) {
      const path = unpacked.get(f.name);
      const size = path ? await sizeOrNull(path) : null;
      const from = source.archives.map((a) => a.name).join(', ');
      const problem =
        !path || size === null
          ? new DataFileError(f.name, 'missing', `not found in the downloaded archive(s) ${from}`)
          : f.bytes !== undefined && size !== f.bytes
            ? new DataFileError(f.name, 'truncated', `unpacked from ${from} to ${size} bytes, expected ${f.bytes}`)
            : null;
      if (problem) {
        // The archives checked out yet do not hold the set: downloading them again cannot help.
        for (const part of parts) await rm(part, { force: true });
        throw problem;
      }
    }
    await mkdir(dir, { recursive: true });
    for (const f of source.files) await rename(unpacked.get(f.name)!, join(dir, f.name));
    for (const part of parts) await rm(part, { force: true });
    return result;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
