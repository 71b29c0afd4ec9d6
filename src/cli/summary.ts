import type { ResultRecord } from '../results/record-types.ts';
import { asExpected } from '../results/as-expected.ts';

/**
 * What `label-leak run` prints about each claim and, at the end, about the whole run: a
 * closing summary like pytest's (counts, wall time, where the records are, what to run next),
 * so a 45-minute run does not end on the last claim's last assertion line.
 */

export type ClaimOutcome = 'as expected' | 'differ' | 'error';

/** A finished claim's place in the summary: as its spec expects, a different verdict, or a seed that crashed. */
export function outcomeOf(record: ResultRecord): ClaimOutcome {
  if (asExpected(record)) return 'as expected';
  return record.outcomes.some((o) => o.status === 'error') ? 'error' : 'differ';
}

export interface RunContext {
  tier: string;
  /** `--seed N`: one job of a matrix; no verdict can be had from it alone. */
  oneSeed?: number[];
  /** `--set` texts: the run is not the spec's own setting. */
  overrides: string[];
}

function tierLabel(ctx: RunContext): string {
  return ctx.overrides.length > 0 ? `${ctx.tier}, --set ${ctx.overrides.join(' --set ')}` : ctx.tier;
}

/**
 * The lines for one claim. A one-seed job says the seed ran (or failed), not ✓/✗ against
 * `expected`: its record's verdict covers only the seeds merged so far. A run with `--set`
 * says so beside the tier, since `expected` was written for the spec's own parameters.
 */
export function claimLines(id: string, record: ResultRecord, ctx: RunContext): string[] {
  const lines: string[] = [];
  if (ctx.oneSeed) {
    const mine = record.outcomes.filter((x) => ctx.oneSeed!.includes(x.seed));
    const failed = mine.filter((x) => x.status === 'error');
    const seeds = ctx.oneSeed.join(', ');
    lines.push(failed.length === 0
      ? `✓ ${id} [${tierLabel(ctx)}]: seed ${seeds} ran (verdict needs all seeds: \`label-leak report\`)`
      : `✗ ${id} [${tierLabel(ctx)}]: seed ${seeds} failed`);
  } else {
    const mark = asExpected(record) ? '✓' : '✗';
    lines.push(`${mark} ${id} [${tierLabel(ctx)}]: ${record.verdict} (expected ${record.expected}${ctx.overrides.length > 0 ? ' at the spec\'s own parameters' : ''})`);
    for (const a of record.assertions) lines.push(`    ${a.name}: ${a.summary}`);
    for (const p of (record.preconditions ?? []).filter((x) => !x.holds)) lines.push(`    precondition failed: ${p.name}: ${p.summary}`);
  }
  for (const f of record.outcomes.filter((x) => x.status === 'error' && (!ctx.oneSeed || ctx.oneSeed.includes(x.seed)))) {
    lines.push(`    seed ${f.seed}: error: ${f.error ? `${f.error.name}: ${f.error.message}` : 'no reason recorded'}`);
  }
  return lines;
}

/** Seconds as people read a run's length: "8.2 s", "3 min 05 s", "1 h 02 min". */
export function formatWall(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const s = Math.round(seconds);
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

export interface RunTally {
  /** Claims that finished, by id, with their outcome. */
  finished: { id: string; outcome: ClaimOutcome }[];
  /** Claims not run: their data could not be had, or they lack the tier. */
  skipped: string[];
  /** Claims whose jobs (`--jobs`) ended without writing a record. */
  unfinished?: string[];
}

/** The closing summary: one line of counts and wall time, then where the records are and the next command. */
export function closingSummary(t: RunTally, ctx: RunContext & { wallSeconds: number; resultsDir: string }): string[] {
  const count = (o: ClaimOutcome) => t.finished.filter((f) => f.outcome === o).length;
  const parts: string[] = [];
  if (ctx.oneSeed) {
    const errors = count('error');
    parts.push(`${t.finished.length - errors} of ${t.finished.length} claim${t.finished.length === 1 ? '' : 's'} ran seed ${ctx.oneSeed.join(', ')}`);
    if (errors > 0) parts.push(`${errors} with an error`);
  } else {
    const n = t.finished.length;
    parts.push(`${count('as expected')} of ${n} as expected`);
    if (count('differ') > 0) parts.push(`${count('differ')} differ${count('differ') === 1 ? 's' : ''}: ${t.finished.filter((f) => f.outcome === 'differ').map((f) => f.id).join(', ')}`);
    if (count('error') > 0) parts.push(`${count('error')} error${count('error') === 1 ? '' : 's'}: ${t.finished.filter((f) => f.outcome === 'error').map((f) => f.id).join(', ')}`);
  }
  if (t.skipped.length > 0) parts.push(`${t.skipped.length} skipped`);
  if (t.unfinished && t.unfinished.length > 0) parts.push(`${t.unfinished.length} without a record (job failed): ${t.unfinished.join(', ')}`);
  const head = `${parts.join(' · ')} · ${formatWall(ctx.wallSeconds)}${ctx.overrides.length > 0 ? ` · with --set ${ctx.overrides.join(' --set ')}` : ''}`;
  const results = ctx.resultsDir === 'results' ? '' : ` --results ${ctx.resultsDir}`;
  const lines = [`== ${head} ==`];
  if (t.finished.length > 0) {
    lines.push(`records: ${ctx.resultsDir}/${ctx.tier}/`);
    lines.push(ctx.oneSeed
      ? `next: when every seed has run, \`label-leak report${results}\` merges them into verdicts`
      : `next: \`label-leak report${results}\` (report.md and plots), or \`label-leak diff docs/results/records ${ctx.resultsDir}\``);
  }
  return lines;
}

const quoteArg = (a: string) => (/^[\w.,=/:@%+-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);

/**
 * What an interrupted run prints: the command that continues it. The checkpoints and finished
 * seeds are under --results, so a resume without the same --results would start over in
 * ./results — the command given keeps every option of this run and adds --resume.
 */
export function resumeHint(args: string[], resultsDir: string): string {
  const again = args.includes('--resume') ? args : [...args, '--resume'];
  const where = args.some((a) => a === '--results' || a.startsWith('--results=')) ? `the same --results ${resultsDir}` : `--results ${resultsDir}, the default`;
  return `interrupted; checkpoints and finished seeds are in ${resultsDir}/ — continue with ${where}: \`label-leak ${again.map(quoteArg).join(' ')}\``;
}
