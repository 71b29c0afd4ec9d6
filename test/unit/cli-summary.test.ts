import { describe, expect, it } from 'vitest';
import { claimLines, closingSummary, formatWall, outcomeOf, resumeHint } from '../../src/cli/summary.ts';
import type { ResultRecord, SeedResult } from '../../src/results/record-types.ts';

const ok = (seed: number): SeedResult => ({ seed, status: 'ok', metrics: {} }) as unknown as SeedResult;
const failed = (seed: number): SeedResult => ({ seed, status: 'error', metrics: {}, error: { name: 'NonFiniteError', message: 'loss NaN' } }) as unknown as SeedResult;
const record = (verdict: string, expected: string, outcomes: SeedResult[]): ResultRecord =>
  ({ verdict, expected, outcomes, assertions: [{ name: 'gap above 0', summary: '0.1 ± 0.01' }], preconditions: [] }) as unknown as ResultRecord;

describe('run: what it prints per claim', () => {
  it('a full run: ✓ when as expected, ✗ when not, then the assertions', () => {
    expect(claimLines('a', record('reproduced', 'reproduced', [ok(1)]), { tier: 'fast', overrides: [] })).toEqual([
      '✓ a [fast]: reproduced (expected reproduced)',
      '    gap above 0: 0.1 ± 0.01',
    ]);
    expect(claimLines('a', record('refuted', 'reproduced', [ok(1)]), { tier: 'fast', overrides: [] })[0]).toBe('✗ a [fast]: refuted (expected reproduced)');
  });

  it('a --set run says so beside the tier, and that expected was for the spec\'s own parameters', () => {
    const [head] = claimLines('a', record('reproduced', 'reproduced', [ok(1)]), { tier: 'fast', overrides: ['evaluation.eps=12'] });
    expect(head).toBe('✓ a [fast, --set evaluation.eps=12]: reproduced (expected reproduced at the spec\'s own parameters)');
  });

  it('one seed of a job matrix says the seed ran, not a verdict against expected', () => {
    const r = record('inconclusive', 'reproduced', [ok(1), ok(2)]);
    expect(claimLines('a', r, { tier: 'gpu', oneSeed: [2], overrides: [] })).toEqual([
      '✓ a [gpu]: seed 2 ran (verdict needs all seeds: `label-leak report`)',
    ]);
    // Another job's failed seed is not this job's.
    expect(claimLines('a', record('error', 'reproduced', [failed(1), ok(2)]), { tier: 'gpu', oneSeed: [2], overrides: [] })).toHaveLength(1);
    const mine = claimLines('a', record('error', 'reproduced', [failed(2)]), { tier: 'gpu', oneSeed: [2], overrides: [] });
    expect(mine).toEqual(['✗ a [gpu]: seed 2 failed', '    seed 2: error: NonFiniteError: loss NaN']);
  });
});

describe('run: the closing summary', () => {
  const ctx = { tier: 'fast', overrides: [], wallSeconds: 2700, resultsDir: 'results' };

  it('counts as expected / differ / error / skipped, the wall time, where the records are and the next command', () => {
    const outcomes = [
      outcomeOf(record('reproduced', 'reproduced', [ok(1)])),
      outcomeOf(record('refuted', 'reproduced', [ok(1)])),
      outcomeOf(record('error', 'reproduced', [failed(1)])),
    ];
    expect(outcomes).toEqual(['as expected', 'differ', 'error']);
    const lines = closingSummary({ finished: [{ id: 'a', outcome: outcomes[0] }, { id: 'b', outcome: outcomes[1] }, { id: 'c', outcome: outcomes[2] }], skipped: ['d'] }, ctx);
    expect(lines).toEqual([
      '== 1 of 3 as expected · 1 differs: b · 1 error: c · 1 skipped · 45 min 00 s ==',
      'records: results/fast/',
      'next: `label-leak report` (report.md and plots), or `label-leak diff docs/results/records results`',
    ]);
  });

  it('names another results folder in the next command, and the --set it ran with', () => {
    const lines = closingSummary({ finished: [{ id: 'a', outcome: 'as expected' }], skipped: [] }, { ...ctx, resultsDir: 'out', overrides: ['training.epochs=1'] });
    expect(lines[0]).toBe('== 1 of 1 as expected · 45 min 00 s · with --set training.epochs=1 ==');
    expect(lines[2]).toContain('`label-leak report --results out`');
  });

  it('one-seed jobs: seeds ran, and the verdict waits for the report', () => {
    const lines = closingSummary({ finished: [{ id: 'a', outcome: 'as expected' }, { id: 'b', outcome: 'error' }], skipped: [] }, { ...ctx, oneSeed: [3] });
    expect(lines[0]).toBe('== 1 of 2 claims ran seed 3 · 1 with an error · 45 min 00 s ==');
    expect(lines[2]).toMatch(/when every seed has run, `label-leak report` merges them/);
  });

  it('claims whose job left no record are named', () => {
    const lines = closingSummary({ finished: [], skipped: [], unfinished: ['x'] }, ctx);
    expect(lines).toEqual(['== 0 of 0 as expected · 1 without a record (job failed): x · 45 min 00 s ==']);
  });

  it('wall times people read', () => {
    expect([formatWall(8.24), formatWall(185), formatWall(3720)]).toEqual(['8.2 s', '3 min 05 s', '1 h 02 min']);
  });
});

describe('run, interrupted: how to continue', () => {
  it('repeats every option with --resume, and says the --results folder must be the same', () => {
    const hint = resumeHint(['run', 'a', '--results', 'out dir', '--tier', 'full'], 'out dir');
    expect(hint).toBe("interrupted; checkpoints and finished seeds are in out dir/ — continue with the same --results out dir: `label-leak run a --results 'out dir' --tier full --resume`");
    expect(resumeHint(['run', '--resume'], 'results')).toBe('interrupted; checkpoints and finished seeds are in results/ — continue with --results results, the default: `label-leak run --resume`');
  });
});
