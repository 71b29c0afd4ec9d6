import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DatasetMissingError, resolveDataDir, type LookedAt, type ResolvedDataDir } from './data-dir.ts';
import { contentSize, digestContent, type HashAlgorithm } from './digest.ts';
import { DataFileError } from './errors.ts';
import { LAYOUTS } from './layout.ts';
import { locateDataset, type LocateOptions } from './locate.ts';
import { OFFICIAL_SOURCES, type DatasetSource } from './manifest.ts';
import { readDataset } from './registry.ts';
import type { DatasetName } from '../spec/names.ts';

/** A folder's own checksum list (sha256sum's output format), when it has one. */
const LOCAL_SUMS_FILE = 'SHA256SUMS';

export interface FileCheck {
  name: string;
  path?: string;
  present: boolean;
  /** Content bytes (after gunzip for a .gz file). */
  bytes?: number;
  expectedBytes?: number;
  sizeOk?: boolean;
  sha256?: string;
  /** Against the official set's checksum, where we hold one. */
  official: 'match' | 'differs' | 'not-held' | 'not-checked';
  officialAlgorithm?: HashAlgorithm;
  /** Against the folder's own SHA256SUMS. */
  localSums: 'match' | 'differs' | 'not-listed' | 'no-list' | 'not-checked';
}

/**
 * ok: every held official checksum matches. unofficial: present, sizes OK, but some
 * checksum differs from the official set (e.g. a re-encoded copy). missing / corrupt: fail.
 */
export type DatasetStatus = 'ok' | 'unofficial' | 'missing' | 'corrupt' | 'unreadable';

export interface VerifyReport {
  dataset: DatasetName;
  status: DatasetStatus;
  summary: string;
  dataDir: ResolvedDataDir;
  lookedAt: LookedAt[];
  dir?: string;
  why?: string;
  files: FileCheck[];
}

/** Parses `sha256sum` output: `<64 hex>  <name>` or `<64 hex> *<name>` per line. */
export function parseSha256Sums(text: string, file: string): Map<string, string> {
  const sums = new Map<string, string>();
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    const m = /^([0-9a-fA-F]{64}) [ *](.+)$/.exec(line);
    if (!m) throw new DataFileError(file, 'shape', `line ${i + 1} is not "<sha256>  <file name>": ${JSON.stringify(line)}`);
    sums.set(m[2].trim(), m[1].toLowerCase());
  });
  return sums;
}

async function readLocalSums(dir: string): Promise<Map<string, string> | null> {
  const file = join(dir, LOCAL_SUMS_FILE);
  try {
    return parseSha256Sums(await readFile(file, 'utf8'), file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

export interface VerifyOptions extends LocateOptions {
  /** false: presence and sizes only (a .gz file's size is read from its gzip trailer). */
  checksums?: boolean;
  /** Official sizes and checksums; defaults to OFFICIAL_SOURCES[name]. */
  source?: DatasetSource;
}

/**
 * Checks where a dataset is, that all its files are there, their sizes and their checksums,
 * and (with checksums) that they parse: header, labels in range, gzip intact. A problem with
 * one set is reported in its report, never thrown, so the other sets are still checked.
 */
export async function verifyDataset(name: DatasetName, opts: VerifyOptions = {}): Promise<VerifyReport> {
  try {
    return await verifyOne(name, opts);
  } catch (e) {
    if (!(e instanceof DataFileError)) throw e;
    const dataDir = resolveDataDir({ flag: opts.dataDir, env: opts.env });
    const status: DatasetStatus = e.problem === 'unreadable' || e.problem === 'not-a-folder' ? 'unreadable' : 'corrupt';
    return { dataset: name, status, summary: e.message, dataDir, lookedAt: [], files: [] };
  }
}

async function verifyOne(name: DatasetName, opts: VerifyOptions): Promise<VerifyReport> {
  const where = locateDataset(name, opts);
  const base = { dataset: name, dataDir: where.dataDir, lookedAt: where.lookedAt };
  if (!where.found) {
    const err = new DatasetMissingError(name, where.dataDir, where.lookedAt, LAYOUTS[name].subdir);
    return { ...base, status: 'missing', summary: err.message, files: [] };
  }
  const { dir, why, paths } = where.found;
  const source = opts.source ?? OFFICIAL_SOURCES[name];
  const checksums = opts.checksums ?? true;
  const localSums = checksums ? await readLocalSums(dir) : null;
  const files: FileCheck[] = [];
  for (const official of source.files) {
    const path = paths[official.name];
    const check: FileCheck = {
      name: official.name,
      path,
      present: path !== undefined,
      expectedBytes: official.bytes,
      official: 'not-checked',
      localSums: 'not-checked',
    };
    files.push(check);
    if (!path) continue;
    if (checksums) {
      const algorithms: HashAlgorithm[] = ['sha256'];
      if (official.digest && official.digest.algorithm !== 'sha256') algorithms.push(official.digest.algorithm);
      const d = await digestContent(path, algorithms);
      check.bytes = d.bytes;
      check.sha256 = d.hex.sha256;
      if (official.digest) {
        check.officialAlgorithm = official.digest.algorithm;
        check.official = d.hex[official.digest.algorithm] === official.digest.hex ? 'match' : 'differs';
      } else {
        check.official = 'not-held';
      }
      if (!localSums) check.localSums = 'no-list';
      else {
        // A folder list names the file as it is stored (possibly .gz, then the gz bytes' sum).
        const listed = localSums.get(official.name);
        check.localSums = listed === undefined ? 'not-listed' : listed === d.hex.sha256 ? 'match' : 'differs';
      }
    } else {
      check.bytes = await contentSize(path);
    }
    if (official.bytes !== undefined && check.bytes !== undefined) check.sizeOk = check.bytes === official.bytes;
  }
  const verdict = judge(files);
  if (checksums && (verdict.status === 'ok' || verdict.status === 'unofficial')) {
    // A checksum that differs may be a re-encoded copy or a broken one: parsing tells.
    try {
      await readDataset(name, where.found);
    } catch (e) {
      if (!(e instanceof DataFileError)) throw e;
      return { ...base, dir, why, files, status: 'corrupt', summary: `does not parse: ${e.message}` };
    }
  }
  return { ...base, dir, why, files, ...verdict };
}

function judge(files: FileCheck[]): { status: DatasetStatus; summary: string } {
  const missing = files.filter((f) => !f.present).map((f) => f.name);
  if (missing.length) return { status: 'missing', summary: `missing: ${missing.join(', ')}` };
  const badSize = files.filter((f) => f.sizeOk === false);
  if (badSize.length) {
    return { status: 'corrupt', summary: `wrong size: ${badSize.map((f) => `${f.name} (${f.bytes} bytes, expected ${f.expectedBytes})`).join(', ')}` };
  }
  const badLocal = files.filter((f) => f.localSums === 'differs').map((f) => f.name);
  if (badLocal.length) return { status: 'corrupt', summary: `checksum differs from the folder's own ${LOCAL_SUMS_FILE}: ${badLocal.join(', ')}` };
  const checked = files.some((f) => f.official !== 'not-checked');
  if (!checked) return { status: 'ok', summary: 'present, sizes OK (checksums not checked)' };
  const differs = files.filter((f) => f.official === 'differs').map((f) => f.name);
  const notHeld = files.filter((f) => f.official === 'not-held').map((f) => f.name);
  const heldNote = notHeld.length ? `; no official checksum held for ${notHeld.join(', ')}` : '';
  if (differs.length) {
    const allLocal = files.every((f) => f.localSums === 'match');
    const localNote = allLocal ? `; all match the folder's own ${LOCAL_SUMS_FILE}` : '';
    return {
      status: 'unofficial',
      summary: `present, sizes OK, checksum differs from the official set (${differs.join(', ')})${localNote}${heldNote}`,
    };
  }
  return { status: 'ok', summary: `present, sizes OK, checksums match the official set${heldNote}` };
}
