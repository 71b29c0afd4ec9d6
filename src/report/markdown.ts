import { assertedValue, assertionLabel, fmt, unmetPreconditions } from '../claims/assess.ts';
import { summarize } from '../claims/stats.ts';
import type { ClaimResult } from './merge.ts';
import type { Plot } from './plots.ts';
import { dataLine } from '../data/provenance.ts';
import type { AssertionResult, ResultRecord } from '../results/record-types.ts';
import { asExpected } from '../results/as-expected.ts';

/** The Markdown report: a summary table (the write-up's figure beside ours), then one section per claim. Pure. */

export interface ReportInput {
  results: ClaimResult[];
  /** Plots per result, keyed by `resultKey`. */
  plots: Map<string, Plot[]>;
  /** Folder of the plots, relative to report.md. */
  plotDir: string;
  /** The result folders read, for the header. */
  sources: string[];
  generatedAt: Date;
}

export const resultKey = (r: ResultRecord) => `${r.tier}/${r.claim.id}`;

/**
 * Text from a record is shown as text: HTML tags and entities are escaped, and `](` is
 * broken so that no `[text](url)` link or image forms; a record cannot add markup or links.
 */
export const text = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\]\(/g, ']\\(');

/** Inside a code span only a backtick can end it (Markdown does not render HTML there). */
const code = (s: string) => s.replace(/`/g, "'");

/** Table cells cannot hold newlines or bare pipes; their text is escaped. */
const cell = (s: string) => text(s).replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>');

export function duration(seconds: number): string {
  if (seconds < 10) return `${Number(seconds.toFixed(1))} s`;
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** "0.0297 ± 0.0038" — mean ± 95% CI half-width; "± ∞" with one seed. */
function meanPm(mean: number | null, high: number | null): string {
  if (mean === null) return '—';
  return `${fmt(mean)} ± ${high === null ? '∞' : fmt(high - mean)}`;
}

function assertionCell(a: AssertionResult): string {
  return `${a.name}: ${assertionLabel(a)} = ${meanPm(a.mean, a.ci.high)} [${a.values.map(fmt).join(', ')}] (claim ${a.region})`;
}

/** Our value of each metric the write-up gives a number for, beside the write-up's. */
function figureComparison(r: ResultRecord): string[] {
  return Object.entries(r.claim.writeUpFigure.values ?? {}).map(([metric, theirs]) => {
    const ours = r.outcomes.filter((o) => o.status === 'ok').map((o) => assertedValue({ metric }, o.metrics)).filter((v): v is number => v !== undefined);
    const s = summarize(ours);
    const pm = ours.length === 0 ? '—' : meanPm(s.mean, Number.isFinite(s.ci.high) ? s.ci.high : null);
    return `${metric}: ${pm} [${ours.map(fmt).join(', ')}] (write-up ${fmt(theirs)})`;
  });
}

export function verdictCell(r: ResultRecord): string {
  const ok = asExpected(r);
  const partial = r.pendingSeeds.length > 0 ? ` (partial: ${r.outcomes.length} of ${r.seeds.length} seeds)` : '';
  const unmet = unmetPreconditions(r);
  const why = unmet.length > 0 ? ` — precondition failed: ${unmet.join('; ')}` : '';
  return `${ok ? '✓' : '✗'} ${r.verdict}${ok ? '' : ` (expected ${r.expected})`}${partial}${why}`;
}

/** What the run had to show before its assertions counted, seed by seed. */
function preconditionLines(r: ResultRecord): string[] {
  if (!r.preconditions) return ['Preconditions: none checked (the spec states none, or the record predates them).', ''];
  return [
    '| Precondition | Value | Must be | Per seed | Holds |',
    '|---|---|---|---|---|',
    ...r.preconditions.map(
      (p) =>
        `| ${[
          cell(p.name),
          cell(assertionLabel(p)),
          p.region,
          p.seeds.map((s, i) => `${s}: ${p.values[i] === null ? 'missing' : fmt(p.values[i])}${p.failedSeeds.includes(s) ? ' ✗' : ''}`).join(', '),
          p.holds ? 'yes' : `**no** (seed${p.failedSeeds.length === 1 ? '' : 's'} ${p.failedSeeds.join(', ')})`,
        ].join(' | ')} |`,
    ),
    '',
  ];
}

function backendCell(c: ClaimResult): string {
  return c.backends.map((b) => cell(`${b.name} ${b.version} (${b.threads} thread${b.threads === 1 ? '' : 's'})`)).join('<br>');
}

/** The positive controls among `results` of the claim `r` at its tier. */
function controlsOf(r: ResultRecord, results: ClaimResult[]): ResultRecord[] {
  return results.map((c) => c.record).filter((o) => o.claim.controlOf === r.claim.id && o.tier === r.tier);
}

/** "refuted …; control x: ✓ reproduced" — a verdict read beside what its control shows the measurement can see. */
function controlNote(r: ResultRecord, results: ClaimResult[]): string {
  return controlsOf(r, results)
    // Claim ids match the spec's id pattern (the record schema checks it), so the link is safe as it is; only record text goes through cell().
    .map((c) => `; in its positive control [${c.claim.id}](#${anchor(c)}): ${cell(verdictCell(c))}`)
    .join('');
}

function summaryTable(results: ClaimResult[]): string[] {
  const lines = [
    '| Claim | Tier | Write-up | Ours: mean ± 95% CI half-width [per seed] | Expected | Verdict | Backend | Wall time |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const c of results) {
    const r = c.record;
    const ours = [...figureComparison(r), ...r.assertions.map(assertionCell)].join('\n');
    const wall = c.files.length > 1 ? `${duration(r.wallSeconds)} (Σ ${c.files.length} runs)` : duration(r.wallSeconds);
    lines.push(
      `| ${[
        r.claim.controlOf ? `↳ [${r.claim.id}](#${anchor(r)}) (positive control of ${r.claim.controlOf})` : `[${r.claim.id}](#${anchor(r)})`,
        r.overrides ? `${r.tier}, rescaled†` : r.tier,
        cell(r.claim.writeUpFigure.text),
        cell(ours),
        r.expected,
        cell(verdictCell(r)) + controlNote(r, results),
        backendCell(c),
        cell(wall),
      ].join(' | ')} |`,
    );
  }
  return lines;
}

const anchor = (r: ResultRecord) => `${r.claim.id}-${r.tier}`;

function section(c: ClaimResult, plots: Plot[], plotDir: string, results: ClaimResult[]): string[] {
  const r = c.record;
  const controls = controlsOf(r, results);
  const out = [
    `<a id="${anchor(r)}"></a>`,
    `### ${r.claim.id} [${r.tier}] — ${text(r.claim.title)}`,
    '',
    `> ${text(r.claim.statement).replace(/\n/g, '\n> ')}`,
    '',
    `Spec version ${r.claim.version} (hash \`${r.claim.hash}\`), experiment \`${code(r.claim.experiment)}\`, params hash \`${r.paramsHash}\`. ` +
      `Verdict: **${verdictCell(r)}**.`,
    '',
    ...(r.claim.controlOf
      ? [`A positive control of [${r.claim.controlOf}](#${r.claim.controlOf}-${r.tier}): its assertions on a setting chosen to show the effect (a harness blind to the effect would say "refuted" anyway; the spec's rationale says how far the setting shows it).`, '']
      : []),
    ...(controls.length > 0
      ? [`Positive control${controls.length > 1 ? 's' : ''}: ${controls.map((o) => `[${o.claim.id}](#${anchor(o)}) **${verdictCell(o)}**`).join(', ')} — the same assertions on a setting chosen to show the effect.`, '']
      : []),
    ...(r.overrides
      ? [`† Run with parameters changed from the spec's ${r.tier} tier: \`${r.overrides.map(code).join('`, `')}\`. It is not the spec's ${r.tier} setting.`, '']
      : []),
    '| Assertion | Value | Claim | Mean | 95% CI | Per seed | Verdict |',
    '|---|---|---|---|---|---|---|',
    ...r.assertions.map(
      (a) =>
        `| ${[
          cell(a.name),
          cell(assertionLabel(a)),
          cell(a.region),
          fmt(a.mean),
          a.ci.low === null ? '(−∞, ∞)' : `[${fmt(a.ci.low)}, ${fmt(a.ci.high)}]`,
          a.seeds.map((s, i) => `${s}: ${fmt(a.values[i])}`).join(', '),
          a.verdict,
        ].join(' | ')} |`,
    ),
    '',
    ...preconditionLines(r),
  ];
  const failed = r.outcomes.filter((o) => o.status === 'error');
  if (failed.length > 0) {
    out.push('Seeds that failed:', '', ...failed.map((o) => `- seed ${o.seed}: ${cell(o.error?.name ?? '')}: ${cell(o.error?.message ?? '')}`), '');
  }
  const rates = r.outcomes.map((o) => o.imagesPerSecond).filter((v): v is number => v !== undefined);
  const seedTimes = r.outcomes.map((o) => `${o.seed}: ${duration(o.wallSeconds)}`).join(', ');
  out.push(
    `Per-seed wall time: ${seedTimes || '—'}${rates.length > 0 ? `; training throughput ${fmt(rates.reduce((a, b) => a + b, 0) / rates.length)} images/s (mean)` : ''}.`,
    `Backend: ${c.backends.map((b) => text(`${b.name} ${b.version}, ${b.device} — ${b.reason}`)).join('; ')}.`,
    `Environment: commit \`${code(r.environment.gitCommit.slice(0, 12))}\`${r.environment.gitDirty ? ' (uncommitted changes)' : ''}, Node ${text(r.environment.node)}, ` +
      `${text(r.environment.machine.cpuModel)} × ${r.environment.machine.cpus}, ${text(r.environment.machine.os)}.`,
    `Data: ${r.data ? text(r.data.map(dataLine).join('; ')) || 'none read' : 'not recorded (a record made before records named their data)'}.`,
    `Records: ${c.files.map((f) => `\`${code(f)}\``).join(', ')}.`,
    '',
  );
  for (const w of c.warnings) out.push(`- ⚠ ${cell(w)}`);
  if (c.warnings.length > 0) out.push('');
  for (const p of plots) out.push(`![${p.title}: ${r.claim.id} [${r.tier}]](${plotDir}/${p.name})`, '');
  return out;
}

export function renderReport(input: ReportInput): string {
  const { results } = input;
  const matched = results.filter((c) => asExpected(c.record)).length;
  return [
    '# label-leak report',
    '',
    `Generated ${input.generatedAt.toISOString()} from ${input.sources.map((s) => `\`${code(s)}\``).join(', ')}. ` +
      `${matched} of ${results.length} verdicts match their spec's expected verdict.`,
    '',
    'Verdicts: *reproduced* when the whole 95% interval (Student\'s t across seeds) lies in the claim region, ' +
      '*refuted* when it lies wholly outside, *inconclusive* otherwise; *error* when a seed failed or a seed missed one of the ' +
      "spec's preconditions (what a run must show to be evidence at all: the model learned, the attack works).",
    '',
    ...summaryTable(results),
    '',
    '## Claims',
    '',
    ...results.flatMap((c) => section(c, input.plots.get(resultKey(c.record)) ?? [], input.plotDir, results)),
  ].join('\n');
}
