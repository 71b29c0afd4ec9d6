import { cpus, loadavg, totalmem } from 'node:os';
import { listBackends, startBackend } from '../backend/select.ts';
import type { ConcreteBackend } from '../spec/names.ts';
import { benchCases, type BenchCases } from './cases.ts';
import type { BenchRecord, BenchResult } from './record.ts';
import { profileKernels } from './profile.ts';
import { imagesPerSecond, measure, type TimingPlan } from './timing.ts';
import { attackWorkload, trainWorkload, type Workload } from './workloads.ts';

export interface BenchOptions {
  /** Backends to measure; default every one that starts here. */
  backends?: ConcreteBackend[];
  /** Case ids; default all. */
  only?: string[];
  timing: TimingPlan;
  threads?: number;
  /** Profile one more run of each case by kernel (src/bench/profile.ts). */
  profile?: boolean;
  cases?: BenchCases;
  /** Called before and after each measurement, for progress output. */
  onStart?: (backend: string, caseId: string) => void;
  onResult?: (r: BenchResult) => void;
}

function machine(loadBefore: number): BenchRecord['machine'] {
  const cpu = cpus();
  return {
    cpuModel: cpu[0]?.model ?? 'unknown',
    cpus: cpu.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.versions.node,
    loadBefore,
    loadAfter: loadavg()[0],
  };
}

/** Measures every selected case on every selected backend that starts. */
export async function runBench(opts: BenchOptions): Promise<BenchRecord> {
  const loadBefore = loadavg()[0];
  const cases = opts.cases ?? benchCases;
  const probes = await listBackends({ threads: opts.threads });
  const chosen = probes.filter((p) => opts.backends === undefined || opts.backends.includes(p.name));
  const selected = <T extends { id: string }>(xs: T[]) => xs.filter((x) => opts.only === undefined || opts.only.includes(x.id));
  const results: BenchResult[] = [];
  const backends: BenchRecord['backends'] = [];
  for (const probe of chosen) {
    if (probe.info === undefined) {
      backends.push({ name: probe.name, error: probe.error });
      continue;
    }
    const info = await startBackend(probe.name, { threads: opts.threads });
    backends.push({ name: probe.name, info });
    const jobs: { id: string; kind: BenchResult['kind']; batch: number; make: () => Workload }[] = [
      ...selected(cases.train).map((c) => ({ id: c.id, kind: 'train' as const, batch: c.batch, make: () => trainWorkload(c, cases) })),
      ...selected(cases.attack).map((c) => ({ id: c.id, kind: 'attack' as const, batch: c.batch, make: () => attackWorkload(c) })),
    ];
    for (const job of jobs) {
      opts.onStart?.(info.name, job.id);
      const w = job.make();
      try {
        const timing = await measure(w.run, opts.timing);
        const r: BenchResult = { backend: info.name, case: job.id, kind: job.kind, batch: job.batch, imagesPerSecond: imagesPerSecond(job.batch, timing), timing };
        // After the timed runs, so profiling's own bookkeeping never lands in the timings.
        if (opts.profile) r.kernels = await profileKernels(w.run);
        results.push(r);
        opts.onResult?.(r);
      } finally {
        w.dispose();
      }
    }
  }
  return { tool: 'label-leak', date: new Date().toISOString(), machine: machine(loadBefore), backends, timing: opts.timing, results };
}
