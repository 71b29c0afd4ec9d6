import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { BackendInfo } from '../backend/info.ts';
import { assess } from '../claims/assess.ts';
import { canonicalJson } from '../claims/hash.ts';
import { TIERS } from '../spec/names.ts';
import { TEMP_SUFFIX } from '../util/atomic-write.ts';
import { readRecord, type ResultRecord, type SeedResult } from '../results/record.ts';

/**
 * Records of one claim and tier from several runs (e.g. a GPU job matrix writing one seed
 * per job into its own folder) merge by seed, with statistics and verdict recomputed from
 * the union. Records of different spec versions, params or assertions cannot be mixed.
 */

export interface LoadedRecord {
  file: string;
  record: ResultRecord;
}

/** One claim at one tier, as the report shows it. */
export interface ClaimResult {
  /** Merged record: outcomes from every file, statistics and verdict recomputed. */
  record: ResultRecord;
  files: string[];
  /** Distinct backends that produced the seeds. */
  backends: BackendInfo[];
  /** Duplicate seeds and other things the reader should know. */
  warnings: string[];
}

export class MergeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MergeError';
  }
}

/** Every record under `<dir>/<tier>/*.json` for each dir; temporary files of interrupted writes are skipped. */
export function readResultDirs(dirs: readonly string[]): LoadedRecord[] {
  const out: LoadedRecord[] = [];
  for (const dir of dirs) {
    if (!existsSync(dir)) throw new MergeError(`results folder ${dir} does not exist`);
    if (!statSync(dir).isDirectory()) throw new MergeError(`${dir} is a file, not a results folder; pass the folder given to \`run --results\``);
    const before = out.length;
    for (const tier of TIERS) {
      const tierDir = join(dir, tier);
      if (!existsSync(tierDir)) continue;
      for (const name of readdirSync(tierDir).sort()) {
        if (!name.endsWith('.json') || name.endsWith(TEMP_SUFFIX) || name.startsWith('.')) continue;
        const file = join(tierDir, name);
        out.push({ file, record: readRecord(file) });
      }
    }
    // An empty report that exits 0 would pass a CI step pointed at the wrong folder.
    if (out.length === before) {
      const tierFolder = (TIERS as readonly string[]).includes(basename(resolve(dir)));
      throw new MergeError(
        tierFolder
          ? `${dir} is a tier subfolder; pass the results folder above it: --results ${dirname(resolve(dir))}`
          : `no result records in ${dir} (looked for ${TIERS.map((t) => join(dir, t, '*.json')).join(' and ')}); pass the folder given to \`run --results\``,
      );
    }
  }
  return out;
}

const backendKey = (b: BackendInfo) => `${b.name}\u0000${b.version}\u0000${b.device}\u0000${b.threads}`;

function mergeGroup(group: LoadedRecord[]): ClaimResult {
  const [first] = group;
  const { id } = first.record.claim;
  const { tier } = first.record;
  const where = `${id} [${tier}]`;
  const list = (f: (r: ResultRecord) => string | number) => group.map((g) => `${g.file} (${f(g.record)})`).join(', ');

  if (new Set(group.map((g) => g.record.claim.version)).size > 1) {
    throw new MergeError(`cannot merge ${where}: records come from different spec versions: ${list((r) => `version ${r.claim.version}`)}; re-run the old ones or report them separately`);
  }
  if (new Set(group.map((g) => g.record.paramsHash)).size > 1) {
    throw new MergeError(`cannot merge ${where}: records were run with different params under one spec version: ${list((r) => `params ${r.paramsHash}`)}`);
  }
  if (new Set(group.map((g) => canonicalJson(g.record.claim.assertions))).size > 1) {
    throw new MergeError(`cannot merge ${where}: records assert different things under one spec version (${group.map((g) => g.file).join(', ')}); bump the spec's version`);
  }
  // Seeds checked against other preconditions (or none: records older than them) cannot be judged together.
  if (new Set(group.map((g) => canonicalJson(g.record.claim.preconditions ?? []))).size > 1) {
    throw new MergeError(`cannot merge ${where}: records check different preconditions under one spec version (${group.map((g) => g.file).join(', ')}); re-run the older ones`);
  }
  if (new Set(group.map((g) => g.record.expected)).size > 1) {
    throw new MergeError(`cannot merge ${where}: records expect different verdicts: ${list((r) => r.expected)}`);
  }

  const warnings: string[] = [];
  if (new Set(group.map((g) => g.record.claim.hash)).size > 1) {
    warnings.push(`spec text differs between records of version ${first.record.claim.version} (params and assertions are the same)`);
  }
  const bySeed = new Map<number, { outcome: SeedResult; file: string }>();
  for (const g of group) {
    for (const o of g.record.outcomes) {
      const seen = bySeed.get(o.seed);
      if (seen) {
        const newer = o.finishedAt > seen.outcome.finishedAt;
        warnings.push(`seed ${o.seed} is in ${seen.file} and ${g.file}; using the newer one (${newer ? g.file : seen.file})`);
        if (!newer) continue;
      }
      bySeed.set(o.seed, { outcome: o, file: g.file });
    }
  }
  const seeds = [...new Set(group.flatMap((g) => g.record.seeds))].sort((a, b) => a - b);
  const outcomes = seeds.filter((s) => bySeed.has(s)).map((s) => bySeed.get(s)!.outcome);
  const backends = [...new Map(group.map((g) => [backendKey(g.record.backend), g.record.backend])).values()];
  const latest = group.reduce((a, b) => (b.record.finishedAt > a.record.finishedAt ? b : a)).record;
  const record: ResultRecord = {
    ...latest,
    seeds,
    pendingSeeds: seeds.filter((s) => !bySeed.has(s)),
    outcomes,
    ...assess(latest.claim.assertions, outcomes, latest.claim.preconditions),
    startedAt: group.map((g) => g.record.startedAt).sort()[0],
    finishedAt: latest.finishedAt,
    wallSeconds: group.reduce((s, g) => s + g.record.wallSeconds, 0),
  };
  return { record, files: group.map((g) => g.file), backends, warnings };
}

/** Groups by (claim, tier) and merges each group; sorted by tier, then claim id. */
export function mergeRecords(records: readonly LoadedRecord[]): ClaimResult[] {
  const groups = new Map<string, LoadedRecord[]>();
  for (const r of records) {
    const key = `${r.record.tier}\u0000${r.record.claim.id}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.keys()].sort().map((k) => mergeGroup(groups.get(k)!));
}
