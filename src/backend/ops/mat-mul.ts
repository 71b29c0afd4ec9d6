import * as tf from '@tensorflow/tfjs';
import type { BatchMatMulAttrs, KernelBackend, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { kernelScope } from '../kernel-scope.ts';
import { defineOp, normals } from './op.ts';

/**
 * wasm's BatchMatMul hands a product to XNNPACK only when neither operand is transposed;
 * otherwise it runs a scalar loop, ten times slower (1024² with transposeB: 1.2 s against
 * 0.11 s). Backpropagation through every dense layer asks for transposes (dy·Wᵀ, xᵀ·dy), so
 * this wrapper transposes the operand explicitly (a cheap copy) and calls the stock kernel
 * without flags.
 */
function matMulWithExplicitTranspose(stock: KernelFunc): KernelFunc {
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

type MatMul = (a: tf.Tensor, b: tf.Tensor, transposeA: boolean, transposeB: boolean) => tf.Tensor;

export const matMul = defineOp<MatMul>({
  name: 'matrix product',
  reference: (a, b, transposeA, transposeB) => tf.matMul(a, b, transposeA, transposeB),
  kernels: { wasm: { BatchMatMul: (args, stock) => matMulWithExplicitTranspose(stock!)(args as never) as TensorInfo } },
  check: {
    // Batched (rank 3) and plain products, each operand transposed or not.
    run: (rng, call) => {
      const [batch, m, k, n] = [1 + rng.int(3), 1 + rng.int(7), 1 + rng.int(7), 1 + rng.int(7)];
      const [ta, tb] = [rng.next() < 0.5, rng.next() < 0.5];
      const lead = rng.next() < 0.5 ? [batch] : [];
      const a = tf.tensor(normals(batch * m * k, rng).slice(0, (lead.length ? batch : 1) * m * k), [...lead, ...(ta ? [k, m] : [m, k])]);
      const b = tf.tensor(normals(batch * k * n, rng).slice(0, (lead.length ? batch : 1) * k * n), [...lead, ...(tb ? [n, k] : [k, n])]);
      return [call(a, b, ta, tb)];
    },
    tolerance: 1e-6,
    why: 'the same products, summed by XNNPACK in its own order after an exact transpose: a few float32 ulps; a wrong transpose is off by order 1',
  },
});
