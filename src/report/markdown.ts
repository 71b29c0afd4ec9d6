import { assertedValue, assertionLabel, fmt, unmetPreconditions } from '../claims/assess.ts';
import { summarize } from '../claims/stats.ts';
import type { ClaimResult } from './merge.ts';
import type { Plot } from './plots.ts';
import { dataLine } from '../data/provenance.ts';
import type { AssertionResult, ResultRecord } from '../results/record-types.ts';
import { asExpected } from '../results/as-expected.ts';
import { quantityWords, show, showInterval, showRegion, unitOf, type Unit } from './units.ts';

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

/** The write-up's own value of a checked quantity, when its figure gives both sides. */
export function writeUpValue(r: ResultRecord, a: Pick<AssertionResult, 'metric' | 'minus'>): number | undefined {
  const values = r.claim.writeUpFigure.values ?? {};
  const v = values[a.metric];
  if (v === undefined) return undefined;
  if (a.minus === undefined) return v;
  const w = values[a.minus];
  return w === undefined ? undefined : v - w;
}

/** Our value of each metric the write-up gives a number for, beside the write-up's. */
function figureComparison(r: ResultRecord): string[] {
  return Object.entries(r.claim.writeUpFigure.values ?? {}).map(([metric, theirs]) => {
    const ours = r.outcomes.filter((o) => o.status === 'ok').map((o) => assertedValue({ metric }, o.metrics)).filter((v): v is number => v !== undefined);
    const s = summarize(ours);
    const u = unitOf({ metric });
    const pm = ours.length === 0 ? '—' : showInterval(s.mean, Number.isFinite(s.ci.high) ? s.ci : { low: null, high: null }, u);
    return `${quantityWords({ metric })} (\`${code(metric)}\`): ours ${pm}, write-up ${show(theirs, u)}`;
  });
}

/**
 * The assertion a claim's summary row shows: the first whose verdict is the claim's (the one
 * that decided it), else the first.
 */
export function headlineAssertion(r: ResultRecord): AssertionResult | undefined {
  return r.assertions.find((a) => a.verdict === r.verdict) ?? r.assertions[0];
}

/** "**−13.4 points** [−15.0, −11.8]<br><sub>FGSM − clean accuracy, claim > 0 points</sub>": the number first, then what it is. */
export function headline(r: ResultRecord): string {
  const a = headlineAssertion(r);
  if (!a) return '—';
  const u = unitOf(a);
  const [value, ...rest] = showInterval(a.mean, a.ci, u).split(' [');
  const interval = rest.length > 0 ? ` [${rest.join(' [')}` : '';
  const more = r.assertions.length > 1 ? ` · +${r.assertions.length - 1} more` : '';
  return `**${cell(value)}**${cell(interval)}<br><sub>${cell(quantityWords(a))}; claim ${cell(showRegion(a))}${more}</sub>`;
}

/** The write-up's number for the headline quantity where its figure gives one, then its figure in words. */
function writeUpCell(r: ResultRecord): string {
  const a = headlineAssertion(r);
  const theirs = a ? writeUpValue(r, a) : undefined;
  const words = r.claim.writeUpFigure.text;
  // Long figures (a protocol in words) are cut in the summary; the claim's section has them whole.
  const short = words.length > 90 ? `${words.slice(0, 80).replace(/\s+\S*$/, '')} …` : words;
  return theirs === undefined || !a ? `<sub>${cell(short)}</sub>` : `**${cell(show(theirs, unitOf(a)))}**<br><sub>${cell(short)}</sub>`;
}

export function verdictCell(r: ResultRecord): string {
  const ok = asExpected(r);
  const partial = r.pendingSeeds.length > 0 ? ` (partial: ${r.outcomes.length} of ${r.seeds.length} seeds)` : '';
  const unmet = unmetPreconditions(r);
  const why = unmet.length > 0 ? ` — precondition failed: ${unmet.join('; ')}` : '';
  return `${ok ? '✓' : '✗'} ${r.verdict}${ok ? '' : ` (expected ${r.expected})`}${partial}${why}`;
}

/** The verdict for the summary row: what verdictCell says, the failed preconditions counted (the section names them). */
export function verdictShort(r: ResultRecord): string {
  const ok = asExpected(r);
  const partial = r.pendingSeeds.length > 0 ? ` (partial: ${r.outcomes.length} of ${r.seeds.length} seeds)` : '';
  const unmet = unmetPreconditions(r).length;
  const why = unmet > 0 ? `: ${unmet} precondition${unmet === 1 ? '' : 's'} failed` : '';
  return `${ok ? '✓' : '✗'} ${r.verdict}${why}${ok ? '' : ` (expected ${r.expected})`}${partial}`;
}

/** What the run had to show before its assertions counted, seed by seed. */
function preconditionLines(r: ResultRecord): string[] {
  if (!r.preconditions) return ['Preconditions: none checked (the spec states none, or the record predates them).', ''];
  return [
    '| Precondition | Quantity | Must be | Per seed | Holds |',
    '|---|---|---|---|---|',
    ...r.preconditions.map(
      (p) =>
        `| ${[
          cell(p.name),
          quantityCell(p),
          cell(showRegion(p)),
          p.seeds.map((s, i) => `${s}: ${p.values[i] === null ? 'missing' : show(p.values[i], unitOf(p))}${p.failedSeeds.includes(s) ? ' ✗' : ''}`).join(', '),
          p.holds ? 'yes' : `**no** (seed${p.failedSeeds.length === 1 ? '' : 's'} ${p.failedSeeds.join(', ')})`,
        ].join(' | ')} |`,
    ),
    '',
  ];
}

/** A quantity in words with the record's name beside it, for people who go on to the records. */
function quantityCell(q: Pick<AssertionResult, 'metric' | 'minus'>): string {
  // In a code span only a backtick ends it, but in a table a bare pipe still ends the cell and a newline the row.
  return `${cell(quantityWords(q))} <sub>\`${code(assertionLabel(q)).replace(/\|/g, '\\|').replace(/\r?\n/g, ' ')}\`</sub>`;
}

/** A backend in one line: what ran, never why others did not (that install advice is for \`label-leak doctor\`). */
const backendLine = (b: ClaimResult['backends'][number]) => `${b.name} ${b.version}, ${b.device}`;

/** "wasm 4.22.0, CPU (wasm SIMD, 1 thread) (all 14 results)": each distinct backend once. */
function ranOn(results: ClaimResult[]): string {
  const count = new Map<string, number>();
  for (const c of results) for (const l of new Set(c.backends.map(backendLine))) count.set(l, (count.get(l) ?? 0) + 1);
  if (count.size === 1) return `${text([...count.keys()][0])}${results.length > 1 ? ` (all ${results.length} results)` : ''}`;
  return [...count].map(([l, n]) => `${text(l)} (${n} of ${results.length} results)`).join('; ');
}

/** The positive controls among `results` of the claim `r` at its tier. */
function controlsOf(r: ResultRecord, results: ClaimResult[]): ResultRecord[] {
  return results.map((c) => c.record).filter((o) => o.claim.controlOf === r.claim.id && o.tier === r.tier);
}

/**
 * A claim's verdict read with its control's: "refuted under the write-up's protocol at this
 * scale; reproduced in its control" says the measurement can see the effect, an inconclusive
 * or refuted control says this scale has not shown that it can.
 */
export function controlReading(r: ResultRecord, control: ResultRecord): string {
  const claim = r.verdict === 'refuted' || r.verdict === 'reproduced' ? `${r.verdict} under the write-up's protocol at this scale` : `${r.verdict} at this scale`;
  const then =
    control.verdict === 'reproduced'
      ? 'so the measurement can see the effect'
      : control.verdict === 'error'
        ? 'so the control could not show the measurement sees the effect'
        : "so this scale has not yet shown the measurement can see the effect: the claim's verdict is not evidence against it";
  return `${claim}; ${control.verdict} in its control (${then})`;
}

/** controlReading in a few words, for the summary row. */
function controlGist(r: ResultRecord, control: ResultRecord): string {
  if (control.verdict === 'reproduced') return `${control.verdict} in its control: the measurement sees the effect`;
  if (r.verdict === 'refuted') return `${control.verdict} in its control: not yet evidence against the claim`;
  return `${control.verdict} in its control`;
}

function controlCell(r: ResultRecord, results: ClaimResult[]): string {
  const controls = controlsOf(r, results);
  if (controls.length === 0) return '—';
  // Claim ids match the spec's id pattern (the record schema checks it), so the link is safe as it is; only record text goes through cell().
  return controls.map((c) => `[${cell(verdictShort(c))}](#${anchor(c)}) ${headline(c)}`).join('<br>');
}

function summaryTable(results: ClaimResult[]): string[] {
  const lines = [
    "| Claim | Verdict | Ours: mean [95% interval] | Write-up's figure | Its positive control |",
    '|---|---|---|---|---|',
  ];
  const tiers = new Set(results.map((c) => c.record.tier));
  const ids = new Set(results.map((c) => `${c.record.tier}/${c.record.claim.id}`));
  for (const c of results) {
    const r = c.record;
    // A control is read beside its claim; one whose claim has no result here keeps its own row.
    if (r.claim.controlOf && ids.has(`${r.tier}/${r.claim.controlOf}`)) continue;
    const tier = tiers.size > 1 || r.overrides ? ` [${r.tier}${r.overrides ? ', rescaled†' : ''}]` : '';
    lines.push(
      `| ${[
        `[${r.claim.id}](#${anchor(r)})${tier}${r.claim.controlOf ? ` (positive control of ${r.claim.controlOf})` : ''}`,
        cell(verdictShort(r)) + controlsOf(r, results).map((o) => `<br><sub>${cell(controlGist(r, o))}</sub>`).join(''),
        headline(r),
        writeUpCell(r),
        controlCell(r, results),
      ].join(' | ')} |`,
    );
  }
  return lines;
}

const anchor = (r: ResultRecord) => `${r.claim.id}-${r.tier}`;

function section(c: ClaimResult, plots: Plot[], plotDir: string, results: ClaimResult[]): string[] {
  const r = c.record;
  const controls = controlsOf(r, results);
  const parent = r.claim.controlOf ? results.find((o) => o.record.claim.id === r.claim.controlOf && o.record.tier === r.tier)?.record : undefined;
  const wall = c.files.length > 1 ? `${duration(r.wallSeconds)} (Σ ${c.files.length} runs)` : duration(r.wallSeconds);
  const comparison = figureComparison(r);
  const out = [
    `<a id="${anchor(r)}"></a>`,
    `### ${r.claim.id} [${r.tier}] — ${text(r.claim.title)}`,
    '',
    `> ${text(r.claim.statement).replace(/\n/g, '\n> ')}`,
    '',
    `Verdict: **${cell(verdictShort(r))}**${unmetPreconditions(r).length > 0 ? ', so the assertions below are not evidence:' : '.'}`,
    '',
    ...(unmetPreconditions(r).length > 0 ? [...unmetPreconditions(r).map((u) => `- ✗ ${cell(u)}`), ''] : []),
    ...controls.map((o) => `Read with its positive control [${o.claim.id}](#${anchor(o)}): ${cell(controlReading(r, o))}.`),
    ...(controls.length > 0 ? [''] : []),
    ...(r.claim.controlOf
      ? [
          `A positive control of [${r.claim.controlOf}](#${r.claim.controlOf}-${r.tier}): its assertions on a setting chosen to show the effect (a harness blind to the effect would say "refuted" anyway; the spec's rationale says how far the setting shows it).` +
            (parent ? ` Read together: ${cell(controlReading(parent, r))}.` : ''),
          '',
        ]
      : []),
    ...(r.overrides
      ? [`† Run with parameters changed from the spec's ${r.tier} tier: \`${r.overrides.map(code).join('`, `')}\`. It is not the spec's ${r.tier} setting.`, '']
      : []),
    `The write-up: ${text(r.claim.writeUpFigure.text)}.`,
    ...(comparison.length > 0 ? ['', ...comparison.map((l) => `- ${l}`)] : []),
    '',
    '| Assertion | Quantity | Claim | Mean [95% interval] | Per seed | Verdict |',
    '|---|---|---|---|---|---|',
    ...r.assertions.map((a) => {
      const u: Unit = unitOf(a);
      return `| ${[
        cell(a.name),
        quantityCell(a),
        cell(showRegion(a)),
        cell(showInterval(a.mean, a.ci, u)),
        a.seeds.map((s, i) => `${s}: ${show(a.values[i], u, { suffix: false })}`).join(', '),
        `**${a.verdict}**`,
      ].join(' | ')} |`;
    }),
    '',
    ...preconditionLines(r),
  ];
  const failed = r.outcomes.filter((o) => o.status === 'error');
  if (failed.length > 0) {
    out.push('Seeds that failed:', '', ...failed.map((o) => `- seed ${o.seed}: ${cell(o.error?.name ?? '')}: ${cell(o.error?.message ?? '')}`), '');
  }
  for (const w of c.warnings) out.push(`- ⚠ ${cell(w)}`);
  if (c.warnings.length > 0) out.push('');
  for (const p of plots) out.push(`![${p.title}: ${r.claim.id} [${r.tier}]](${plotDir}/${p.name})`, '');
  const rates = r.outcomes.map((o) => o.imagesPerSecond).filter((v): v is number => v !== undefined);
  const seedTimes = r.outcomes.map((o) => `${o.seed}: ${duration(o.wallSeconds)}`).join(', ');
  out.push(
    '<details><summary>Run details</summary>',
    '',
    `Spec version ${r.claim.version} (hash \`${r.claim.hash}\`), experiment \`${code(r.claim.experiment)}\`, params hash \`${r.paramsHash}\`, expected verdict ${r.expected}.`,
    `Wall time ${cell(wall)}; per seed ${seedTimes || '—'}${rates.length > 0 ? `; training throughput ${fmt(rates.reduce((a, b) => a + b, 0) / rates.length)} images/s (mean)` : ''}.`,
    `Backend: ${c.backends.map((b) => text(backendLine(b))).join('; ')}.`,
    `Environment: commit \`${code(r.environment.gitCommit.slice(0, 12))}\`${r.environment.gitDirty ? ' (uncommitted changes)' : ''}, Node ${text(r.environment.node)}, ` +
      `${text(r.environment.machine.cpuModel)} × ${r.environment.machine.cpus}, ${text(r.environment.machine.os)}.`,
    `Data: ${r.data ? text(r.data.map(dataLine).join('; ')) || 'none read' : 'not recorded (a record made before records named their data)'}.`,
    `Records: ${c.files.map((f) => `\`${code(f)}\``).join(', ')}.`,
    '',
    '</details>',
    '',
  );
  return out;
}

export function renderReport(input: ReportInput): string {
  const { results } = input;
  const matched = results.filter((c) => asExpected(c.record)).length;
  return [
    '# label-leak report',
    '',
    `**${matched} of ${results.length}** verdicts as their specs expect (✓). Ran on ${ranOn(results)}. ` +
      `Accuracies in %, their differences in points; [low, high]: the 95% interval across seeds.`,
    '',
    ...summaryTable(results),
    '',
    `Generated ${input.generatedAt.toISOString()} from ${input.sources.map((s) => `\`${code(s)}\``).join(', ')}. ` +
      'Verdicts: *reproduced* when the whole 95% interval (Student\'s t across seeds) lies in the claim region, ' +
      '*refuted* when it lies wholly outside, *inconclusive* otherwise; *error* when a seed failed or a seed missed one of the ' +
      "spec's preconditions (what a run must show to be evidence at all: the model learned, the attack works). " +
      'A positive control runs the same assertions on a setting chosen to show the effect; its verdict sits beside its claim.',
    '',
    '## Claims',
    '',
    ...results.flatMap((c) => section(c, input.plots.get(resultKey(c.record)) ?? [], input.plotDir, results)),
  ].join('\n');
}
