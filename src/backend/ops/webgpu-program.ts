import type { KernelBackend, TensorInfo } from '@tensorflow/tfjs';
import { isSoftwareAdapter, type AdapterInfoLike } from '../adapter.ts';

/**
 * The slice of tfjs-backend-webgpu 4.22's program interface (WebGPUProgram, runWebGPUProgram)
 * that this project's kernels use. Typed here rather than imported so that the backend package
 * stays an optional, dynamically imported one.
 *
 * tfjs writes the shader's header itself: one `result` array (the output), one read-only array
 * per name in `variableNames`, and a `uniforms` struct holding every shape, `size` when asked,
 * and the fields named in `uniforms`. The body is `main(index)` for a flat dispatch.
 */
export interface FlatProgram {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  size: true;
  uniforms?: string;
  getUserCode(): string;
}

export interface Uniform {
  type: 'float32' | 'int32';
  data: number[];
}

export interface WebgpuBackendLike extends KernelBackend {
  runWebGPUProgram(program: FlatProgram, inputs: TensorInfo[], outputDtype: 'float32' | 'int32', uniforms?: Uniform[]): TensorInfo;
  /** True when every input still lives on the CPU (never uploaded) and is smaller than `sizeThreshold`. */
  shouldExecuteOnCPU(inputs: TensorInfo[], sizeThreshold?: number): boolean;
}

const WORKGROUP = 64;

/**
 * A program with one thread per element of a flat output of `n` elements; `body` computes
 * element `index` (tfjs guards `index < uniforms.size` with the snippet below). The dispatch
 * grid is spread over y when x would pass WebGPU's 65,535-workgroup limit; tfjs's flat index
 * (getGlobalIndex) covers that.
 */
export function flatProgram(key: string, variableNames: string[], n: number, body: string, uniforms?: string): FlatProgram {
  return {
    ...grid(key, variableNames, n, n, uniforms),
    size: true,
    getUserCode: () => `
      fn main(index : i32) {
        if (index < uniforms.size) {
          ${body}
        }
      }`,
  };
}

/**
 * A program of `threads` threads writing a flat output of `n` elements as `body` chooses (e.g.
 * a block of elements each); `body` runs for `index` < `threads` (the first uniform, `threads`,
 * which the caller's uniforms follow).
 */
export function threadsProgram(key: string, variableNames: string[], n: number, threads: number, body: string, uniforms: string): FlatProgram {
  return {
    ...grid(key, variableNames, n, threads, `threads : i32, ${uniforms}`),
    size: true,
    getUserCode: () => `
      fn main(index : i32) {
        if (index < uniforms.threads) {
          ${body}
        }
      }`,
  };
}

function grid(key: string, variableNames: string[], n: number, threads: number, uniforms?: string) {
  const groups = Math.ceil(threads / WORKGROUP);
  const x = Math.min(groups, 65_535);
  return {
    variableNames,
    outputShape: [n],
    shaderKey: key,
    dispatchLayout: { x: [0] },
    dispatch: [x, Math.ceil(groups / x), 1] as [number, number, number],
    workgroupSize: [WORKGROUP, 1, 1] as [number, number, number],
    ...(uniforms !== undefined ? { uniforms } : {}),
  };
}

/**
 * Whether this project's barrier-free kernels (the register-tiled product, the in-order sum)
 * replace tfjs's on the adapter: only on software ones (SwiftShader, llvmpipe), where a
 * workgroup barrier is a coroutine switch and workgroup memory an emulated gather (mat-mul.ts
 * has the measurements). On a GPU tfjs's tiled kernels are the right ones and stay.
 */
export function barrierFreeKernelsSuit(adapterInfo: AdapterInfoLike | undefined): boolean {
  return adapterInfo !== undefined && isSoftwareAdapter({ info: adapterInfo });
}

/** The adapter a webgpu backend runs on, as tfjs-backend-webgpu keeps it. */
export const adapterInfoOf = (backend: unknown): AdapterInfoLike | undefined => (backend as { adapterInfo?: AdapterInfoLike }).adapterInfo;
