/**
 * What a piece of work costs the host on webgpu, counted at dawn.node's API: each of these is a
 * call from JavaScript into Dawn, ≈ 0.15–0.3 ms of host time on a real GPU (docs/gpu.md §6)
 * whatever its size, so they bound a training step's speed there. They depend only on the
 * program (not on the adapter's speed, nor, mostly, on the batch size): SwiftShader counts
 * what an H100 would run.
 */
export interface GpuCounts {
  /** Compute shader dispatches (`dispatchWorkgroups`). */
  dispatches: number;
  /**
   * Tensor data written from the CPU (tfjs-backend-webgpu's uploadToGPU: each one is a buffer
   * created mapped, with its data copied in). Not counted: the small uniform block every
   * dispatch writes (`queue.writeBuffer`, one per dispatch).
   */
  uploads: number;
  /** `device.createBuffer` calls: buffers the pool had none of (uploads' staging ones included). */
  buffersCreated: number;
  /** GPU→CPU reads (`buffer.mapAsync`): each waits for all queued work to finish. */
  readbacks: number;
  /** `queue.submit` calls. */
  submits: number;
}

const counts: GpuCounts = { dispatches: 0, uploads: 0, buffersCreated: 0, readbacks: 0, submits: 0 };

/** A copy of the counts since the process started webgpu. */
export function gpuCounts(): GpuCounts {
  return { ...counts };
}

/** after − before, per unit (e.g. per step). */
export function countsPer(before: GpuCounts, after: GpuCounts, units: number): GpuCounts {
  const per = (k: keyof GpuCounts) => (after[k] - before[k]) / units;
  return { dispatches: per('dispatches'), uploads: per('uploads'), buffersCreated: per('buffersCreated'), readbacks: per('readbacks'), submits: per('submits') };
}

type Proto = Record<string, unknown>;
const wrapped = new WeakSet<object>();

function wrap(proto: Proto | undefined, method: string, count: (args: unknown[]) => void): void {
  const original = proto?.[method];
  if (proto === undefined || typeof original !== 'function' || wrapped.has(original)) return;
  const counted = function (this: unknown, ...args: unknown[]) {
    count(args);
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  };
  wrapped.add(counted);
  proto[method] = counted;
}

/**
 * Counts calls on dawn.node's classes (the `globals` of the `webgpu` package). Idempotent; an
 * increment per call is all it adds.
 */
export function countGpuCalls(globals: Record<string, unknown>): void {
  const proto = (name: string) => (globals[name] as { prototype?: Proto } | undefined)?.prototype;
  wrap(proto('GPUComputePassEncoder'), 'dispatchWorkgroups', () => counts.dispatches++);
  wrap(proto('GPUComputePassEncoder'), 'dispatchWorkgroupsIndirect', () => counts.dispatches++);
  wrap(proto('GPUDevice'), 'createBuffer', (args) => {
    counts.buffersCreated++;
    if ((args[0] as { mappedAtCreation?: boolean } | undefined)?.mappedAtCreation === true) counts.uploads++;
  });
  wrap(proto('GPUBuffer'), 'mapAsync', () => counts.readbacks++);
  wrap(proto('GPUQueue'), 'submit', () => counts.submits++);
}
