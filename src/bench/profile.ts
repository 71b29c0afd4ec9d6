import * as tf from '@tensorflow/tfjs';
import { table } from '../claims/listing.ts';

/** Time spent in one kernel over a profiled run. */
export interface KernelTime {
  kernel: string;
  calls: number;
  ms: number;
}

/**
 * Kernel time over one run of `run`, summed by kernel name, most expensive first. tf.profile
 * also lists what only wraps kernels (custom-gradient scopes, `…__op` wrappers), which would
 * count the same work twice; only kernels registered for the active backend are kept, so the
 * total stays close to the run's wall time. Kernels built from other kernels below the engine
 * (src/backend/ops/conv2d-backprop-filter.ts, conv2d-backprop-input.ts) count as one.
 */
export async function profileKernels(run: () => Promise<void>): Promise<KernelTime[]> {
  const backend = tf.getBackend();
  const info = await tf.profile(run);
  const byName = new Map<string, KernelTime>();
  for (const k of info.kernels) {
    if (tf.getKernel(k.name, backend) === undefined) continue;
    const t = await k.kernelTimeMs;
    if (typeof t !== 'number') continue;
    const e = byName.get(k.name) ?? { kernel: k.name, calls: 0, ms: 0 };
    e.calls += 1;
    e.ms += t;
    byName.set(k.name, e);
  }
  return [...byName.values()].sort((a, b) => b.ms - a.ms).map((e) => ({ ...e, ms: Number(e.ms.toFixed(2)) }));
}

/** The `top` most expensive kernels and the rest, with each one's share of the total. */
export function kernelTable(kernels: KernelTime[], top = 12): string {
  const sum = (ks: KernelTime[], key: 'calls' | 'ms') => ks.reduce((a, k) => a + k[key], 0);
  const total = sum(kernels, 'ms');
  // With no kernels at all only the total row is left, and it is still all of the time.
  const share = (ms: number) => (total > 0 ? `${((100 * ms) / total).toFixed(0)}%` : '100%');
  const row = (name: string, calls: number, ms: number) => [name, String(calls), ms.toFixed(1), share(ms)];
  const rest = kernels.slice(top);
  const rows = kernels.slice(0, top).map((k) => row(k.kernel, k.calls, k.ms));
  if (rest.length > 0) rows.push(row(`${rest.length} others`, sum(rest, 'calls'), sum(rest, 'ms')));
  rows.push(row('total', sum(kernels, 'calls'), total));
  return table([['kernel', 'calls', 'ms', 'share'], ...rows]);
}
