import type { BackendInfo } from '../backend/info.ts';
import type { KernelTime } from './profile.ts';
import type { TimingPlan, TimingSummary } from './timing.ts';

/** One workload on one backend. */
export interface BenchResult {
  backend: string;
  case: string;
  kind: 'train' | 'attack';
  batch: number;
  imagesPerSecond: number;
  timing: TimingSummary;
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
