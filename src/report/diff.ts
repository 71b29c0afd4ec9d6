import { assertedValue, assertionLabel, fmt } from '../claims/assess.ts';
import { summarize } from '../claims/stats.ts';
import { canonicalJson } from '../claims/hash.ts';
import { describeRegion } from '../claims/verdict.ts';
import type { ClaimResult } from './merge.ts';
import type { ResultRecord } from '../results/record-types.ts';

/**
 * Two sets of result records (two runs, commits or backends) side by side: per claim and
 * tier, the verdicts and every metric's mean and 95% interval across seeds on each side, the
 * change, and whether the verdict moved. Pure; the CLI reads the folders.
 */

/** Records of one claim made by different spec versions measure different things; comparing them needs `force`. */
export class DiffError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DiffError';
  }
}

export interface Side {
  n: number;
  mean: number | null;
  /** 95% CI half-width; null with fewer than two seeds. */
  half: number | null;
  low: number | null;
  high: number | null;
}

export interface DiffRow {
  /** Metric name, or `metric − minus` for an asserted difference. */
  label: string;
  asserted: boolean;
  a: Side | null;
  b: Side | null;
  /** b.mean − a.mean, when both exist. */
  change: number | null;
  /** The two 95% intervals share no point: the change is larger than the seeds' spread explains. */
  apart: boolean;
}

export interface ClaimDiff {
  id: string;
  tier: string;
  versions: [number, number];
  verdicts: [string, string];
  expected: [string, string];
  moved: boolean;
  /** Things to know: another spec version (with force), other params, rescaled runs. */
  notes: string[];
  rows: DiffRow[];
}

export interface Diff {
  claims: ClaimDiff[];
  onlyA: string[];
  onlyB: string[];
}

const key = (r: ResultRecord) => `${r.tier}/${r.claim.id}`;
const finite = (x: number) => (Number.isFinite(x) ? x : null);

function side(r: ResultRecord, value: (m: Record<string, number>) => number | undefined): Side | null {
  const xs = r.outcomes.filter((o) => o.status === 'ok').map((o) => value(o.metrics)).filter((v): v is number => v !== undefined);
  if (xs.length === 0) return null;
  const s = summarize(xs);
  return { n: s.n, mean: finite(s.mean), half: Number.isFinite(s.ci.high) ? s.ci.high - s.mean : null, low: finite(s.ci.low), high: finite(s.ci.high) };
}

function row(label: string, asserted: boolean, a: Side | null, b: Side | null): DiffRow {
  const change = a?.mean != null && b?.mean != null ? b.mean - a.mean : null;
  const apart = a?.low != null && a.high != null && b?.low != null && b.high != null && (b.low > a.high || b.high < a.low);
  return { label, asserted, a, b, change, apart };
}

function metricNames(r: ResultRecord): string[] {
  return [...new Set(r.outcomes.flatMap((o) => Object.keys(o.metrics)))];
}

function compareClaim(a: ResultRecord, b: ResultRecord): ClaimDiff {
  const notes: string[] = [];
  if (a.claim.version !== b.claim.version) notes.push(`spec version ${a.claim.version} in A, ${b.claim.version} in B (compared because --force was given)`);
  else if (a.paramsHash !== b.paramsHash) notes.push(`params differ under one spec version (A ${a.paramsHash}, B ${b.paramsHash})`);
  if (a.claim.version === b.claim.version) {
    // One version should mean one claim; a record edited by hand, or a spec changed without
    // its version bump, breaks that, and the comparison must say so.
    const asserts = (r: ResultRecord) => r.claim.assertions.map((x) => `${x.name}: ${assertionLabel(x)} ${describeRegion(x.op, x.threshold, x.tolerance)}`).join('; ');
    if (canonicalJson(a.claim.assertions) !== canonicalJson(b.claim.assertions)) {
      notes.push(`assertions differ under one spec version ${a.claim.version}: A asserts ${asserts(a)}; B asserts ${asserts(b)} — the two records do not check the same claim`);
    }
    if (a.expected !== b.expected) notes.push(`expected verdict differs under one spec version ${a.claim.version}: A expects ${a.expected}, B expects ${b.expected}`);
  }
  if (a.overrides || b.overrides) notes.push(`rescaled with --set: A ${a.overrides?.join(' ') ?? '—'}; B ${b.overrides?.join(' ') ?? '—'}`);
  if (a.backend.name !== b.backend.name) notes.push(`backend ${a.backend.name} in A, ${b.backend.name} in B`);
  const rows: DiffRow[] = [];
  const seen = new Set<string>();
  for (const as of [...a.claim.assertions, ...b.claim.assertions]) {
    const label = assertionLabel(as);
    if (seen.has(label)) continue;
    seen.add(label);
    const v = (m: Record<string, number>) => assertedValue(as, m);
    rows.push(row(label, true, side(a, v), side(b, v)));
  }
  const names = [...new Set([...metricNames(a), ...metricNames(b)])].sort();
  for (const m of names) rows.push(row(m, false, side(a, (x) => x[m]), side(b, (x) => x[m])));
  return {
    id: a.claim.id,
    tier: a.tier,
    versions: [a.claim.version, b.claim.version],
    verdicts: [a.verdict, b.verdict],
    expected: [a.expected, b.expected],
    moved: a.verdict !== b.verdict,
    notes,
    rows,
  };
}

/** Pairs results by claim and tier. Different spec versions throw a DiffError unless `force`. */
export function diffResults(a: ClaimResult[], b: ClaimResult[], opts: { force?: boolean; files?: [string, string] } = {}): Diff {
  const bByKey = new Map(b.map((c) => [key(c.record), c]));
  const aKeys = new Set(a.map((c) => key(c.record)));
  const claims: ClaimDiff[] = [];
  const versionClashes: string[] = [];
  for (const ca of a) {
    const cb = bByKey.get(key(ca.record));
    if (!cb) continue;
    if (ca.record.claim.version !== cb.record.claim.version && !opts.force) {
      versionClashes.push(
        `${key(ca.record)}: spec version ${ca.record.claim.version} (${ca.files.join(', ')}) vs ${cb.record.claim.version} (${cb.files.join(', ')})`,
      );
      continue;
    }
    claims.push(compareClaim(ca.record, cb.record));
  }
  if (versionClashes.length > 0) {
    throw new DiffError(
      `records of different spec versions measure different things: ${versionClashes.join('; ')}; ` +
        'give --force to compare them anyway',
    );
  }
  return {
    claims,
    onlyA: a.map((c) => key(c.record)).filter((k) => !bByKey.has(k)),
    onlyB: b.map((c) => key(c.record)).filter((k) => !aKeys.has(k)),
  };
}

const cell = (s: Side | null) => (s === null || s.mean === null ? '—' : `${fmt(s.mean)} ± ${s.half === null ? '∞' : fmt(s.half)} (n=${s.n})`);
const signed = (x: number | null) => (x === null ? '—' : `${x > 0 ? '+' : ''}${fmt(x)}`);

export interface RunDescription {
  dir: string;
  records: ResultRecord[];
}

function describe(label: string, d: RunDescription): string {
  const commits = [...new Set(d.records.map((r) => `${r.environment.gitCommit.slice(0, 12)}${r.environment.gitDirty ? '+dirty' : ''}`))];
  const backends = [...new Set(d.records.map((r) => `${r.backend.name} ${r.backend.version} (${r.backend.threads} thread${r.backend.threads === 1 ? '' : 's'})`))];
  const dates = d.records.map((r) => r.finishedAt.slice(0, 10)).sort();
  const when = dates.length === 0 ? '—' : dates[0] === dates[dates.length - 1] ? dates[0] : `${dates[0]} – ${dates[dates.length - 1]}`;
  return `- ${label}: \`${d.dir}\` — commit ${commits.join(', ') || '—'}; ${backends.join(', ') || '—'}; ${when}`;
}

/** Markdown: runs, a verdict table, then per claim a table of every asserted quantity (✱) and metric. */
export function renderDiff(diff: Diff, a: RunDescription, b: RunDescription, opts: { asserted?: boolean } = {}): string {
  const moved = diff.claims.filter((c) => c.moved).length;
  const out = [
    '# label-leak diff',
    '',
    describe('A', a),
    describe('B', b),
    '',
    `${diff.claims.length} claim result${diff.claims.length === 1 ? '' : 's'} in both; ${moved} verdict${moved === 1 ? '' : 's'} moved. ` +
      'Each value is the mean ± 95% CI half-width across seeds; "apart" when the two intervals do not overlap.',
    '',
    '| Claim | Tier | Verdict A | Verdict B | Moved |',
    '|---|---|---|---|---|',
    ...diff.claims.map((c) => `| ${c.id} | ${c.tier} | ${c.verdicts[0]} | ${c.verdicts[1]} | ${c.moved ? `**moved** (${c.verdicts[0]} → ${c.verdicts[1]})` : 'no'} |`),
  ];
  if (diff.onlyA.length > 0) out.push('', `Only in A: ${diff.onlyA.join(', ')}.`);
  if (diff.onlyB.length > 0) out.push('', `Only in B: ${diff.onlyB.join(', ')}.`);
  for (const c of diff.claims) {
    out.push('', `## ${c.id} [${c.tier}]: ${c.verdicts[0]} → ${c.verdicts[1]}${c.moved ? ' (moved)' : ''}`, '');
    for (const n of c.notes) out.push(`- ⚠ ${n}`);
    if (c.notes.length > 0) out.push('');
    out.push('| Metric | A | B | Change (B − A) | Apart |', '|---|---|---|---|---|');
    for (const r of c.rows) {
      if (opts.asserted && !r.asserted) continue;
      out.push(`| ${r.asserted ? '✱ ' : ''}${r.label} | ${cell(r.a)} | ${cell(r.b)} | ${signed(r.change)} | ${r.apart ? 'yes' : ''} |`);
    }
  }
  out.push('', '✱ asserted by the claim.');
  return out.join('\n');
}
