/** Progress of a long run, for the CLI's bar; the experiment reports, the edge renders. */
export interface ProgressSink {
  start(label: string, total: number): void;
  tick(done: number, info?: Record<string, string | number>): void;
  stop(): void;
}

/** For runs nobody watches (tests, benchmarks). */
export const silentProgress: ProgressSink = { start() {}, tick() {}, stop() {} };
