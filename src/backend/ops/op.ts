import * as tf from '@tensorflow/tfjs';
import type { GradConfig, KernelFunc, NamedAttrMap, NamedTensorMap, TensorInfo } from '@tensorflow/tfjs';
import type { Rng } from '../../util/rng.ts';

/** The backends this project adds kernels to; every other backend runs each op's reference. */
export const KERNEL_BACKENDS = ['webgpu', 'wasm'] as const;
export type KernelBackendName = (typeof KERNEL_BACKENDS)[number];

/**
 * A kernel as tfjs calls it. `stock` is the kernel of the same name the backend already had,
 * when this one replaces it (a fallback for the cases it does not cover).
 */
// Each kernel declares its own inputs and attributes; tfjs hands them untyped.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Kernel = (args: any, stock?: KernelFunc) => TensorInfo | TensorInfo[];

/**
 * How the property-test harness (test/property/ops.test.ts) checks an op: `run` builds inputs
 * from `rng` (the same for the reference on cpu and for `backend`, the one under test) and
 * returns what `call` (the op, or its reference) gives for them, gradients
 * included; each returned tensor must match the reference run on cpu to `tolerance`, relative
 * to its largest magnitude.
 */
export interface OpCheck<F> {
  run(rng: Rng, call: F, backend: KernelBackendName): tf.Tensor[];
  tolerance: number;
  /** Why the tolerance is what it is (rounding of what, measured when). */
  why: string;
}

export interface OpDefinition<F extends (...args: never[]) => unknown> {
  /** What it computes, for test names and errors. */
  name: string;
  /** The maths in tfjs ops: what runs on any backend that has none of `kernels`. */
  reference: F;
  /**
   * The same maths through this op's kernels (tf.engine().runKernel), run where the active
   * backend has them. Absent: the kernels replace stock tfjs kernels under their own names,
   * so the reference reaches them by itself.
   */
  fused?: F;
  /** Kernel name → kernel, per backend. */
  kernels: Partial<Record<KernelBackendName, Record<string, Kernel>>>;
  /**
   * For an op composed of other ops (its `fused` calls them): those ops, the first the one whose
   * kernels decide where `fused` runs. The harness counts their kernels as this op's.
   */
  parts?: readonly AnyOp[];
  /** Gradients of kernels (registered once, for every backend: only backends with the kernel reach them). */
  gradients?: GradConfig[];
  check: OpCheck<F>;
}

export type Op<F extends (...args: never[]) => unknown> = F &
  Readonly<OpDefinition<F>> & {
    /** Whether the active backend runs this op's kernels. */
    runsHere(): boolean;
  };

/** Any op, whatever its signature (for lists of ops). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyOp = Op<(...args: any[]) => any>;

/** Calls of each registered kernel, by backend and kernel name: the harness asserts a kernel ran. */
const calls = new Map<string, number>();
const key = (backend: string, kernelName: string) => `${backend}/${kernelName}`;

/** How many times `op`'s kernels (its parts' included) have run on `backend`. */
export function kernelCalls(op: AnyOp, backend: KernelBackendName): number {
  const own = Object.keys(op.kernels[backend] ?? {}).reduce((n, name) => n + (calls.get(key(backend, name)) ?? 0), 0);
  return own + (op.parts ?? []).reduce((n, p) => n + kernelCalls(p, backend), 0);
}

/**
 * One op: calling it runs `fused` where the active backend has this op's kernels and
 * `reference` everywhere else. Callers call it; nothing outside src/backend asks which backend runs.
 */
export function defineOp<F extends (...args: never[]) => unknown>(def: OpDefinition<F>): Op<F> {
  const names = (backend: string) => Object.keys(def.kernels[backend as KernelBackendName] ?? {});
  const runsHere = (): boolean => {
    if (def.parts !== undefined) return def.parts[0].runsHere();
    const here = names(tf.getBackend());
    return here.length > 0 && here.every((n) => installed.has(key(tf.getBackend(), n)));
  };
  const fused = def.fused;
  const call = ((...args: Parameters<F>) => (fused !== undefined && runsHere() ? fused(...args) : def.reference(...args))) as unknown as F;
  const { name, ...rest } = def;
  // A function's `name` is read-only to assignment; it is configurable.
  Object.defineProperty(call, 'name', { value: name });
  return Object.assign(call, rest, { runsHere }) as unknown as Op<F>;
}

const installed = new Set<string>();

/**
 * Registers every kernel that `ops` have for `backend` (once; later calls do nothing for what is
 * in), each counted as it runs, and their gradients. A kernel whose name the backend already has
 * replaces it and gets the stock one as `stock`.
 */
export function registerKernels(ops: readonly AnyOp[], backend: KernelBackendName): void {
  for (const op of ops) {
    for (const [kernelName, kernel] of Object.entries(op.kernels[backend] ?? {})) {
      const id = key(backend, kernelName);
      if (installed.has(id)) continue;
      const stock = tf.getKernel(kernelName, backend);
      if (stock !== undefined) tf.unregisterKernel(kernelName, backend);
      const kernelFunc: KernelFunc = (args) => {
        calls.set(id, (calls.get(id) ?? 0) + 1);
        return kernel(args, stock?.kernelFunc);
      };
      tf.registerKernel({ ...stock, kernelName, backendName: backend, kernelFunc });
      installed.add(id);
    }
    for (const g of op.gradients ?? []) if (tf.getGradient(g.kernelName) === undefined) tf.registerGradient(g);
  }
}

/** tf.engine().runKernel with the inputs that are given (optional inputs left out) and typed attributes. */
export function runKernel<T extends tf.Tensor | tf.Tensor[]>(name: string, inputs: Record<string, tf.Tensor | undefined>, attrs: object = {}): T {
  const given = Object.fromEntries(Object.entries(inputs).filter(([, t]) => t !== undefined)) as NamedTensorMap;
  return tf.engine().runKernel(name, given, attrs as unknown as NamedAttrMap) as T;
}

/** `n` standard normals from `rng`, for the ops' checks. */
export function normals(n: number, rng: Rng): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal());
}
