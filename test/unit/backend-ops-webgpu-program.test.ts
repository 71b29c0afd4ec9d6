import { describe, expect, it } from 'vitest';
import { barrierFreeKernelsSuit } from '../../src/backend/ops/webgpu-program.ts';

describe('which webgpu adapters get the barrier-free kernels (register-tiled product, in-order sum)', () => {
  it('a software adapter (SwiftShader, llvmpipe, as tfjs keeps its info) does; a GPU, or an adapter tfjs knows nothing of, keeps tfjs’s', () => {
    expect(barrierFreeKernelsSuit({ vendor: 'google', architecture: 'swiftshader' })).toBe(true);
    expect(barrierFreeKernelsSuit({ vendor: 'mesa', architecture: 'llvmpipe' })).toBe(true);
    expect(barrierFreeKernelsSuit({ vendor: 'nvidia', architecture: '' })).toBe(false);
    expect(barrierFreeKernelsSuit({ vendor: 'apple', architecture: 'metal-3' })).toBe(false);
    expect(barrierFreeKernelsSuit(undefined)).toBe(false);
  });
});
