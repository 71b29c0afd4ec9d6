import { cpus, loadavg, totalmem } from 'node:os';
import { listBackends, startBackend } from '../backend/select.ts';
import type { ConcreteBackend } from '../spec/names.ts';
import { benchCases, type BenchCases } from './cases.ts';
import { countsPer, gpuCounts } from '../backend/webgpu-counts.ts';
import { LOSS_READ_EVERY } from '../train/step.ts';
import type { BenchRecord, BenchResult, StepCounts } from './record.ts';
import { profileKernels } from './profile.ts';
import { imagesPerSecond, measure, type TimingPlan } from './timing.ts';
import { attackWorkload, runOnce, trainWorkload, type Workload } from './workloads.ts';

export interface BenchOptions {
  /** Backends to measure; default every one that starts here. */
  backends?: ConcreteBackend[];
  /** Case ids; default all. */
  only?: string[];
  timing: TimingPlan;
  threads?: number;
  /** Profile one more run of each case by kernel (src/bench/profile.ts). */
  profile?: boolean;
  /**
   * Count host calls per step on webgpu (dispatches, uploads, buffers, read-backs) at this batch
   * size, without timing: they do not depend on the adapter's speed, so SwiftShader counts in
   * seconds what a GPU would run. Absent: webgpu cases are counted at their own batch after timing.
   */
  countBatch?: number;
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

/**
 * Host calls per step: one warm-up step (pipelines compiled, the buffer pool filled), then
 * `steps` steps and one settle, as the training loop reads its losses once per LOSS_READ_EVERY
 * steps. An attack run is settled every time: evaluation reads each adversarial batch.
 */
async function countSteps(w: Workload, kind: BenchResult['kind'], batch: number): Promise<StepCounts> {
  await runOnce(w);
  const steps = kind === 'train' ? LOSS_READ_EVERY : 2;
  const before = gpuCounts();
  for (let i = 0; i < steps; i++) {
    w.step();
    if (kind === 'attack') await w.settle();
  }
  await w.settle();
  const c = countsPer(before, gpuCounts(), steps);
  return {
    dispatchesPerStep: c.dispatches,
    uploadsPerStep: c.uploads,
    buffersCreatedPerStep: c.buffersCreated,
    readbacksPerStep: c.readbacks,
    submitsPerStep: c.submits,
    countedSteps: steps,
    countBatch: batch,
  };
}

/** Measures every selected case on every selected backend that starts. */
export async function runBench(opts: BenchOptions): Promise<BenchRecord> {
  const loadBefore = loadavg()[0];
  const cases = opts.cases ?? benchCases;
  // A software webgpu adapter (SwiftShader) is measured only when webgpu is named: by default
  // the bench compares what would train, and a CPU-run GPU driver never does.
  const chosen = await listBackends({ threads: opts.threads, allowSoftware: opts.backends !== undefined }, opts.backends);
  const selected = <T extends { id: string }>(xs: T[]) => xs.filter((x) => opts.only === undefined || opts.only.includes(x.id));
  const results: BenchResult[] = [];
  const backends: BenchRecord['backends'] = [];
  for (const probe of chosen) {
    if (probe.info === undefined) {
      backends.push({ name: probe.name, error: probe.error });
      continue;
    }
    const info = await startBackend(probe.name, { threads: opts.threads, allowSoftware: true });
    backends.push({ name: probe.name, info });
    const jobs: { id: string; kind: BenchResult['kind']; batch: number; make: (batch: number) => Workload }[] = [
      ...selected(cases.train).map((c) => ({ id: c.id, kind: 'train' as const, batch: c.batch, make: (batch: number) => trainWorkload({ ...c, batch }, cases) })),
      ...selected(cases.attack).map((c) => ({ id: c.id, kind: 'attack' as const, batch: c.batch, make: (batch: number) => attackWorkload({ ...c, batch }) })),
    ];
    const counting = info.name === 'webgpu';
    for (const job of jobs) {
      // Counting alone: only webgpu is counted (wasm and cpu have no dispatches), at a tiny batch.
      if (opts.countBatch !== undefined && !counting) continue;
      opts.onStart?.(info.name, job.id);
      const batch = opts.countBatch ?? job.batch;
      const w = job.make(batch);
      try {
        const r: BenchResult = { backend: info.name, case: job.id, kind: job.kind, batch };
        if (opts.countBatch === undefined) {
          const run = () => runOnce(w);
          const timing = await measure(run, opts.timing);
          Object.assign(r, { imagesPerSecond: imagesPerSecond(batch, timing), timing });
          // After the timed runs, so profiling's own bookkeeping never lands in the timings.
          if (opts.profile) r.kernels = await profileKernels(run);
        }
        if (counting) Object.assign(r, await countSteps(w, job.kind, batch));
        results.push(r);
        opts.onResult?.(r);
      } finally {
        w.dispose();
      }
    }
  }
  return { tool: 'label-leak', date: new Date().toISOString(), machine: machine(loadBefore), backends, timing: opts.timing, results };
}
