import * as tf from '@tensorflow/tfjs';
import type { KernelBackend, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';

/**
 * Runs registered kernels of one backend directly, below the engine: nothing is recorded
 * on a gradient tape or counted by tf.memory(). Every intermediate is released by
 * `release()`; the one result that leaves is handed over with `keep()`.
 */
export interface KernelScope {
  run(kernel: string, inputs: Record<string, TensorInfo> | TensorInfo[], attrs?: object): TensorInfo;
  /** Exclude `t` from release (it is returned to the engine). */
  keep(t: TensorInfo): TensorInfo;
  release(): void;
}

export function kernelScope(backend: KernelBackend, backendName: string, fallbacks: Record<string, tf.KernelFunc> = {}): KernelScope {
  const temps: TensorInfo[] = [];
  return {
    run(kernel, inputs, attrs = {}) {
      const fn = fallbacks[kernel] ?? tf.getKernel(kernel, backendName)?.kernelFunc;
      if (fn === undefined) throw new Error(`${backendName} kernel ${kernel} is missing`);
      const out = fn({ inputs: inputs as never, backend, attrs: attrs as NamedAttrMap }) as TensorInfo;
      temps.push(out);
      return out;
    },
    keep(t) {
      const i = temps.indexOf(t);
      if (i >= 0) temps.splice(i, 1);
      return t;
    },
    release() {
      for (const t of temps.splice(0)) backend.disposeData(t.dataId);
    },
  };
}
