import { locateDataset, type LocateResult } from '../data/locate.ts';
import { DataFileError } from '../data/errors.ts';
import { OFFICIAL_SOURCES } from '../data/manifest.ts';
import { loadDataset } from '../data/registry.ts';
import type { Dataset, DatasetName } from '../data/types.ts';
import { SpecError, type SpecProblem } from './errors.ts';
import type { LoadedSpec, Tier } from './spec.ts';

/**
 * Which datasets a spec needs at a tier, and which of them this machine lacks, so the
 * claim suite can skip such a claim by name with the reason before running anything.
 * Experiment kinds name their data in params as `dataset: <name>` (at any depth, e.g. the
 * difficulty sweep's list), which is what is read here.
 */

const NAMES: readonly DatasetName[] = ['mnist', 'fashion-mnist', 'cifar10'];
const isName = (v: unknown): v is DatasetName => typeof v === 'string' && (NAMES as readonly string[]).includes(v);

export function datasetsOf(params: unknown): DatasetName[] {
  const found = new Set<DatasetName>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === 'object') {
      for (const [k, w] of Object.entries(v)) {
        if (k === 'dataset' && isName(w)) found.add(w);
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
  for (const dataset of datasetsOf(spec.tiers[tier].params)) {
    const where = locate(dataset, { dataDir });
    if (!where.found) {
      out.push({ dataset, reason: `dataset ${dataset} not found (looked in ${where.lookedAt.map((l) => l.dir).join(', ')})` });
    } else if (where.found.missing.length > 0) {
      out.push({ dataset, reason: `dataset ${dataset} incomplete in ${where.found.dir} (lacks ${where.found.missing.join(', ')})` });
    }
  }
  return out;
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
  const here: Selection[] = isName(o.dataset)
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
  load: (name: DatasetName) => Promise<Dataset> = (name) => loadDataset(name, { dataDir, source: OFFICIAL_SOURCES[name] }).catch((e: unknown) => {
    throw withFix(e, name);
  }),
): Promise<void> {
  const problems: SpecProblem[] = [];
  for (const spec of specs) {
    for (const sel of selectionsOf(spec.tiers[tier].params)) {
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
  if (problems.length > 0) throw new SpecError(problems);
}

/** A damaged file's message says what is wrong; this adds what to do about it. */
function withFix(e: unknown, name: DatasetName): unknown {
  if (!(e instanceof DataFileError) || /; (replace|make|delete|name)\b/.test(e.message)) return e;
  const detail = e.message.slice(e.file.length + 2);
  return new DataFileError(e.file, e.problem, `${detail}; replace the file with a good copy (\`label-leak data fetch ${name} --force\`; \`label-leak data verify ${name}\` checks them all)`);
}
