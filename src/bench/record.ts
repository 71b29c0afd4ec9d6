import type { BackendInfo } from '../backend/info.ts';
import type { KernelTime } from './profile.ts';
import type { TimingPlan, TimingSummary } from './timing.ts';

/**
 * Host-side calls per training step (or attack run) on webgpu, counted at dawn.node
 * (src/backend/webgpu-counts.ts) over `countedSteps` steps after a warm-up one, reading the
 * losses once at the end as the training loop does every LOSS_READ_EVERY steps.
 */
export interface StepCounts {
  dispatchesPerStep: number;
  uploadsPerStep: number;
  buffersCreatedPerStep: number;
  readbacksPerStep: number;
  submitsPerStep: number;
  countedSteps: number;
  /** The batch the counts were taken at (`bench --count` uses a tiny one). */
  countBatch: number;
}

/** One workload on one backend. */
export interface BenchResult extends Partial<StepCounts> {
  backend: string;
  case: string;
  kind: 'train' | 'attack';
  batch: number;
  /** Absent with `bench --count`, which counts without timing. */
  imagesPerSecond?: number;
  timing?: TimingSummary;
  /** Kernel time over one extra run (`bench --profile`), most expensive first. */
  kernels?: KernelTime[];
}

/** What `label-leak bench` writes to results/bench/<timestamp>.json. */
export interface BenchRecord {
  tool: 'label-leak';
  date: string;
  machine: {
    cpuModel: string;
    cpus: number;
    memoryGiB: number;
    node: string;
    /** 1-minute load average before and after: the machine may be shared, and timings with it. */
    loadBefore: number;
    loadAfter: number;
  };
  backends: { name: string; info?: BackendInfo; error?: string }[];
  timing: TimingPlan;
  results: BenchResult[];
}

/** bench/pytorch_anchor.py's record (the fields used here). */
export interface AnchorRecord {
  tool: 'pytorch';
  version: string;
  threads: number;
  results: { case: string; imagesPerSecond: number }[];
}

export function isAnchorRecord(x: unknown): x is AnchorRecord {
  const r = x as AnchorRecord;
  return (
    typeof r === 'object' &&
    r !== null &&
    r.tool === 'pytorch' &&
    Array.isArray(r.results) &&
    r.results.every((e) => typeof e.case === 'string' && typeof e.imagesPerSecond === 'number')
  );
}
