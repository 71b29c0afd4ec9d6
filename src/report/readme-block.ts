import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { assertedValue } from '../claims/assess.ts';
import { summarize } from '../claims/stats.ts';
import { readRecord } from '../results/record.ts';
import type { AssertionResult, ResultRecord } from '../results/record-types.ts';

/**
 * Result numbers in README.md and docs/*.md are never typed by hand: each sits in a block
 *
 *     <!-- results:begin claims fast -->
 *     …generated Markdown…
 *     <!-- results:end -->
 *
 * whose body is rendered here from the committed records (docs/results/records). A block is a
 * name and an argument (a tier or a claim id); `renderBlocks` rewrites every block of a
 * document and `staleBlocks` says which differ, so a test fails the moment a record or a
 * block is edited without the other (scripts/results-blocks.ts writes them).
 */

export const BEGIN = /^<!-- results:begin ([a-z-]+)(?: ([A-Za-z0-9_./-]+))? -->$/;
export const END = '<!-- results:end -->';

export class BlockError extends Error {}

/** The committed records, relative to the repository root (where README.md links them). */
export const RECORDS_DIR = 'docs/results/records';

/** Every record under `dir/<tier>/*.json` (superseded records, one folder deeper, are not read). */
export function loadRecords(dir: string): ResultRecord[] {
  const out: ResultRecord[] = [];
  for (const tier of readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort()) {
    for (const f of readdirSync(join(dir, tier)).filter((f) => f.endsWith('.json')).sort()) out.push(readRecord(join(dir, tier, f)));
  }
  return out;
}

// ---- numbers as people read them --------------------------------------------------------

/** "−13.4": one decimal, a real minus sign, no "−0.0". */
function signed(x: number, digits: number): string {
  const s = x.toFixed(digits);
  if (Number(s) === 0) return (0).toFixed(digits);
  return s.replace(/^-/, '−');
}

/** The metric's name without a composite's role prefix (`training.`) or a sweep cell (`{…}`). */
const bare = (metric: string) => metric.replace(/\{.*\}$/, '').replace(/^.*\./, '');

/** Accuracies and accuracy gaps are shown in % and points; losses and counts as they are. */
function isAccuracy(metric: string): boolean {
  const m = bare(metric);
  return !/loss|epoch_first_leak|epoch_leak_count/.test(m) && /acc|gap/.test(m);
}

type Unit = 'percent' | 'points' | 'plain';

function unitOf(q: { metric: string; minus?: string }): Unit {
  if (!isAccuracy(q.metric)) return 'plain';
  if (q.minus !== undefined) return isAccuracy(q.minus) ? 'points' : 'plain';
  return /gap/.test(bare(q.metric)) ? 'points' : 'percent';
}

/** Counts (an epoch, a number of epochs) stay whole; other plain numbers get 3 decimals. */
function num(x: number, unit: Unit): string {
  if (unit === 'plain') return Number.isInteger(x) ? signed(x, 0) : signed(x, 3);
  return signed(100 * x, 1);
}

const suffix = (unit: Unit) => (unit === 'percent' ? '%' : unit === 'points' ? ' points' : '');

/** "−13.4 points [−15.0, −11.8]": mean and 95% t-interval across seeds. */
function meanCi(mean: number | null, low: number | null, high: number | null, unit: Unit): string {
  if (mean === null) return '—';
  const ci = low === null || high === null ? '' : ` [${num(low, unit)}, ${num(high, unit)}]`;
  return `${num(mean, unit)}${suffix(unit)}${ci}`;
}

const cellText = (s: string) => s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
const expr = (q: { metric: string; minus?: string }) => `\`${q.metric}${q.minus ? ` − ${q.minus}` : ''}\``;

function assertionText(a: AssertionResult): string {
  return `${expr(a)} ${meanCi(a.mean, a.ci.low, a.ci.high, unitOf(a))} → ${a.verdict}`;
}

function verdictText(r: ResultRecord): string {
  const v = r.verdict === 'error' ? '**error**' : r.verdict;
  const unmet = r.verdict === 'error' ? missedPreconditions(r) : [];
  const why = unmet.length > 0 ? `: precondition${unmet.length === 1 ? '' : 's'} missed: ${unmet.join('; ')}` : '';
  return `${v}${r.verdict === r.expected ? '' : ` (expected ${r.expected})`}${why}`;
}

/**
 * The failed preconditions, short: the name up to its first colon, with the sweep cells and
 * seeds that missed it ("the model of every cell learned ({fraction=1,…}: seeds 2, 3)").
 */
function missedPreconditions(r: ResultRecord): string[] {
  const byName = new Map<string, string[]>();
  for (const p of (r.preconditions ?? []).filter((p) => !p.holds)) {
    const short = p.name.split(':')[0]!.trim();
    const cell = /— (\{[^}]*\})$/.exec(p.name)?.[1];
    const seeds = `seed${p.failedSeeds.length === 1 ? '' : 's'} ${p.failedSeeds.join(', ')}`;
    byName.set(short, [...(byName.get(short) ?? []), cell ? `\`${cell}\`: ${seeds}` : seeds]);
  }
  return [...byName].map(([name, where]) => `${name} (${where.join('; ')})`);
}

const seedsText = (seeds: readonly number[]) =>
  seeds.length > 1 && seeds.every((s, i) => i === 0 || s === seeds[i - 1]! + 1) ? `${seeds[0]}–${seeds.at(-1)}` : seeds.join(', ');

// ---- the blocks -------------------------------------------------------------------------

/** A link from the document `file` (relative to the repository root) to `target` (also from the root). */
export function linkFrom(file: string, target: string): string {
  const rel = posix.relative(posix.dirname(file), target.replace(/#.*$/, '')) || '.';
  const anchor = /#.*$/.exec(target)?.[0] ?? '';
  return rel + (target.replace(/#.*$/, '').endsWith('/') && !rel.endsWith('/') ? '/' : '') + anchor;
}

function ofTier(records: readonly ResultRecord[], tier: string): ResultRecord[] {
  const rs = records.filter((r) => r.tier === tier).sort((a, b) => a.claim.id.localeCompare(b.claim.id));
  if (rs.length === 0) throw new BlockError(`no records of tier '${tier}'`);
  return rs;
}

function recordOf(records: readonly ResultRecord[], id: string): ResultRecord {
  const rs = records.filter((r) => r.claim.id === id);
  if (rs.length !== 1) throw new BlockError(`${rs.length} records of claim '${id}' (one expected)`);
  return rs[0]!;
}

/** Where the numbers come from: seeds, backend, dates and commits of the records. */
function provenance(rs: readonly ResultRecord[], dir: string, file: string): string {
  const uniq = (xs: string[]) => [...new Set(xs)].sort();
  const seeds = uniq(rs.map((r) => seedsText(r.outcomes.map((o) => o.seed).sort((a, b) => a - b))));
  const backends = uniq(rs.map((r) => `${r.backend.name} ${r.backend.version}, ${r.backend.threads} thread${r.backend.threads === 1 ? '' : 's'}`));
  const dates = uniq(rs.map((r) => r.finishedAt.slice(0, 10)));
  const commits = uniq(rs.map((r) => r.environment.gitCommit.slice(0, 7)));
  return (
    `Seeds ${seeds.join(' / ')} per claim; ${backends.join(' / ')}; records of ${dates.join(', ')} ` +
    `(commit${commits.length === 1 ? '' : 's'} ${commits.join(', ')}) in [\`${dir}\`](${linkFrom(file, dir)}).`
  );
}

/** One row per claim: the write-up's figure, each asserted quantity, the verdict, its control's verdict. */
function claimsTable(records: readonly ResultRecord[], tier: string, file: string): string {
  const controlsLink = linkFrom(file, 'docs/findings.md#positive-controls');
  const rs = ofTier(records, tier);
  const controls = new Map(rs.filter((r) => r.claim.controlOf).map((r) => [r.claim.controlOf!, r]));
  const rows = rs
    .filter((r) => !r.claim.controlOf)
    .map((r) => {
      const c = controls.get(r.claim.id);
      return `| \`${r.claim.id}\` | ${cellText(r.claim.writeUpFigure.text)} | ${r.assertions.map(assertionText).join('; ')} | ${verdictText(r)} | ${c ? `[${verdictText(c)}](${controlsLink})` : '—'} |`;
    });
  return [
    `| claim | write-up | ours: asserted quantity, mean [95% CI] → its verdict | ${tier}-tier verdict | positive control |`,
    '|---|---|---|---|---|',
    ...rows,
    '',
    provenance(rs, `${RECORDS_DIR}/${tier}/`, file),
  ].join('\n');
}

/** The positive controls: each asserted quantity seed by seed, mean [95% CI], verdict. */
function controlsTable(records: readonly ResultRecord[], tier: string, file: string): string {
  const rs = ofTier(records, tier).filter((r) => r.claim.controlOf);
  if (rs.length === 0) throw new BlockError(`no positive-control records of tier '${tier}'`);
  const rows = rs.flatMap((r) =>
    r.assertions.map((a, i) => {
      const u = unitOf(a);
      const perSeed = a.values.map((v) => num(v, u)).join(' / ');
      const head = i === 0 ? `\`${r.claim.controlOf}\`` : '〃';
      return `| ${head} | ${cellText(a.name)} | ${expr(a)}: ${perSeed}${suffix(u)} | ${meanCi(a.mean, a.ci.low, a.ci.high, u)} | ${a.verdict} |`;
    }).concat([`| | | | **claim verdict** | **${verdictText(r)}** |`]),
  );
  return [
    '| control of | assertion | per seed | mean [95% CI] | verdict |',
    '|---|---|---|---|---|',
    ...rows,
    '',
    provenance(rs, `${RECORDS_DIR}/${tier}/`, file),
  ].join('\n');
}

/** Per epoch, FGSM − clean accuracy in points (the `epochs` curve), and the end's clean / FGSM / BIM. */
function epochsTable(records: readonly ResultRecord[], id: string): string {
  const r = recordOf(records, id);
  const rows = r.outcomes.map((o) => {
    const epochs = o.curves.epochs;
    if (!epochs?.length) throw new BlockError(`${id} seed ${o.seed} has no epochs curve`);
    const gaps = epochs.map((p) => {
      if (p.advAcc == null || p.cleanAcc == null) return '—';
      const g = signed(100 * (p.advAcc - p.cleanAcc), 1);
      return p.advAcc > p.cleanAcc ? `**+${g}**` : g;
    });
    const end = ['clean_acc', 'adv_acc_fgsm', 'adv_acc_bim'].map((m) => (o.metrics[m] === undefined ? '—' : `${num(o.metrics[m]!, 'percent')}%`));
    return `| ${o.seed} | ${gaps.join(', ')} | ${end.join(' / ')} |`;
  });
  const n = r.outcomes[0]!.curves.epochs!.length;
  return ['| seed | FGSM − clean, epochs 1–' + n + ' (points) | end: clean / FGSM / BIM |', '|---|---|---|', ...rows].join('\n');
}

/** A sweep's cells: clean, FGSM, BIM, FGSM − clean (mean [95% CI] and per seed). */
function cellsTable(records: readonly ResultRecord[], id: string): string {
  const r = recordOf(records, id);
  const ok = r.outcomes.filter((o) => o.status === 'ok');
  const cells = [...new Set(Object.keys(ok[0]?.metrics ?? {}).flatMap((k) => /^clean_acc(\{.*\})$/.exec(k)?.[1] ?? []))];
  if (cells.length === 0) throw new BlockError(`${id} has no sweep cells (metrics named clean_acc{…})`);
  const stat = (metric: string, minus?: string) => {
    const xs = ok.map((o) => assertedValue({ metric, minus }, o.metrics)).filter((v): v is number => v !== undefined);
    return { xs, s: summarize(xs) };
  };
  const ci = (s: ReturnType<typeof summarize>, u: Unit) => meanCi(s.mean, Number.isFinite(s.ci.low) ? s.ci.low : null, Number.isFinite(s.ci.high) ? s.ci.high : null, u);
  const rows = cells.map((c) => {
    const mean = (m: string) => `${num(stat(m + c).s.mean, 'percent')}%`;
    const gap = stat(`adv_acc_fgsm${c}`, `clean_acc${c}`);
    const clean = stat(`clean_acc${c}`).xs.map((v) => `${num(v, 'percent')}%`).join(' / ');
    return `| \`${c}\` | ${mean('clean_acc')} (${clean}) | ${mean('adv_acc_fgsm')} | ${mean('adv_acc_bim')} | ${ci(gap.s, 'points')} | ${gap.xs.map((v) => num(v, 'points')).join(' / ')} |`;
  });
  return [
    `| cell | clean (per seed) | FGSM | BIM | FGSM − clean, mean [95% CI] | per seed ${ok.map((o) => o.seed).join(' / ')} |`,
    '|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

/**
 * Every metric of every claim of a tier (`metrics <tier>`), mean [95% CI] and per seed: what the
 * prose around the tables refers to. Sweeps (metrics named `…{cell}`) have their own `cells`
 * table, and the loss-and-accuracy-along-ε points (`loss_eps_8`, …) are the report's curves.
 */
function metricsTables(records: readonly ResultRecord[], tier: string): string {
  const curvePoint = /^(.*\.)?(loss|acc)_eps_\d+$/;
  return ofTier(records, tier)
    .map((r) => {
      const ok = r.outcomes.filter((o) => o.status === 'ok');
      const names = [...new Set(ok.flatMap((o) => Object.keys(o.metrics)))].filter((m) => !m.includes('{') && !curvePoint.test(m));
      if (names.length === 0) return undefined;
      const rows = names.map((m) => {
        const xs = ok.map((o) => o.metrics[m]).filter((v): v is number => v !== undefined);
        const s = summarize(xs);
        const u: Unit = isAccuracy(m) ? (/gap/.test(bare(m)) ? 'points' : 'percent') : 'plain';
        const ci = meanCi(s.mean, Number.isFinite(s.ci.low) ? s.ci.low : null, Number.isFinite(s.ci.high) ? s.ci.high : null, u);
        return `| \`${m}\` | ${ci} | ${xs.map((v) => num(v, u)).join(' / ')} |`;
      });
      return [`**\`${r.claim.id}\`** (seeds ${ok.map((o) => o.seed).join(', ')})`, '', '| metric | mean [95% CI] | per seed |', '|---|---|---|', ...rows].join('\n');
    })
    .filter((t): t is string => t !== undefined)
    .join('\n\n');
}

/** Every `<dir>/<run>/records/` folder: one run each (a device session's records, say). */
export function loadRuns(root: string, dir: string): { run: string; records: ResultRecord[] }[] {
  const base = join(root, dir);
  if (!existsSync(base)) throw new BlockError(`no folder ${dir}`);
  return readdirSync(base, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(base, e.name, 'records')))
    .map((e) => e.name)
    .sort()
    .map((run) => ({ run, records: loadRecords(join(base, run, 'records')) }));
}

/**
 * One row per run of one seed each (`runs <dir>`): its `--set` changes, and the accuracies and
 * loss rise that its claims' records hold (a metric is taken from the first record that has it).
 */
function runsTable(root: string | undefined, dir: string, file: string): string {
  if (root === undefined) throw new BlockError(`results block 'runs' needs the repository root`);
  const runs = loadRuns(root, dir);
  if (runs.length === 0) throw new BlockError(`no <run>/records/ folders under ${dir}`);
  const rows = runs.map(({ run, records }) => {
    const outcomes = records.flatMap((r) => r.outcomes.filter((o) => o.status === 'ok'));
    const seeds = [...new Set(outcomes.map((o) => o.seed))];
    if (seeds.length !== 1) throw new BlockError(`${dir}/${run}: runs of one seed only (found seeds ${seeds.join(', ')})`);
    const metric = (m: string, minus?: string) => outcomes.map((o) => assertedValue({ metric: m, minus }, o.metrics)).find((v) => v !== undefined);
    const pct = (v: number | undefined) => (v === undefined ? '—' : `${num(v, 'percent')}%`);
    const loss = metric('loss_eps_6', 'loss_eps_0');
    const rate = outcomes.map((o) => o.imagesPerSecond).find((v) => v !== undefined);
    const overrides = [...new Set(records.flatMap((r) => r.overrides ?? []))].map((o) => `\`${o}\``).join(' ');
    return `| [${run}](${linkFrom(file, `${dir}/${run}/report.md`)}) | ${overrides || '—'} | ${pct(metric('clean_acc'))} | ${pct(metric('adv_acc_fgsm'))} | ${pct(metric('adv_acc_bim'))} | ${loss === undefined ? '—' : (loss > 0 ? '+' : '') + num(loss, 'plain')} | ${pct(metric('control_clean_acc'))} | ${[metric('loss_rise'), metric('control_loss_rise')].map((v) => (v === undefined ? '—' : num(v, 'plain'))).join(' / ')} | ${rate === undefined ? '—' : Math.round(rate).toLocaleString('en-US')} |`;
  });
  return [
    '| run (seed ' + [...new Set(runs.flatMap((r) => r.records.flatMap((x) => x.outcomes.map((o) => o.seed))))].join(', ') + ') | `--set` | clean | FGSM (ε = 6) | BIM | loss(ε = 6) − loss(0) | plain control, clean | loss rise, adversarial / control | train img/s |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

/** Each block by name: (records, its argument, the document's path from the root) → Markdown. */
const RENDERERS: Record<string, (records: readonly ResultRecord[], arg: string, file: string, root?: string) => string> = {
  /** `claims <tier>`: the README's table. */
  claims: (records, tier, file) => claimsTable(records, tier, file),
  /** `controls <tier>`: docs/findings.md's positive controls. */
  controls: (records, tier, file) => controlsTable(records, tier, file),
  /** `epochs <claim>`: per-epoch leak gap of a claim whose seeds kept an `epochs` curve. */
  epochs: (records, id) => epochsTable(records, id),
  /** `cells <claim>`: a sweep's cells. */
  cells: (records, id) => cellsTable(records, id),
  /** `metrics <tier>`: every metric of every non-sweep claim, per seed. */
  metrics: (records, tier) => metricsTables(records, tier),
  /** `runs <dir>`: one row per `<dir>/<run>/records/` (one seed each), e.g. a GPU session's runs. */
  runs: (_records, dir, file, root) => runsTable(root, dir, file),
};

export function renderBlock(records: readonly ResultRecord[], name: string, arg: string | undefined, file = 'README.md', root?: string): string {
  const render = RENDERERS[name];
  if (!render) throw new BlockError(`unknown results block '${name}' (known: ${Object.keys(RENDERERS).join(', ')})`);
  if (!arg) throw new BlockError(`results block '${name}' needs an argument (a tier or a claim id)`);
  return render(records, arg, file, root);
}

interface Block {
  name: string;
  arg: string | undefined;
  /** Line indexes of the begin and end markers. */
  begin: number;
  end: number;
}

function blocksOf(doc: string, file: string): Block[] {
  const lines = doc.split('\n');
  const out: Block[] = [];
  let open: Omit<Block, 'end'> | undefined;
  lines.forEach((line, i) => {
    const m = BEGIN.exec(line);
    if (m) {
      if (open) throw new BlockError(`${file}:${i + 1}: results block opened inside the one of line ${open.begin + 1}; close it with ${END}`);
      open = { name: m[1]!, arg: m[2], begin: i };
    } else if (line === END) {
      if (!open) throw new BlockError(`${file}:${i + 1}: ${END} without a results:begin above it`);
      out.push({ ...open, end: i });
      open = undefined;
    } else if (line.includes('<!-- results:')) {
      throw new BlockError(`${file}:${i + 1}: malformed results marker (write '<!-- results:begin NAME ARG -->' … '${END}', each on its own line)`);
    }
  });
  if (open) throw new BlockError(`${file}:${open.begin + 1}: results block '${open.name}' is never closed with ${END}`);
  return out;
}

/** The document with every block's body rendered afresh from the records. */
/** `root`: the repository root, for blocks that read records of their own (`runs`). */
export function renderBlocks(doc: string, records: readonly ResultRecord[], file = 'README.md', root?: string): string {
  const lines = doc.split('\n');
  const blocks = blocksOf(doc, file);
  // From the last block up, so earlier line indexes stay valid.
  for (const b of [...blocks].reverse()) {
    let body: string;
    try {
      body = renderBlock(records, b.name, b.arg, file, root);
    } catch (e) {
      if (e instanceof BlockError) throw new BlockError(`${file}:${b.begin + 1}: ${e.message}`);
      throw e;
    }
    lines.splice(b.begin + 1, b.end - b.begin - 1, ...body.split('\n'));
  }
  return lines.join('\n');
}

/** The blocks (as "file:line name arg") whose body differs from what the records give. */
export function staleBlocks(doc: string, records: readonly ResultRecord[], file = 'README.md', root?: string): string[] {
  const rendered = renderBlocks(doc, records, file, root);
  const fresh = blocksOf(rendered, file);
  const lines = doc.split('\n');
  const freshLines = rendered.split('\n');
  return blocksOf(doc, file)
    .filter((b, i) => {
      const f = fresh[i]!;
      return lines.slice(b.begin + 1, b.end).join('\n') !== freshLines.slice(f.begin + 1, f.end).join('\n');
    })
    .map((b) => `${file}:${b.begin + 1} ${b.name}${b.arg ? ` ${b.arg}` : ''}`);
}

/** How many blocks a document holds (a guard that a document meant to have some still does). */
export const blockCount = (doc: string, file = 'README.md') => blocksOf(doc, file).length;

/** README.md and the Markdown files of docs/ (not docs/results/, which `report` writes) that hold blocks. */
export function documentsWithBlocks(root: string): string[] {
  const docs = existsSync(join(root, 'docs')) ? readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`) : [];
  return ['README.md', ...docs].filter((f) => existsSync(join(root, f)) && blockCount(readFileSync(join(root, f), 'utf8'), f) > 0);
}
