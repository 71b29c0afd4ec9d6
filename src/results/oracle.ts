import type { DataUsed, ResultRecord, SeedResult } from './record-types.ts';

/**
 * Committed records as an oracle. The wasm path is deterministic: a run of a spec version
 * with the same params, backend, thread count and data files gives every per-seed metric
 * to the last digit (clean-clone runs reproduced the committed records so). So where all of
 * these match, every difference in a metric is a change in what the code measures, and a
 * deliberate one is a spec version bump with new records, never a silent drift. Pure.
 */

/** One per-seed value that differs from the committed record's. `undefined`: the record lacks it. */
export interface Mismatch {
  claim: string;
  seed: number;
  /** A metric name, or `status` when a seed finished in one record and failed in the other. */
  metric: string;
  committed: number | string | undefined;
  fresh: number | string | undefined;
}

export type OracleResult =
  | { applies: false; why: string }
  | { applies: true; seeds: number[]; compared: number; mismatches: Mismatch[]; added: string[] };

const shortDigest = (d: DataUsed) => `${d.digest.slice(0, 12)} (${d.provenance === 'official' ? 'official' : 'unofficial copy'})`;

/**
 * Why two records' data differ, in words (which dataset, both digests), or undefined when
 * every dataset's files have the same digest.
 */
export function dataDiffers(committed: readonly DataUsed[], fresh: readonly DataUsed[], oldName = 'the committed record'): string | undefined {
  const names = [...new Set([...committed, ...fresh].map((d) => d.dataset))];
  const out: string[] = [];
  for (const name of names) {
    const c = committed.find((d) => d.dataset === name);
    const f = fresh.find((d) => d.dataset === name);
    if (!c || !f) out.push(`${name}: ${c ? `only in ${oldName}` : 'only in the new record'}`);
    else if (c.digest !== f.digest) out.push(`${name}: digest ${shortDigest(c)} in ${oldName}, ${shortDigest(f)} now`);
  }
  return out.length > 0 ? out.join('; ') : undefined;
}

/** Why the committed record cannot judge the new one, or undefined when it can. */
function whyNot(fresh: ResultRecord, committed: ResultRecord): string | undefined {
  if (fresh.claim.id !== committed.claim.id || fresh.tier !== committed.tier) {
    return `the records are of ${committed.claim.id} [${committed.tier}] and ${fresh.claim.id} [${fresh.tier}]`;
  }
  if (fresh.claim.version !== committed.claim.version) return `spec version ${fresh.claim.version} now, ${committed.claim.version} in the committed record`;
  if (fresh.paramsHash !== committed.paramsHash) return `params hash ${fresh.paramsHash} now, ${committed.paramsHash} in the committed record`;
  const b = (r: ResultRecord) => `${r.backend.name} ${r.backend.version}, ${r.backend.threads} thread${r.backend.threads === 1 ? '' : 's'}`;
  if (fresh.backend.name !== committed.backend.name || fresh.backend.version !== committed.backend.version || fresh.backend.threads !== committed.backend.threads) {
    return `backend ${b(fresh)} now, ${b(committed)} in the committed record`;
  }
  if (!committed.data) return 'the committed record names no data files (made before records carried data digests); re-record it on known data (scripts/backfill-record-data.ts)';
  if (!fresh.data) return 'the new record names no data files (they could not be read for digests)';
  const differs = dataDiffers(committed.data, fresh.data);
  if (differs) return `other data files: ${differs}`;
  return undefined;
}

const byseed = (r: ResultRecord) => new Map<number, SeedResult>(r.outcomes.map((o) => [o.seed, o]));

/**
 * Compares a new record's per-seed metrics with a committed record's, exactly, over the
 * seeds both hold; every difference is listed with claim, seed, metric and both values.
 * Applies only where spec version, params hash, backend (name, version, threads) and data
 * digests all match; otherwise says why not.
 */
export function compareWithCommitted(fresh: ResultRecord, committed: ResultRecord): OracleResult {
  const why = whyNot(fresh, committed);
  if (why) return { applies: false, why };
  const [f, c] = [byseed(fresh), byseed(committed)];
  const seeds = [...c.keys()].filter((s) => f.has(s)).sort((a, b) => a - b);
  if (seeds.length === 0) return { applies: false, why: `no seed in common (committed ${[...c.keys()].join(', ') || 'none'}, now ${[...f.keys()].join(', ') || 'none'})` };
  const claim = fresh.claim.id;
  const mismatches: Mismatch[] = [];
  let compared = 0;
  const added = new Set<string>();
  for (const seed of seeds) {
    const [was, now] = [c.get(seed)!, f.get(seed)!];
    if (was.status !== now.status) {
      const state = (o: SeedResult) => (o.status === 'ok' ? 'ok' : `error (${o.error?.name ?? '?'}: ${o.error?.message ?? ''})`);
      mismatches.push({ claim, seed, metric: 'status', committed: state(was), fresh: state(now) });
    }
    // A metric the committed record never had (one added since, e.g. for a precondition) has
    // nothing to be compared with: named as added, never a mismatch. Every committed metric
    // must be there and equal.
    for (const metric of Object.keys(now.metrics)) if (!(metric in was.metrics)) added.add(metric);
    for (const metric of Object.keys(was.metrics).sort()) {
      compared++;
      const [a, b] = [was.metrics[metric], now.metrics[metric]];
      if (a !== b) mismatches.push({ claim, seed, metric, committed: a, fresh: b });
    }
  }
  return { applies: true, seeds, compared, mismatches, added: [...added].sort() };
}

const show = (v: number | string | undefined) => (v === undefined ? 'absent' : String(v));

/** "loss-peak-then-drop seed 2 adv_acc_fgsm: committed 0.2145, now 0.2146". */
export function formatMismatch(m: Mismatch): string {
  return `${m.claim} seed ${m.seed} ${m.metric}: committed ${show(m.committed)}, now ${show(m.fresh)}`;
}

/**
 * A committed record made before records named their data, with the data of a fresh run
 * that reproduced every per-seed metric of it exactly (same spec version, params, backend,
 * threads; every seed). Only then is it known which files the committed numbers came from.
 * Returns the record with `data` added (after `environment`, where the runner writes it),
 * or why it cannot be had.
 */
export function backfillData(committed: ResultRecord, fresh: ResultRecord): { record: ResultRecord } | { why: string } {
  if (committed.data) return { why: 'already names its data' };
  if (!fresh.data) return { why: 'the fresh record names no data either' };
  const o = compareWithCommitted(fresh, { ...committed, data: fresh.data });
  if (!o.applies) return { why: o.why };
  const missing = committed.outcomes.map((x) => x.seed).filter((s) => !o.seeds.includes(s));
  if (missing.length > 0) return { why: `the fresh run lacks seeds ${missing.join(', ')}` };
  if (o.mismatches.length > 0) return { why: `${o.mismatches.length} of ${o.compared} per-seed values differ, e.g. ${formatMismatch(o.mismatches[0])}` };
  const record = {} as Record<string, unknown>;
  for (const [k, v] of Object.entries(committed)) {
    record[k] = v;
    if (k === 'environment') record.data = fresh.data;
  }
  return { record: record as unknown as ResultRecord };
}
