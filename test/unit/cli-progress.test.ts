import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgress, etaSeconds, formatSeconds, quietProgress } from '../../src/cli/progress.ts';

describe('the quiet progress sink (not a terminal)', () => {
  it('writes a line at start, at most one per interval while ticking, and one at stop', () => {
    let t = 0;
    const lines: string[] = [];
    const p = quietProgress((l) => lines.push(l), { intervalMs: 15_000, now: () => t });
    p.start('train mlp', 100);
    for (let step = 1; step <= 100; step++) {
      t += 1000; // one step a second: 100 s in all
      p.tick(step, { loss: '0.5' });
    }
    p.stop();
    expect(lines[0]).toBe('train mlp: started (100 steps)');
    expect(lines.at(-1)).toBe('train mlp: 100/100 steps in 1m 40s');
    const ticks = lines.slice(1, -1);
    expect(ticks).toHaveLength(6); // at 15, 30, …, 90 s
    expect(ticks[0]).toBe('train mlp: 15/100 (15%), 15s elapsed, ETA 1m 25s, loss=0.5');
  });

  it('a run that ends before the interval writes only its start and stop lines', () => {
    let t = 0;
    const lines: string[] = [];
    const p = quietProgress((l) => lines.push(l), { now: () => t });
    p.start('x', 10);
    for (let i = 1; i <= 10; i++) p.tick(i, ((t += 100), undefined));
    p.stop();
    expect(lines).toHaveLength(2);
  });

  it('createProgress picks the quiet sink for a stream that is not a TTY', () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d) => (text += d));
    const p = createProgress(out);
    p.start('job', 3);
    p.tick(1);
    p.stop();
    expect(text).toMatch(/^job: started \(3 steps\)\njob: 1\/3 steps in \d+s\n$/);
  });

  it('createProgress draws a cli-progress bar with an ETA on a terminal', () => {
    const out = Object.assign(new PassThrough(), { isTTY: true, columns: 120, cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
    let text = '';
    out.on('data', (d) => (text += d));
    const p = createProgress(out);
    p.start('train resnet20', 10);
    p.tick(10, { epoch: 1 });
    p.stop();
    expect(text).toContain('train resnet20');
    expect(text).toMatch(/ETA/);
    expect(text).toContain('10/10');
  });
});

describe('ETA', () => {
  it('is the remaining steps at the pace so far', () => {
    expect(etaSeconds(10_000, 10, 30)).toBe(20);
    expect(etaSeconds(10_000, 0, 30)).toBeUndefined();
    expect(formatSeconds(3725)).toBe('1h 2m');
    expect(formatSeconds(NaN)).toBe('?');
  });
});
