import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DataFileError } from './errors.ts';
import { parseFlag } from '../util/env-flag.ts';
import { OFFICIAL_SOURCES, type DatasetSource } from './manifest.ts';
import type { DatasetName } from '../spec/names.ts';
import { parseSha256Sums } from './verify.ts';
import { SETTINGS } from '../util/env.ts';

/** Base URL of a mirror laid out as `<mirror>/<dataset>/<official archive name>`. */
export const MIRROR_ENV = SETTINGS.dataMirror.name;
/** A `sha256sum` list (`<hex>  <dataset>/<archive>`) to trust instead of the official archive digests. */
const SUMS_ENV = SETTINGS.dataSums.name;
/** `1` forbids every download (CI, air-gapped machines). */
export const OFFLINE_ENV = SETTINGS.offline.name;

type Env = Record<string, string | undefined>;

/**
 * LABEL_LEAK_OFFLINE as a yes/no switch: 1, true, yes or on forbid downloads; unset, empty,
 * 0, false, no or off allow them. Any other value is refused rather than guessed at (`no`
 * once meant offline, being non-empty), so a typo cannot switch the network on or off.
 */
export function isOffline(env: Env = process.env): boolean {
  const flag = parseFlag(env[OFFLINE_ENV]);
  if (flag === undefined) {
    // Bad input, named like a file error so the CLI prints one line and exits 2.
    throw new DataFileError(
      OFFLINE_ENV,
      'shape',
      `${JSON.stringify(env[OFFLINE_ENV])} is not a yes/no value; set it to 1 (downloads off) or 0 (downloads on), or unset it`,
    );
  }
  return flag;
}

/**
 * Where a dataset is downloaded from and what it must hash to: the official source, or a
 * mirror (MIRROR_ENV). A digest list (SUMS_ENV) replaces the official digests of the
 * archives it names — for a mirror that repacked the files, e.g. a local copy of CIFAR-10
 * tarred again, whose bytes cannot match the official tarball. Archives it does not name
 * keep their official digests. A replaced archive's size and unpacked files are whatever
 * the listed archive holds, so only their presence is checked after unpacking.
 */
export function sourceFor(name: DatasetName, env: Env = process.env, read: (file: string) => string = (f) => readFileSync(f, 'utf8')): DatasetSource {
  const official = OFFICIAL_SOURCES[name];
  const mirror = env[MIRROR_ENV]?.trim();
  const sumsFile = env[SUMS_ENV]?.trim();
  let source: DatasetSource = official;
  if (mirror) {
    const base = mirror.endsWith('/') ? mirror : `${mirror}/`;
    if (!URL.canParse(base) || !/^https?:$/.test(new URL(base).protocol)) {
      // Bad input, named like a file error so the CLI prints one line and exits 2.
      throw new DataFileError(MIRROR_ENV, 'shape', `"${mirror}" is not an http(s) URL; set it to the mirror's base, e.g. https://example.org/datasets/`);
    }
    source = { ...source, baseUrl: new URL(`${name}/`, base).toString() };
  }
  if (sumsFile) {
    const file = resolve(sumsFile);
    let text: string;
    try {
      text = read(file);
    } catch (e) {
      throw new DataFileError(file, 'missing', `cannot read the digest list named by ${SUMS_ENV} (${(e as Error).message})`);
    }
    const sums = parseSha256Sums(text, file);
    const listed = (archive: string) => sums.get(`${name}/${archive}`);
    if (source.archives.some((a) => listed(a.name) !== undefined)) {
      source = {
        ...source,
        archives: source.archives.map((a) => {
          const hex = listed(a.name);
          return hex === undefined ? a : { ...a, sha256: hex, bytes: undefined };
        }),
        files: source.files.map((f) => ({ name: f.name })),
      };
    }
  }
  return source;
}
