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
 * (src/backend/wasm-conv-grad.ts) count as one.
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
  const total = kernels.reduce((a, k) => a + k.ms, 0);
  const shown = kernels.slice(0, top);
  const rest = kernels.slice(top);
  const rows = shown.map((k) => [k.kernel, String(k.calls), k.ms.toFixed(1), `${((100 * k.ms) / total).toFixed(0)}%`]);
  if (rest.length > 0) {
    const ms = rest.reduce((a, k) => a + k.ms, 0);
    rows.push([`${rest.length} others`, String(rest.reduce((a, k) => a + k.calls, 0)), ms.toFixed(1), `${((100 * ms) / total).toFixed(0)}%`]);
  }
  rows.push(['total', String(kernels.reduce((a, k) => a + k.calls, 0)), total.toFixed(1), '100%']);
  return table([['kernel', 'calls', 'ms', 'share'], ...rows]);
}
