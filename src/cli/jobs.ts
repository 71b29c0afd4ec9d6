import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import cliProgress from 'cli-progress';
import { SETTINGS } from '../util/env.ts';

/**
 * `run --jobs N`: the jobs of a run (claims of one seed that share a trained model together,
 * from claims/plan.ts) as child processes, at most N at a time, each with its own backend.
 * Each child is `label-leak run <claim>… --seed <s>` with the
 * parent's options: it writes the shared record under the record lock and its checkpoints
 * under the seed lock (so what it finishes is kept, whatever the others do), and reports
 * progress to the parent over the IPC channel, which draws one display for all of them.
 */

/**
 * How many jobs run at once. `auto` (run's default): one per core, each child on one wasm
 * thread — on a 2-core machine two single-threaded trainings nearly double the throughput,
 * where wasm's second thread adds 1.0–1.5× (issue 24). With `--threads T` each child takes
 * T cores, so auto is cores ÷ T (at least 1).
 */
export function resolveJobs(jobs: number | 'auto', threads: number | undefined, cores: number = availableParallelism()): number {
  if (jobs !== 'auto') return jobs;
  return Math.max(1, Math.floor(cores / (threads ?? 1)));
}

/** One child process: the claims of one seed that share a trained model (see claims/plan.ts). */
export interface Job {
  claims: string[];
  seeds: number[];
}

/** One progress event a child sends; JSON over the IPC channel. */
export type JobProgress =
  | { type: 'progress'; event: 'start'; label: string; total: number }
  | { type: 'progress'; event: 'tick'; done: number; info?: Record<string, string | number> }
  | { type: 'progress'; event: 'stop' };

/** Set in a child's environment: report progress over IPC instead of drawing it. */
export const JOB_IPC_ENV = SETTINGS.jobIpc.name;

export interface JobResult {
  job: Job;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface JobDisplay {
  started(job: Job): void;
  progress(job: Job, p: JobProgress): void;
  finished(r: JobResult): void;
  stop(): void;
}

const jobName = (j: Job) => `${j.claims.join(' + ')} seed ${j.seeds.join(',')}`;

/** A bar per running job on a terminal; elsewhere one line per job event and a status line at most every intervalMs. */
export function jobDisplay(stream: NodeJS.WritableStream & { isTTY?: boolean }, total: number, opts: { tty?: boolean; intervalMs?: number; now?: () => number } = {}): JobDisplay {
  const tty = opts.tty ?? stream.isTTY === true;
  const now = opts.now ?? Date.now;
  let done = 0;
  if (tty) {
    const multi = new cliProgress.MultiBar(
      { stream, format: '{name} |{bar}| {percentage}% {value}/{total} | ETA {eta_formatted} | {info}', hideCursor: true, gracefulExit: false, clearOnComplete: false },
      cliProgress.Presets.shades_classic,
    );
    const overall = multi.create(total, 0, { name: 'jobs done', info: '' });
    const bars = new Map<Job, cliProgress.SingleBar>();
    return {
      started(job) {
        bars.set(job, multi.create(1, 0, { name: jobName(job), info: 'starting' }));
      },
      progress(job, p) {
        const bar = bars.get(job);
        if (!bar) return;
        if (p.event === 'start') bar.start(p.total, 0, { name: `${jobName(job)}: ${p.label.replace(/^.*\] seed \d+ \(\d+\/\d+\) /, '')}`, info: '' });
        else if (p.event === 'tick') bar.update(p.done, { info: p.info ? Object.entries(p.info).map(([k, v]) => `${k}=${v}`).join(' ') : '' });
      },
      finished(r) {
        const bar = bars.get(r.job);
        if (bar) multi.remove(bar);
        bars.delete(r.job);
        overall.update(++done);
        multi.log(`${jobName(r.job)}: ${outcomeWord(r)}\n`);
      },
      stop() {
        multi.stop();
      },
    };
  }
  const interval = opts.intervalMs ?? 15_000;
  const state = new Map<Job, { label: string; done: number; total: number }>();
  let last = now();
  const write = (line: string) => stream.write(`${line}\n`);
  return {
    started(job) {
      state.set(job, { label: 'starting', done: 0, total: 0 });
      write(`${jobName(job)}: started`);
    },
    progress(job, p) {
      const s = state.get(job);
      if (!s) return;
      if (p.event === 'start') Object.assign(s, { label: p.label, done: 0, total: p.total });
      else if (p.event === 'tick') s.done = p.done;
      const t = now();
      if (t - last < interval) return;
      last = t;
      const running = [...state.entries()].map(([j, x]) => `${jobName(j)} ${x.total > 0 ? `${Math.floor((100 * x.done) / x.total)}%` : x.label}`);
      write(`jobs: ${done}/${total} done; running: ${running.join(', ')}`);
    },
    finished(r) {
      state.delete(r.job);
      done++;
      write(`${jobName(r.job)}: ${outcomeWord(r)} (${done}/${total} jobs done)`);
    },
    stop() {},
  };
}

function outcomeWord(r: JobResult): string {
  if (r.code === 0) return 'done';
  if (r.code === 130 || r.signal) return `interrupted${r.signal ? ` (${r.signal})` : ''}`;
  if (r.code === 1) return 'done, a seed failed';
  return `failed (exit ${r.code})`;
}

export interface RunJobsOptions {
  jobs: Job[];
  parallel: number;
  /** The child's argv after `run`, for one job. */
  argsFor(job: Job): string[];
  display: JobDisplay;
  signal?: AbortSignal;
  /** bin/label-leak.mjs; replaceable in tests. */
  cli?: string;
  env?: NodeJS.ProcessEnv;
}

const DEFAULT_CLI = fileURLToPath(new URL('../../bin/label-leak.mjs', import.meta.url));

/** Runs the jobs, at most `parallel` at once; an abort forwards SIGINT to the running ones and starts no more. */
export async function runJobs(o: RunJobsOptions): Promise<JobResult[]> {
  const queue = [...o.jobs];
  const results: JobResult[] = [];
  const running = new Set<ChildProcess>();
  const onAbort = () => running.forEach((c) => c.kill('SIGINT'));
  o.signal?.addEventListener('abort', onAbort);
  // The parent leaving at once (a second Ctrl-C) takes the children with it.
  const onExit = () => running.forEach((c) => c.kill('SIGTERM'));
  process.once('exit', onExit);

  const runOne = (job: Job) =>
    new Promise<JobResult>((resolve) => {
      const child = spawn(process.execPath, [o.cli ?? DEFAULT_CLI, 'run', ...o.argsFor(job)], {
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        // Its own process group: a Ctrl-C at the terminal reaches the parent only, which
        // passes on exactly one SIGINT (two would make a child quit without its checkpoint).
        detached: true,
        env: { ...(o.env ?? process.env), [JOB_IPC_ENV]: '1' },
      });
      running.add(child);
      o.display.started(job);
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('message', (m: JobProgress) => {
        if (m && m.type === 'progress') o.display.progress(job, m);
      });
      child.on('error', (err) => {
        stderr += `${err.message}\n`;
      });
      child.on('close', (code, signal) => {
        running.delete(child);
        const r = { job, code, signal, stdout, stderr };
        o.display.finished(r);
        resolve(r);
      });
    });

  const worker = async () => {
    for (let job = queue.shift(); job; job = queue.shift()) {
      if (o.signal?.aborted) break;
      results.push(await runOne(job));
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(o.parallel, o.jobs.length)) }, worker));
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    process.removeListener('exit', onExit);
    o.display.stop();
  }
  return results;
}

/** In a child: a progress sink that hands events to the parent, ticks at most every `intervalMs`. */
export function ipcProgress(send: (m: JobProgress) => void, intervalMs = 250, now: () => number = Date.now) {
  let last = 0;
  return {
    start: (label: string, total: number) => send({ type: 'progress', event: 'start', label, total }),
    tick: (done: number, info?: Record<string, string | number>) => {
      const t = now();
      if (t - last < intervalMs) return;
      last = t;
      send({ type: 'progress', event: 'tick', done, info });
    },
    stop: () => send({ type: 'progress', event: 'stop' }),
  };
}
