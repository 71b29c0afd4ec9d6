/** What a run actually ran on; recorded into every result. */
export interface BackendInfo {
  /** tfjs backend name: 'wasm' | 'cpu' | 'webgpu' | 'tensorflow'. */
  name: string;
  /** Version of the tfjs backend package. */
  version: string;
  threads: number;
  /** Human-readable device, e.g. 'CPU (wasm SIMD, 2 threads)' or the GPU adapter's name. */
  device: string;
  /** Why this backend was chosen (for `auto`: what was tried and why others were skipped). */
  reason: string;
}
