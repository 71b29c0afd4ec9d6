import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ipcProgress, jobDisplay, resolveJobs, type JobProgress } from '../../src/cli/jobs.ts';
import { cli } from '../helpers/cli.ts';

const tmp = mkdtempSync(join(tmpdir(), 'llk-jobs-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('label-leak run --jobs N', () => {
  it('runs each seed in its own process; the merged record equals a one-process run (--jobs 1) seed for seed', { timeout: 600_000 }, async () => {
    const args = ['run', 'tiny-mnist-fgsm', '--claims', 'test/fixtures-specs/real-kinds', '--backend', 'wasm'];
    const jobs = await cli([...args, '--jobs', '3', '--results', join(tmp, 'jobs')]);
    const one = await cli([...args, '--jobs', '1', '--results', join(tmp, 'one')]);
    // --jobs 1 is the one-process path: the backend starts here, no job is spawned.
    expect(one.stderr).toMatch(/^backend: wasm /m);
    expect(one.stderr).not.toMatch(/\d+ jobs? \(claim × seed/);
    const read = (dir: string) => JSON.parse(readFileSync(join(tmp, dir, 'fast', 'tiny-mnist-fgsm.json'), 'utf8'));
    const [j, o] = [read('jobs'), read('one')];
    expect(j.outcomes.map((x: { seed: number }) => x.seed)).toEqual([1, 2, 3]);
    expect(j.outcomes.map((x: { metrics: object }) => x.metrics)).toEqual(o.outcomes.map((x: { metrics: object }) => x.metrics));
    expect(j.verdict).toBe(o.verdict);
    expect(jobs.code, jobs.stderr).toBe(one.code);
    // Three processes, one display: each job's start and end, then the verdict as a plain run prints it.
    expect(jobs.stderr).toMatch(/3 jobs \(claim × seed; claims sharing a trained model together\), 3 at a time/);
    for (const s of [1, 2, 3]) expect(jobs.stderr).toMatch(new RegExp(`tiny-mnist-fgsm seed ${s}: done`));
    expect(jobs.stdout).toContain(`tiny-mnist-fgsm [fast]: ${j.verdict} (expected ${j.expected})`);
    expect(readdirSync(join(tmp, 'jobs'), { recursive: true }).filter((f) => /\.lock|\.tmp/.test(String(f)))).toEqual([]);
  });

  it('a job that fails on bad input makes the run exit 2 and shows the job\'s reason', async () => {
    // The backend starts in the children only: tfjs-node is not installed here, so each job exits 2.
    const r = await cli(['run', 'tiny-mnist-fgsm', '--claims', 'test/fixtures-specs/real-kinds', '--jobs', '2', '--backend', 'tensorflow', '--results', join(tmp, 'bad')]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/tiny-mnist-fgsm seed 1: exit 2\n\s+label-leak: .*tensorflow/);
  });

  it('claims of one seed that share a trained model run as one job (one process), as --dry-run plans them', async () => {
    // Two claims with the same params (hence the same training key) and the fixture with other params.
    const claims = join(tmp, 'shared-claims');
    mkdirSync(claims, { recursive: true });
    const base = JSON.parse(readFileSync('test/fixtures-specs/real-kinds/tiny-mnist-fgsm.json', 'utf8'));
    delete base.$schema;
    for (const id of ['twin-a', 'twin-b']) writeFileSync(join(claims, `${id}.json`), JSON.stringify({ ...base, id }));
    const other = structuredClone(base);
    other.tiers.fast.params.model.hidden = [16];
    writeFileSync(join(claims, 'lone.json'), JSON.stringify({ ...other, id: 'lone' }));
    // The children fail at once on the backend (tfjs-node is not installed): only the grouping is under test.
    const r = await cli(['run', '--claims', claims, '--seeds', '1,2', '--jobs', '2', '--backend', 'tensorflow', '--results', join(tmp, 'shared')]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^4 jobs \(claim × seed; claims sharing a trained model together\), 2 at a time/m);
    // One child per (group, seed), started as `run twin-a twin-b --seed s`: its exit line names both claims.
    const exits = r.stderr.split('\n').filter((l) => /: exit 2$/.test(l)).sort();
    expect(exits).toEqual(['lone seed 1: exit 2', 'lone seed 2: exit 2', 'twin-a + twin-b seed 1: exit 2', 'twin-a + twin-b seed 2: exit 2']);
  });
});

describe('how many jobs at once', () => {
  it('auto (the default) is one per core, each child on one wasm thread; with --threads T, cores ÷ T', () => {
    expect(resolveJobs('auto', undefined, 2)).toBe(2);
    expect(resolveJobs('auto', undefined, 16)).toBe(16);
    expect(resolveJobs('auto', 2, 16)).toBe(8);
    expect(resolveJobs('auto', 4, 2)).toBe(1);
    expect(resolveJobs(3, undefined, 2)).toBe(3);
    expect(resolveJobs('auto', undefined)).toBe(availableParallelism());
  });

  it('without --jobs a run of several jobs spreads them over the cores; one job (one claim, one seed) runs in the one process', async () => {
    // tfjs-node is not installed here: each child exits 2 at once, which is enough to see the plan.
    const args = ['run', 'tiny-mnist-fgsm', '--claims', 'test/fixtures-specs/real-kinds', '--backend', 'tensorflow', '--results', join(tmp, 'auto')];
    const many = await cli([...args, '--seeds', '1,2,3']);
    expect(many.code, many.stderr).toBe(2);
    expect(many.stderr).toContain(`3 jobs (claim × seed; claims sharing a trained model together), ${Math.min(3, availableParallelism())} at a time`);
    expect(many.stderr).toMatch(/tiny-mnist-fgsm seed 3: exit 2/);
    const single = await cli([...args, '--seed', '2']);
    expect(single.code, single.stderr).toBe(2);
    expect(single.stderr).not.toMatch(/jobs? \(claim × seed/);
    expect(single.stderr).toMatch(/^label-leak: .*tensorflow/m);
  });

  it('--jobs takes a positive integer or auto; anything else is a usage error (exit 2)', async () => {
    const r = await cli(['run', 'tiny-mnist-fgsm', '--claims', 'test/fixtures-specs/real-kinds', '--jobs', 'two']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--jobs <n\|auto>.*a positive integer, or auto \(one per core\)/);
  });
});

describe('the combined display', () => {
  it('without a terminal: a line per job start and end, and a status line of all running jobs at most every interval', () => {
    const lines: string[] = [];
    let t = 0;
    const d = jobDisplay({ write: (s: string) => lines.push(s.trimEnd()) } as unknown as NodeJS.WritableStream, 2, { tty: false, intervalMs: 1000, now: () => t });
    const a = { claims: ['c'], seeds: [1] };
    const b = { claims: ['c'], seeds: [2] };
    d.started(a);
    d.started(b);
    d.progress(a, { type: 'progress', event: 'start', label: 'train', total: 100 });
    t = 500;
    d.progress(a, { type: 'progress', event: 'tick', done: 10 });
    t = 1500;
    d.progress(b, { type: 'progress', event: 'start', label: 'train', total: 50 });
    d.progress(a, { type: 'progress', event: 'tick', done: 40 });
    d.finished({ job: a, code: 0, signal: null, stdout: '', stderr: '' });
    d.finished({ job: b, code: 1, signal: null, stdout: '', stderr: '' });
    expect(lines).toEqual(['c seed 1: started', 'c seed 2: started', 'jobs: 0/2 done; running: c seed 1 10%, c seed 2 0%', 'c seed 1: done (1/2 jobs done)', 'c seed 2: done, a seed failed (2/2 jobs done)']);
  });

  it('a child sends start and stop always, ticks at most every interval', () => {
    const sent: JobProgress[] = [];
    let t = 0;
    const p = ipcProgress((m) => sent.push(m), 100, () => t);
    p.start('x', 10);
    for (t = 0; t < 1000; t += 10) p.tick(t / 100);
    p.stop();
    expect(sent.filter((m) => m.event === 'tick').length).toBeLessThanOrEqual(10);
    expect(sent[0]).toEqual({ type: 'progress', event: 'start', label: 'x', total: 10 });
    expect(sent.at(-1)).toEqual({ type: 'progress', event: 'stop' });
  });
});
