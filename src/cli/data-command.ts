import { Command, InvalidArgumentError } from 'commander';
import { fetchDataset, type FetchResult } from '../data/fetch.ts';
import { downloadFix } from '../data/download-fix.ts';
import { DATASET_NAMES, isDatasetName, type DatasetName } from '../spec/names.ts';
import { OFFICIAL_SOURCES, type DatasetSource } from '../data/manifest.ts';
import { sourceFor } from '../data/mirror.ts';
import { downloadProgress } from './download-progress.ts';
import { verifyDataset, type FileCheck, type VerifyReport } from '../data/verify.ts';
import { measureLoad, type MemoryProbe } from '../data/measure-load.ts';
import { printable, printableLines } from '../util/printable.ts';
import { SETTINGS } from '../util/env.ts';

/** The command's edges, replaceable in tests. */
export interface DataCommandIo {
  out(text: string): void;
  err(text: string): void;
  setExitCode(code: number): void;
  env?: Record<string, string | undefined>;
  fetchImpl?: typeof fetch;
  /** Official sizes, checksums and URLs; tests substitute fixture sources. */
  sources?: Partial<Record<DatasetName, DatasetSource>>;
  /** Show download progress on stderr — a bar on a terminal, plain lines elsewhere (default: unless --json). */
  progress?: boolean;
  /** Resident memory now and the process's peak so far, in bytes (default: this process). */
  memory?: MemoryProbe;
}

const processIo: DataCommandIo = {
  out: (t) => process.stdout.write(`${t}\n`),
  err: (t) => process.stderr.write(`${t}\n`),
  setExitCode: (c) => {
    process.exitCode = c;
  },
};

function datasetName(value: string): DatasetName {
  if (!isDatasetName(value)) {
    throw new InvalidArgumentError(`unknown dataset "${value}"; choose from ${DATASET_NAMES.join(', ')}`);
  }
  return value;
}

/** For variadic arguments: commander hands each value with the ones parsed before it. */
function datasetNames(value: string, previous: DatasetName[] | undefined): DatasetName[] {
  return [...(previous ?? []), datasetName(value)];
}

const STATUS_WORD: Record<VerifyReport['status'], string> = {
  ok: 'OK',
  unofficial: 'OK (unofficial copy)',
  missing: 'MISSING',
  corrupt: 'CORRUPT',
  unreadable: 'UNREADABLE',
};

function fileLine(f: FileCheck): string {
  if (!f.present) return `  ${f.name}: missing`;
  const parts = [`  ${f.name}: ${f.bytes ?? '?'} bytes`];
  if (f.sizeOk !== undefined) parts.push(f.sizeOk ? 'size OK' : `size wrong (expected ${f.expectedBytes})`);
  if (f.official !== 'not-checked') {
    parts.push(f.official === 'not-held' ? 'no official checksum held' : `official ${f.officialAlgorithm}: ${f.official}`);
  }
  if (f.localSums !== 'not-checked' && f.localSums !== 'no-list') parts.push(`SHA256SUMS: ${f.localSums}`);
  return parts.join(', ');
}

function verifyText(r: VerifyReport): string {
  const lines = [`${r.dataset}: ${STATUS_WORD[r.status]} — ${printableLines(r.summary)}`];
  if (r.dir) lines.push(`  folder: ${printable(r.dir)} (${r.why})`);
  for (const f of r.files) lines.push(fileLine(f));
  return lines.join('\n');
}

export function dataCommand(io: DataCommandIo = processIo): Command {
  const data = new Command('data').description('check, download or load the datasets (mnist, fashion-mnist, cifar10)');
  const sourceOf = (name: DatasetName) => io.sources?.[name] ?? OFFICIAL_SOURCES[name];
  // Downloads honour a mirror and its digest list; `verify` always compares with the official set.
  const fetchSourceOf = (name: DatasetName) => io.sources?.[name] ?? sourceFor(name, io.env ?? process.env);

  data
    .command('verify')
    .description('check where each dataset is, that its files are all there, their sizes and checksums')
    .argument('[names...]', `datasets (default: all of ${DATASET_NAMES.join(', ')})`, datasetNames)
    .option('--data-dir <dir>', `where datasets live (else $${SETTINGS.dataDir.name}, else the cache folder)`)
    .option('--no-checksums', 'check presence and sizes only (fast)')
    .option('--json', 'print the reports as JSON', false)
    .action(async (names: DatasetName[] | undefined, o: { dataDir?: string; checksums: boolean; json: boolean }) => {
      const reports: VerifyReport[] = [];
      for (const name of names?.length ? names : DATASET_NAMES) {
        reports.push(await verifyDataset(name, { dataDir: o.dataDir, env: io.env, checksums: o.checksums, source: sourceOf(name) }));
      }
      io.out(o.json ? JSON.stringify(reports, null, 2) : reports.map(verifyText).join('\n'));
      if (reports.some((r) => r.status !== 'ok' && r.status !== 'unofficial')) io.setExitCode(1);
    });

  data
    .command('fetch')
    .description('download the official archives, check their SHA-256, unpack into the data directory')
    .argument('[names...]', `datasets (default: all of ${DATASET_NAMES.join(', ')})`, datasetNames)
    .option('--data-dir <dir>', `where datasets go (else $${SETTINGS.dataDir.name}, else the cache folder)`)
    .option('--base-url <url>', 'download from this mirror instead of the official address')
    .option('--force', 'download again even when the files are already there', false)
    .option('--json', 'print the results as JSON', false)
    .action(async (names: DatasetName[] | undefined, o: { dataDir?: string; baseUrl?: string; force: boolean; json: boolean }) => {
      const results: (FetchResult | { dataset: DatasetName; error: string; fix: string })[] = [];
      for (const name of names?.length ? names : DATASET_NAMES) {
        const show = io.progress ?? !o.json;
        const progress = show ? downloadProgress(process.stderr) : undefined;
        try {
          const r = await fetchDataset(fetchSourceOf(name), {
            dataDir: o.dataDir,
            env: io.env,
            baseUrl: o.baseUrl,
            force: o.force,
            fetchImpl: io.fetchImpl,
            onProgress: progress?.onProgress,
            onNotice: progress?.onNotice,
          });
          results.push(r);
          if (!o.json) io.err(r.skipped ? `${name}: already in ${r.dir} (sizes OK); --force downloads again` : `${name}: fetched into ${r.dir}`);
        } catch (e) {
          const message = (e as Error).message;
          const fix = downloadFix(name, e);
          results.push({ dataset: name, error: message, fix });
          if (!o.json) io.err(`${name}: fetch failed — ${printableLines(message)}; to fix: ${fix}`);
          // Exit 2 as `run` does when data cannot be had: either way the fix printed beside it is
          // the user's (a mirror, network access, a writable folder), not a failed check.
          io.setExitCode(2);
        } finally {
          progress?.stop();
        }
      }
      if (o.json) io.out(JSON.stringify(results, null, 2));
    });

  data
    .command('load')
    .description('load a dataset as a claim run does and print its size, the time taken and resident memory')
    .argument('<name>', `dataset (${DATASET_NAMES.join(', ')})`, datasetName)
    .option('--data-dir <dir>', `where datasets live (else $${SETTINGS.dataDir.name}, else the cache folder)`)
    .option('--json', 'print the report as JSON', false)
    .action(async (name: DatasetName, o: { dataDir?: string; json: boolean }) => {
      // Sizes as the official set's: whole records missing or extra are refused, as `run` does.
      const r = await measureLoad(name, { dataDir: o.dataDir, env: io.env, source: sourceOf(name) }, io.memory);
      io.out(
        o.json
          ? JSON.stringify(r, null, 2)
          : `${name}: ${r.train} train + ${r.test} test images (${r.datasetMB} MiB) in ${r.seconds} s; ` +
              `resident memory ${r.rssBeforeMB} → ${r.rssAfterMB} MiB, peak ${r.peakRssMB} MiB`,
      );
    });

  return data;
}
