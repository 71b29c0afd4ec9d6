import cliProgress from 'cli-progress';
import type { FetchProgress } from '../data/fetch.ts';
import { etaSeconds, formatSeconds } from './progress.ts';

/**
 * Progress of dataset downloads: bytes, rate and ETA. On a terminal a cli-progress bar per
 * archive; elsewhere (CI logs, pipes) a plain line when an archive starts, at most every
 * `intervalMs` while it comes, and when it is done.
 */

export interface DownloadProgress {
  onProgress(p: FetchProgress): void;
  /** A line of its own (a dropped connection, a resumed download), not lost under the bar. */
  onNotice(line: string): void;
  stop(): void;
}

export interface DownloadProgressOptions {
  /** Defaults to the stream's own isTTY. */
  tty?: boolean;
  /** Least time between two plain lines for one archive. */
  intervalMs?: number;
  now?: () => number;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}

interface Pace {
  rate: string;
  eta: string;
}

/** Rate over the bytes of this attempt only: bytes resumed from disk did not cross the network now. */
function pace(p: FetchProgress, startedAt: number, now: number): Pace {
  const ms = Math.max(1, now - startedAt);
  const got = p.received - p.resumedFrom;
  const eta = p.total === undefined ? undefined : etaSeconds(ms, got, p.total - p.resumedFrom);
  return { rate: `${formatBytes(Math.round((got * 1000) / ms))}/s`, eta: eta === undefined ? '?' : formatSeconds(eta) };
}

export function plainDownloadProgress(write: (line: string) => void, opts: { intervalMs?: number; now?: () => number } = {}): DownloadProgress {
  const now = opts.now ?? Date.now;
  const interval = opts.intervalMs ?? 5_000;
  let current = '';
  let startedAt = 0;
  let last = 0;
  let finished = false;
  let from = 0;
  return {
    onProgress(p) {
      const t = now();
      if (p.archive !== current) {
        current = p.archive;
        startedAt = last = t;
        from = p.resumedFrom;
        finished = false;
        const size = p.total === undefined ? 'size unknown' : formatBytes(p.total);
        write(`downloading ${p.archive} (${size})${p.resumedFrom > 0 ? `, resuming at ${formatBytes(p.resumedFrom)}` : ''}`);
      } else if (p.resumedFrom !== from) {
        // A new attempt after a dropped connection: its pace counts from now.
        startedAt = t;
        from = p.resumedFrom;
      }
      if (finished) return;
      if (p.total !== undefined && p.received >= p.total) {
        finished = true;
        const { rate } = pace(p, startedAt, t);
        write(`${p.archive}: ${formatBytes(p.received)} in ${formatSeconds((t - startedAt) / 1000)} (${rate})`);
        return;
      }
      if (t - last < interval) return;
      last = t;
      const { rate, eta } = pace(p, startedAt, t);
      const of = p.total === undefined ? '' : ` of ${formatBytes(p.total)} (${Math.floor((100 * p.received) / p.total)}%)`;
      write(`${p.archive}: ${formatBytes(p.received)}${of}, ${rate}, ETA ${eta}`);
    },
    onNotice: (line) => write(line),
    stop() {
      current = '';
    },
  };
}

export function barDownloadProgress(stream: NodeJS.WritableStream, opts: { now?: () => number } = {}): DownloadProgress {
  const now = opts.now ?? Date.now;
  let bar: cliProgress.SingleBar | undefined;
  let current = '';
  let startedAt = 0;
  const stop = () => {
    bar?.stop();
    bar = undefined;
    current = '';
  };
  return {
    onProgress(p) {
      if (p.archive !== current || !bar) {
        stop();
        current = p.archive;
        startedAt = now();
        bar = new cliProgress.SingleBar(
          {
            stream,
            format: `${p.archive} |{bar}| {percentage}% {got} of {size} | {rate} | ETA {left}`,
            hideCursor: true,
            gracefulExit: false, // the CLI owns SIGINT
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(p.total ?? p.received, p.resumedFrom, { got: formatBytes(p.resumedFrom), size: p.total === undefined ? '?' : formatBytes(p.total), rate: '', left: '?' });
      }
      if (p.total === undefined) bar.setTotal(Math.max(p.received, 1));
      const { rate, eta } = pace(p, startedAt, now());
      // `eta` is cli-progress's own token (seconds): ours is `left`, formatted like the training bars.
      bar.update(p.received, { got: formatBytes(p.received), size: p.total === undefined ? '?' : formatBytes(p.total), rate, left: eta });
    },
    onNotice(line) {
      // A bar owns its line: end it, say the thing, and the next tick starts a fresh bar.
      stop();
      stream.write(`${line}\n`);
    },
    stop,
  };
}

export function downloadProgress(stream: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr, opts: DownloadProgressOptions = {}): DownloadProgress {
  const tty = opts.tty ?? stream.isTTY === true;
  if (tty) return barDownloadProgress(stream, opts);
  return plainDownloadProgress((line) => stream.write(`${line}\n`), opts);
}
