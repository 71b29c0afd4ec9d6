import cliProgress from 'cli-progress';
import type { ProgressSink } from '../train/progress.ts';

/**
 * Progress of long runs. On a terminal: a cli-progress bar with ETA. Elsewhere (CI logs,
 * pipes): one plain line at most every `intervalMs`. cli-progress's own non-TTY mode
 * redraws from a timer, which never fires while a synchronous training loop holds the
 * event loop, so the quiet sink checks the clock on each tick instead.
 */

export interface ProgressOptions {
  /** Defaults to the stream's own isTTY. */
  tty?: boolean;
  /** Least time between two lines of the quiet sink. */
  intervalMs?: number;
  now?: () => number;
}

const QUIET_INTERVAL_MS = 15_000;

const infoText = (info?: Record<string, string | number>) =>
  info ? Object.entries(info).map(([k, v]) => `${k}=${v}`).join(' ') : '';

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const t = Math.round(s);
  if (t < 60) return `${t}s`;
  if (t < 3600) return `${Math.floor(t / 60)}m ${t % 60}s`;
  return `${Math.floor(t / 3600)}h ${Math.floor((t % 3600) / 60)}m`;
}

/** Remaining time if the rest goes at the pace so far; undefined before any progress. */
export function etaSeconds(elapsedMs: number, done: number, total: number): number | undefined {
  if (done <= 0 || total <= 0) return undefined;
  return ((elapsedMs / done) * Math.max(0, total - done)) / 1000;
}

export function quietProgress(write: (line: string) => void, opts: { intervalMs?: number; now?: () => number } = {}): ProgressSink {
  const now = opts.now ?? Date.now;
  const interval = opts.intervalMs ?? QUIET_INTERVAL_MS;
  let label = '';
  let total = 0;
  let started = 0;
  let last = 0;
  let done = 0;
  return {
    start(l, t) {
      label = l;
      total = t;
      done = 0;
      started = last = now();
      write(`${label}: started (${total} steps)`);
    },
    tick(d, info) {
      done = d;
      const t = now();
      if (t - last < interval) return;
      last = t;
      const eta = etaSeconds(t - started, d, total);
      const pct = total > 0 ? ` (${Math.floor((100 * d) / total)}%)` : '';
      write(`${label}: ${d}/${total}${pct}, ${formatSeconds((t - started) / 1000)} elapsed, ETA ${eta === undefined ? '?' : formatSeconds(eta)}${info ? `, ${infoText(info)}` : ''}`);
    },
    stop() {
      write(`${label}: ${done}/${total} steps in ${formatSeconds((now() - started) / 1000)}`);
    },
  };
}

function barProgress(stream: NodeJS.WritableStream): ProgressSink {
  let bar: cliProgress.SingleBar | undefined;
  return {
    start(label, total) {
      bar?.stop();
      bar = new cliProgress.SingleBar(
        {
          stream,
          format: `${label} |{bar}| {percentage}% {value}/{total} | ETA {eta_formatted} | {info}`,
          etaBuffer: 50,
          hideCursor: true,
          gracefulExit: false, // the CLI owns SIGINT: it checkpoints first
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, 0, { info: '' });
    },
    tick(done, info) {
      bar?.update(done, { info: infoText(info) });
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
  };
}

/** A bar on a terminal, a line every ~15 s elsewhere. */
export function createProgress(stream: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr, opts: ProgressOptions = {}): ProgressSink {
  const tty = opts.tty ?? stream.isTTY === true;
  if (tty) return barProgress(stream);
  return quietProgress((line) => stream.write(`${line}\n`), opts);
}
