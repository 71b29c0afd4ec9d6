import type { BatchMatMulAttrs, KernelBackend, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { kernelScope } from './kernel-scope.ts';

/**
 * wasm's BatchMatMul hands a product to XNNPACK only when neither operand is transposed;
 * otherwise it runs a scalar loop, ten times slower (1024² with transposeB: 1.2 s against
 * 0.11 s). Backpropagation through every dense layer asks for transposes (dy·Wᵀ, xᵀ·dy), so
 * this wrapper transposes the operand explicitly (a cheap copy) and calls the stock kernel
 * without flags.
 */
export function matMulWithExplicitTranspose(stock: KernelFunc): KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args as unknown as {
      inputs: { a: TensorInfo; b: TensorInfo };
      backend: KernelBackend;
      attrs: BatchMatMulAttrs;
    };
    if (!attrs.transposeA && !attrs.transposeB) return stock(args);
    const k = kernelScope(backend, 'wasm');
    const swapLast = (t: TensorInfo) => {
      const perm = t.shape.map((_, i) => i);
      perm.push(...perm.splice(-2).reverse());
      return k.run('Transpose', { x: t }, { perm });
    };
    try {
      const a = attrs.transposeA ? swapLast(inputs.a) : inputs.a;
      const b = attrs.transposeB ? swapLast(inputs.b) : inputs.b;
      return stock({ inputs: { a, b }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } }) as TensorInfo;
    } finally {
      k.release();
    }
  };
}
