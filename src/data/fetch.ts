import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { createGunzip } from 'node:zlib';
import * as tar from 'tar';
import { resolveDataDir, type ResolvedDataDir } from './data-dir.ts';
import { DataFileError } from './errors.ts';
import type { ArchiveSpec, DatasetSource } from './manifest.ts';

/** A download that did not arrive as it should (HTTP error, wrong size, wrong checksum). */
export class DownloadError extends Error {
  override readonly name = 'DownloadError';
  constructor(
    readonly url: string,
    readonly problem: 'http' | 'network' | 'size' | 'checksum',
    detail: string,
  ) {
    super(`${url}: ${detail}`);
  }
}

export interface FetchProgress {
  archive: string;
  received: number;
  total: number;
}

export interface FetchOptions {
  /** The `--data-dir` value. */
  dataDir?: string;
  env?: Record<string, string | undefined>;
  /** Replaces the source's base URL (a mirror, or a loopback server in tests). */
  baseUrl?: string;
  /** Download again even when the files are there with the right sizes. */
  force?: boolean;
  onProgress?: (p: FetchProgress) => void;
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

/** Downloads `url` to `file`, hashing as it streams; throws unless size and SHA-256 are as expected. */
export async function downloadVerified(
  url: string,
  file: string,
  expected: { bytes: number; sha256: string },
  opts: Pick<FetchOptions, 'onProgress' | 'fetchImpl'> & { archive: string },
): Promise<void> {
  const fetchImpl = opts.fetchImpl ?? fetch;
  let res: Response;
  try {
    res = await fetchImpl(url);
  } catch (e) {
    const cause = (e as { cause?: Error }).cause;
    throw new DownloadError(url, 'network', `download failed (${cause?.message ?? (e as Error).message})`);
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    throw new DownloadError(url, 'http', `download failed: HTTP ${res.status} ${res.statusText}`);
  }
  const hash = createHash('sha256');
  let received = 0;
  const count = async function* (source: AsyncIterable<Uint8Array>) {
    for await (const chunk of source) {
      hash.update(chunk);
      received += chunk.length;
      opts.onProgress?.({ archive: opts.archive, received, total: expected.bytes });
      yield chunk;
    }
  };
  await pipeline(Readable.fromWeb(res.body as NodeReadableStream<Uint8Array>), count, createWriteStream(file));
  if (received !== expected.bytes) {
    throw new DownloadError(url, 'size', `downloaded ${received} bytes, expected ${expected.bytes}; nothing was unpacked`);
  }
  const got = hash.digest('hex');
  if (got !== expected.sha256) {
    throw new DownloadError(url, 'checksum', `SHA-256 mismatch: got ${got}, expected ${expected.sha256}; nothing was unpacked`);
  }
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

/**
 * Downloads a dataset's archives into `<data dir>/<subdir>/`: each archive's SHA-256 is
 * checked before anything is unpacked, everything is unpacked in a staging folder beside
 * the target, and each file is then renamed into place, so a failed or interrupted fetch
 * never leaves a half-written file under its real name.
 */
export async function fetchDataset(source: DatasetSource, opts: FetchOptions = {}): Promise<FetchResult> {
  const dataDir = resolveDataDir({ flag: opts.dataDir, env: opts.env });
  const dir = join(dataDir.dir, source.subdir);
  const result: FetchResult = { dataset: source.dataset, dataDir, dir, skipped: false, archives: [] };
  if (!opts.force && (await alreadyThere(source, dir))) return { ...result, skipped: true };
  await mkdir(dataDir.dir, { recursive: true });
  const staging = await mkdtemp(join(dataDir.dir, `.fetch-${source.subdir}-`));
  try {
    const wanted = new Set(source.files.map((f) => f.name));
    const unpacked = new Map<string, string>();
    for (const archive of source.archives) {
      const url = archiveUrl(opts.baseUrl ?? source.baseUrl, archive);
      const file = join(staging, archive.name);
      await downloadVerified(url, file, archive, { ...opts, archive: archive.name });
      for (const [name, path] of await unpack(archive, file, staging, wanted)) unpacked.set(name, path);
      await rm(file);
      result.archives.push({ url, bytes: archive.bytes, sha256: archive.sha256 });
    }
    for (const f of source.files) {
      const path = unpacked.get(f.name);
      const size = path ? await sizeOrNull(path) : null;
      const from = source.archives.map((a) => a.name).join(', ');
      if (!path || size === null) throw new DataFileError(f.name, 'missing', `not found in the downloaded archive(s) ${from}`);
      if (f.bytes !== undefined && size !== f.bytes) {
        throw new DataFileError(f.name, 'truncated', `unpacked from ${from} to ${size} bytes, expected ${f.bytes}`);
      }
    }
    await mkdir(dir, { recursive: true });
    for (const f of source.files) await rename(unpacked.get(f.name)!, join(dir, f.name));
    return result;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
