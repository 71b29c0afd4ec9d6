import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchCases } from './cases.ts';
import type { RunEstimate } from './estimate.ts';
import type { BenchRecord } from './record.ts';
import { measureStepCost } from './step-cost.ts';
import type { AdversarialTraining } from '../train/step.ts';

/**
 * The wasm side of `run --dry-run`: on a machine without a GPU the run trains on wasm, and
 * the H100 figures answer another question. The rate is this machine's own, from the newest
 * `label-leak bench` record with wasm training results: each case's images/s times its
 * arithmetic per image (forward multiply-adds counted as the dry run counts them, × 3 for
 * the backward pass, + 2 per adversarial image), the fastest of the cases. The run's
 * arithmetic (the same count the GPU lines use) over that rate is the estimate.
 */
export interface WasmRate {
  /** Sustained fp32 rate of one wasm process, FLOP/s. */
  flopsPerSecond: number;
  file: string;
  date: string;
  /** 1-minute load average when the bench ran (timings on a shared machine follow it). */
  load: number;
  cases: string[];
}

/** The newest bench record under `dir` with timed wasm training cases, or undefined. */
export function newestWasmBench(dir: string): { file: string; record: BenchRecord } | undefined {
  if (!existsSync(dir)) return undefined;
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.json')).sort().reverse()) {
    const file = join(dir, name);
    try {
      const record = JSON.parse(readFileSync(file, 'utf8')) as BenchRecord;
      if (record.tool === 'label-leak' && Array.isArray(record.results) && record.results.some((r) => r.backend === 'wasm' && r.kind === 'train' && (r.imagesPerSecond ?? 0) > 0)) return { file, record };
    } catch {
      // Not a bench record (or half-written): older ones may serve.
    }
  }
  return undefined;
}

export async function wasmRate(dir: string): Promise<WasmRate | undefined> {
  const found = newestWasmBench(dir);
  if (!found) return undefined;
  const rates: number[] = [];
  const cases: string[] = [];
  for (const r of found.record.results) {
    const c = benchCases.train.find((x) => x.id === r.case);
    if (r.backend !== 'wasm' || r.kind !== 'train' || !r.imagesPerSecond || !c) continue;
    const cost = await measureStepCost(c.model, c.input, 10, c.adversarial as AdversarialTraining | null, []);
    rates.push(2 * cost.forwardMacs * (3 + 2 * (c.adversarial?.fraction ?? 0)) * r.imagesPerSecond);
    cases.push(r.case);
  }
  if (rates.length === 0) return undefined;
  // The fastest case: small models (the MLP, the small CNN) are bound by per-kernel overhead at
  // about 0.5 GFLOP/s here (2026-12-06, load 22), while a run's arithmetic is nearly all in its
  // CIFAR-10 ResNets and fastnets, which run near the arithmetic rate.
  return { flopsPerSecond: Math.max(...rates), file: found.file, date: found.record.date, load: found.record.machine.loadBefore, cases };
}

/** Wall time on wasm with `parallel` processes: each job's arithmetic at the rate, dealt longest first. */
export function wasmWallSeconds(run: RunEstimate, flopsPerSecond: number, parallel: number): number {
  const lanes = new Array<number>(Math.max(1, parallel)).fill(0);
  for (const s of run.jobs.map((j) => j.flops / flopsPerSecond).sort((a, b) => b - a)) {
    const i = lanes.indexOf(Math.min(...lanes));
    lanes[i] += s;
  }
  return Math.max(...lanes);
}

/** fp32 peak of an H100/H200 (SXM, no tensor cores) that the GPU lines quote. */
export const GPU_PEAK_FLOPS = 67e12;

/**
 * The GPU estimates, labelled as such and ordered by plausibility: those whose arithmetic
 * fits under the quoted peak first (the least demanding first), then those that would need
 * more than the peak, flagged — "--jobs 12: 2.0 min" needed 120 TFLOP/s against ≈ 67.
 */
export function gpuEstimateLines(estimate: (parallel: number) => RunEstimate, parallel: number[], minutes: (s: number) => string): string[] {
  const all = [...new Set(parallel)].map((p) => estimate(p));
  const fits = all.filter((e) => e.requiredFlopsPerSecond <= GPU_PEAK_FLOPS).sort((a, b) => a.requiredFlopsPerSecond - b.requiredFlopsPerSecond);
  const over = all.filter((e) => e.requiredFlopsPerSecond > GPU_PEAK_FLOPS).sort((a, b) => a.requiredFlopsPerSecond - b.requiredFlopsPerSecond);
  const tf = (x: number) => (x / 1e12).toFixed(1);
  return [
    ...fits.map((e) => `  GPU, --jobs ${e.parallel}: ${minutes(e.wallSeconds)} if the GPU sustains ${tf(e.requiredFlopsPerSecond)} TFLOP/s of fp32 (${Math.round((100 * e.requiredFlopsPerSecond) / GPU_PEAK_FLOPS)}% of the ≈ 67 peak)`),
    ...over.map((e) => `  GPU, --jobs ${e.parallel}: ${minutes(e.wallSeconds)} — implausible: needs ${tf(e.requiredFlopsPerSecond)} TFLOP/s, above the ≈ 67 TFLOP/s fp32 peak; the arithmetic alone takes at least ${minutes(e.flops / GPU_PEAK_FLOPS)}`),
  ];
}
