import { locateDataset, type LocateResult } from '../data/locate.ts';
import { isDatasetName, type DatasetName, type Tier } from '../spec/names.ts';
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
