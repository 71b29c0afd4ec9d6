/** What a WebGPU adapter says about itself (`adapter.info`; tfjs-backend-webgpu keeps vendor and architecture). */
export interface AdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}

/**
 * A driver that runs on the CPU (SwiftShader, llvmpipe/lavapipe): fine for testing kernels and
 * counting dispatches, far slower than wasm for training. Dawn marks it `isFallbackAdapter`;
 * the names catch a Dawn that does not (and tfjs's copy of the info, which keeps only vendor
 * and architecture).
 */
export function isSoftwareAdapter(adapter: { info?: AdapterInfoLike }): boolean {
  const i = adapter.info ?? {};
  if (i.isFallbackAdapter === true) return true;
  return /swiftshader|llvmpipe|lavapipe/i.test([i.vendor, i.architecture, i.device, i.description].join(' '));
}
