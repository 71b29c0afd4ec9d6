import { createHash } from 'node:crypto';
import { constants, createReadStream, createWriteStream } from 'node:fs';
import { access, mkdir, mkdtemp, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { createGunzip } from 'node:zlib';
import * as tar from 'tar';
import { resolveDataDir, type ResolvedDataDir } from './data-dir.ts';
import { DataFileError, errnoMeaning } from './errors.ts';
import { writeFailureReason } from '../util/write-error.ts';
import { OFFLINE_ENV, isOffline } from './mirror.ts';
import type { ArchiveSpec, DatasetSource } from './manifest.ts';

/** A download that did not arrive as it should (HTTP error, wrong size, wrong checksum), or was not allowed. */
export class DownloadError extends Error {
  override readonly name = 'DownloadError';
  constructor(
    readonly url: string,
    /** `stalled`: the server sent nothing for the stall timeout (no answer, or a body that stopped). */
    readonly problem: 'http' | 'network' | 'stalled' | 'size' | 'checksum' | 'offline',
    detail: string,
    /** The HTTP status of an `http` problem. */
    readonly status?: number,
  ) {
    super(`${url}: ${detail}`);
  }
}

/**
 * The data directory cannot take the download: not writable (a read-only or foreign folder)
 * or full. Bad input of this machine, not of the network: named by path, with the fix.
 */
export class DataDirWriteError extends DataFileError {
  constructor(
    path: string,
    problem: 'not-writable' | 'disk-full',
    detail: string,
    /** For a full disk: bytes still to be written (the rest of the download and the unpacked files). */
    readonly needBytes?: number,
  ) {
    super(path, problem, detail);
  }
}

/** Seconds of silence (no answer, or no body bytes) after which a download counts as stalled. */
const DEFAULT_STALL_MS = 30_000;

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
  /** Give up on a request that brings no byte for this long: no answer, or a body that stopped (default DEFAULT_STALL_MS). */
  stallTimeoutMs?: number;
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

function archiveUrl(baseUrl: string, archive: ArchiveSpec): string {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  return new URL(archive.name, base).toString();
}

/** Attempts in a row that may end in a dropped connection, as long as each one brings bytes. */
const MAX_ATTEMPTS = 10;

type DownloadOpts = Pick<FetchOptions, 'onProgress' | 'onNotice' | 'fetchImpl' | 'retryDelayMs' | 'offline' | 'stallTimeoutMs'> & {
  archive: string;
  /** Bytes the unpacked files will take besides the archive, for a full disk's message. */
  unpackedBytes?: number;
};

const MiB = 1024 * 1024;
const inMiB = (n: number) => `${(n / MiB).toFixed(1)} MiB`;

/** A failed write of the download: a full disk or an unwritable folder, said as such (never as a dropped connection). */
function diskFailure(path: string, e: unknown, needBytes?: number): DataDirWriteError {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    const need = needBytes === undefined ? '' : `; ${inMiB(needBytes)} more are needed there`;
    return new DataDirWriteError(path, 'disk-full', `cannot write: ${errnoMeaning(e)}${need}`, needBytes);
  }
  return new DataDirWriteError(path, 'not-writable', `cannot write: ${writeFailureReason(path, e)}`);
}

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
 * connection throws a `network` DownloadError, and one silent for the stall timeout a
 * `stalled` one, leaving the bytes that did arrive. More bytes than the archive's known size
 * are never written: the request stops at the first byte over it.
 */
async function requestRest(url: string, file: string, have: number, expectedBytes: number | undefined, opts: DownloadOpts): Promise<void> {
  const fetchImpl = opts.fetchImpl ?? fetch;
  const stallMs = opts.stallTimeoutMs ?? DEFAULT_STALL_MS;
  // One timer for connect, headers and body: restarted by every chunk, so only silence trips it.
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), stallMs);
  const stalled = (received: number) =>
    new DownloadError(
      url,
      'stalled',
      received === have
        ? `no answer from the server in ${stallMs / 1000} s`
        : `the server stopped sending: nothing for ${stallMs / 1000} s after ${received} bytes`,
    );
  try {
    let res: Response;
    try {
      res = await fetchImpl(url, { ...(have > 0 ? { headers: { range: `bytes=${have}-` } } : {}), signal: abort.signal });
    } catch (e) {
      throw abort.signal.aborted ? stalled(have) : networkError(url, e);
    }
    // Nothing past what is there: the file is whole as far as the server knows; the checks decide.
    if (res.status === 416 && have > 0) {
      await res.body?.cancel();
      return;
    }
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      throw new DownloadError(url, 'http', `download failed: HTTP ${res.status} ${res.statusText}`, res.status);
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
    const overSize = (n: number) =>
      new DownloadError(url, 'size', `the server sent more than the ${expectedBytes} bytes the archive has (${n} so far); stopped, removed the file, nothing was unpacked`);
    if (expectedBytes !== undefined) {
      // A promised length beyond the archive's size is refused before a byte is written.
      const promised = offset + Number(res.headers.get('content-length') ?? NaN);
      if (promised > expectedBytes) {
        await res.body.cancel();
        await rm(file, { force: true });
        throw overSize(promised);
      }
    }
    // Each chunk is written before the next is read, so every byte that arrived is on disk
    // when the connection drops (a piped write stream may drop its buffer on destroy).
    let received = offset;
    const stillNeeded = () => (expectedBytes === undefined ? undefined : expectedBytes - received + (opts.unpackedBytes ?? 0));
    const out = await open(file, offset > 0 ? 'a' : 'w').catch((e: unknown) => {
      throw diskFailure(file, e, stillNeeded());
    });
    let tooMuch = false;
    try {
      const body = Readable.fromWeb(res.body as NodeReadableStream<Uint8Array>);
      try {
        for await (const chunk of body) {
          timer.refresh();
          if (expectedBytes !== undefined && received + chunk.length > expectedBytes) {
            tooMuch = true;
            body.destroy();
            throw overSize(received + chunk.length);
          }
          try {
            await out.write(chunk);
          } catch (e) {
            body.destroy();
            throw diskFailure(file, e, stillNeeded());
          }
          received += chunk.length;
          opts.onProgress?.({ archive: opts.archive, received, total, resumedFrom: offset });
        }
      } catch (e) {
        if (e instanceof DownloadError || e instanceof DataDirWriteError) throw e;
        throw abort.signal.aborted ? stalled(received) : networkError(url, e, received);
      }
    } finally {
      await out.close();
      if (tooMuch) await rm(file, { force: true });
    }
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Downloads `url` into `file` and checks its size and SHA-256. The file is a partial
 * download, never a dataset file: when the connection drops, the next attempt (in this
 * process, or in a later run) asks only for the missing bytes. A file of the wrong size or
 * checksum is removed before the error is thrown, so it is never resumed or used.
 */
async function downloadVerified(
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
        if (!(e instanceof DownloadError) || (e.problem !== 'network' && e.problem !== 'stalled')) throw e;
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

/** Errnos of the file system written to, not of the archive read: a full or unwritable disk, not a damaged archive. */
const WRITE_ERRNOS = new Set(['ENOSPC', 'EDQUOT', 'EACCES', 'EPERM', 'EROFS']);
const isWriteErrno = (e: unknown) => WRITE_ERRNOS.has((e as NodeJS.ErrnoException)?.code ?? '');

async function gunzipTo(from: string, to: string, unpackedBytes?: number): Promise<void> {
  try {
    await pipeline(createReadStream(from), createGunzip(), createWriteStream(to));
  } catch (e) {
    if (isWriteErrno(e)) throw diskFailure(to, e, unpackedBytes);
    throw new DataFileError(from, 'gzip', `cannot unpack (${(e as Error).message})`);
  }
}

/** Unpacks one verified archive into `staging`; returns official file name → unpacked path. */
async function unpack(archive: ArchiveSpec, file: string, staging: string, wanted: Set<string>, unpackedBytes?: number): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (archive.format === 'gz') {
    const name = archive.unpacksTo;
    if (!name) throw new Error(`archive ${archive.name}: a gz archive needs unpacksTo`);
    const to = join(staging, name);
    await gunzipTo(file, to, unpackedBytes);
    out.set(name, to);
    return out;
  }
  const folder = archive.folder ?? '';
  const into = join(staging, 'tar');
  await mkdir(into).catch((e: unknown) => {
    throw diskFailure(into, e);
  });
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
    if (isWriteErrno(e)) throw diskFailure(into, e, unpackedBytes);
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
  // A folder we may not write (or under a file) is said as such now, not as a crash or an ENOENT.
  await mkdir(dataDir.dir, { recursive: true }).catch((e: unknown) => {
    throw diskFailure(dataDir.dir, e);
  });
  await access(dataDir.dir, constants.W_OK | constants.X_OK).catch((e: unknown) => {
    throw diskFailure(dataDir.dir, e);
  });
  const parts: string[] = [];
  const wanted = new Set(source.files.map((f) => f.name));
  const unpacked = new Map<string, string>();
  const unpackedBytes = source.files.reduce((n, f) => n + (f.bytes ?? 0), 0);
  // Every archive first: a download cut off by a kill leaves only its resumable `.part`.
  for (const [i, archive] of source.archives.entries()) {
    const url = archiveUrl(opts.baseUrl ?? source.baseUrl, archive);
    const part = partialPath(dataDir.dir, source, archive);
    // What a full disk still needs: this archive's rest, the later archives, and the unpacked files.
    const later = source.archives.slice(i + 1).reduce((n, a) => n + (a.bytes ?? 0), 0);
    await downloadVerified(url, part, archive, { ...opts, offline, archive: archive.name, unpackedBytes: later + unpackedBytes });
    parts.push(part);
  }
  const staging = await mkdtemp(join(dataDir.dir, `.fetch-${source.subdir}-`)).catch((e: unknown) => {
    throw diskFailure(dataDir.dir, e, unpackedBytes);
  });
  try {
    for (const [i, archive] of source.archives.entries()) {
      const url = archiveUrl(opts.baseUrl ?? source.baseUrl, archive);
      const part = parts[i];
      try {
        for (const [name, path] of await unpack(archive, part, staging, wanted, unpackedBytes)) unpacked.set(name, path);
      } catch (e) {
        // A full disk: the checked archive stays, to be unpacked once there is room.
        if (e instanceof DataDirWriteError) throw e;
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
    try {
      await mkdir(dir, { recursive: true });
      for (const f of source.files) await rename(unpacked.get(f.name)!, join(dir, f.name));
    } catch (e) {
      throw diskFailure(dir, e);
    }
    for (const part of parts) await rm(part, { force: true });
    return result;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
