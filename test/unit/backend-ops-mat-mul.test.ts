import { describe, expect, it } from 'vitest';
import { tiledProductSuits } from '../../src/backend/ops/mat-mul.ts';

describe('which webgpu adapters get the register-tiled product', () => {
  it('a software adapter (SwiftShader, llvmpipe, as tfjs keeps its info) does; a GPU, or an adapter tfjs knows nothing of, keeps tfjs’s', () => {
    expect(tiledProductSuits({ vendor: 'google', architecture: 'swiftshader' })).toBe(true);
    expect(tiledProductSuits({ vendor: 'mesa', architecture: 'llvmpipe' })).toBe(true);
    expect(tiledProductSuits({ vendor: 'nvidia', architecture: '' })).toBe(false);
    expect(tiledProductSuits({ vendor: 'apple', architecture: 'metal-3' })).toBe(false);
    expect(tiledProductSuits(undefined)).toBe(false);
  });
});
