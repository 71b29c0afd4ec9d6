import * as tf from '@tensorflow/tfjs';
import type { BatchMatMulAttrs, KernelBackend, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { kernelScope } from '../kernel-scope.ts';
import { defineOp, normals, type Kernel } from './op.ts';
import { adapterInfoOf, barrierFreeKernelsSuit, threadsProgram, type Uniform, type WebgpuBackendLike } from './webgpu-program.ts';

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

/**
 * Output rows × columns each invocation of the webgpu product computes, kept in registers.
 * SwiftShader, the CPU driver CI's WebGPU runs on, turns every per-invocation load from a
 * buffer (workgroup memory included) into an emulated gather, one branch and scalar load per
 * SIMD lane, and a workgroup barrier into a coroutine switch. tfjs's products stage tiles
 * through workgroup memory with two barriers per tile, which suits a GPU and costs SwiftShader
 * far more than it saves. Here each step along k loads 8 + 8 values and does 64 multiply-adds,
 * with no workgroup memory: 128×784 · 784×512 took 91 ms of CPU against tfjs's 585 ms
 * (.scratch/mm3.ts, 2026-12-06; 4×4 tiles took 165 ms).
 */
export const TILE = 8;

/** One product C = A·B (per batch), as flat buffers and element strides. */
interface Product {
  batch: number;
  m: number;
  n: number;
  k: number;
  outer: number[];
  aBatch: number;
  aRow: number;
  aK: number;
  bBatch: number;
  bK: number;
  bCol: number;
}

/** The product's layout, or undefined where the batch dimensions broadcast other than as one against many. */
function productOf(a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean): Product | undefined {
  const [ra, rb] = [a.shape.length, b.shape.length];
  const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  if ((transposeB ? b.shape[rb - 1] : b.shape[rb - 2]) !== k) return undefined;
  const [outerA, outerB] = [a.shape.slice(0, -2), b.shape.slice(0, -2)];
  const [batchA, batchB] = [tf.util.sizeFromShape(outerA), tf.util.sizeFromShape(outerB)];
  const sameOuter = outerA.length === outerB.length && outerA.every((d, i) => d === outerB[i]);
  if (!sameOuter && batchA !== 1 && batchB !== 1) return undefined;
  // All ones against any shape, or equal shapes: broadcasting cannot fail.
  const outer = tf.broadcast_util.assertAndGetBroadcastShape(outerA, outerB);
  if (m * n * Math.max(batchA, batchB) === 0) return undefined;
  return {
    batch: Math.max(batchA, batchB),
    m,
    n,
    k,
    outer,
    aBatch: batchA === 1 ? 0 : m * k,
    aRow: transposeA ? 1 : k,
    aK: transposeA ? m : 1,
    bBatch: batchB === 1 ? 0 : k * n,
    bK: transposeB ? 1 : n,
    bCol: transposeB ? k : 1,
  };
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/**
 * The product, plus a bias (one per column, or one for all) and ReLU when asked. Each step
 * along k adds a·b to a running float32 sum, in k order; the bias is added to the finished sum,
 * then ReLU (NaN passes through, as in tfjs's relu).
 */
function runTiled(backend: WebgpuBackendLike, a: TensorInfo, b: TensorInfo, p: Product, bias?: TensorInfo, relu = false): TensorInfo {
  const rowBlocks = Math.ceil(p.m / TILE);
  const colBlocks = Math.ceil(p.n / TILE);
  const blocks = p.batch * rowBlocks * colBlocks;
  const rows = range(TILE);
  const quads = range(TILE / 4);
  const flat = (t: TensorInfo): TensorInfo => ({ dataId: t.dataId, dtype: t.dtype, shape: [tf.util.sizeFromShape(t.shape)] });
  const finish = (v: string, col: string) => {
    const biased = bias ? `${v} + Bias[(${col}) * uniforms.biasStride]` : v;
    return relu ? `select(${biased}, 0.0, ${biased} < 0.0)` : biased;
  };
  const body = `
          let colBlock = index % uniforms.colBlocks;
          let rest = index / uniforms.colBlocks;
          let rowBlock = rest % uniforms.rowBlocks;
          let batch = rest / uniforms.rowBlocks;
          let r0 = rowBlock * ${TILE};
          let c0 = colBlock * ${TILE};
          // Rows and columns past the edge read the last one (in bounds) and are not written.
          ${rows.map((i) => `let ra${i} = batch * uniforms.aBatch + min(r0 + ${i}, uniforms.m - 1) * uniforms.aRow;`).join('\n          ')}
          ${rows.map((j) => `let cb${j} = batch * uniforms.bBatch + min(c0 + ${j}, uniforms.n - 1) * uniforms.bCol;`).join('\n          ')}
          ${rows.map((i) => quads.map((q) => `var acc${i}_${q} = vec4<f32>(0.0);`).join(' ')).join('\n          ')}
          for (var k = 0; k < uniforms.k; k++) {
            let kb = k * uniforms.bK;
            ${quads.map((q) => `let b${q} = vec4<f32>(${range(4).map((c) => `B[cb${4 * q + c} + kb]`).join(', ')});`).join('\n            ')}
            let ka = k * uniforms.aK;
            ${rows.map((i) => `{ let a = vec4<f32>(A[ra${i} + ka]); ${quads.map((q) => `acc${i}_${q} = acc${i}_${q} + a * b${q};`).join(' ')} }`).join('\n            ')}
          }
          ${rows
            .map(
              (i) => `if (r0 + ${i} < uniforms.m) {
            let o = (batch * uniforms.m + r0 + ${i}) * uniforms.n + c0;
            ${rows.map((j) => `if (c0 + ${j} < uniforms.n) { result[o + ${j}] = ${finish(`acc${i}_${j >> 2}[${j & 3}]`, `c0 + ${j}`)}; }`).join('\n            ')}
          }`,
            )
            .join('\n          ')}`;
  const program = threadsProgram(
    `ll_matmul_tiled${bias ? '_bias' : ''}${relu ? '_relu' : ''}`,
    bias ? ['A', 'B', 'Bias'] : ['A', 'B'],
    p.batch * p.m * p.n,
    blocks,
    body,
    `m : i32, n : i32, k : i32, aBatch : i32, aRow : i32, aK : i32, bBatch : i32, bK : i32, bCol : i32, rowBlocks : i32, colBlocks : i32,${bias ? ' biasStride : i32,' : ''}`,
  );
  const ints = [blocks, p.m, p.n, p.k, p.aBatch, p.aRow, p.aK, p.bBatch, p.bK, p.bCol, rowBlocks, colBlocks, ...(bias ? [tf.util.sizeFromShape(bias.shape) === 1 ? 0 : 1] : [])];
  // threadsProgram's own uniform (the thread count) first.
  const uniforms: Uniform[] = ints.map((v) => ({ type: 'int32', data: [v] }));
  const out = backend.runWebGPUProgram(program, [flat(a), flat(b), ...(bias ? [flat(bias)] : [])], 'float32', uniforms);
  // The output's buffer holds the batches' products in order: viewing it in the product's shape is free.
  return { dataId: out.dataId, dtype: out.dtype, shape: [...p.outer, p.m, p.n] };
}

const webgpuBatchMatMul: Kernel = (args: { inputs: { a: TensorInfo; b: TensorInfo }; backend: unknown; attrs: BatchMatMulAttrs }, stock) => {
  const { a, b } = args.inputs;
  const p = productOf(a, b, args.attrs.transposeA, args.attrs.transposeB);
  if (!barrierFreeKernelsSuit(adapterInfoOf(args.backend)) || p === undefined || a.dtype !== 'float32' || b.dtype !== 'float32') return stock!(args as never) as TensorInfo;
  return runTiled(args.backend as WebgpuBackendLike, a, b, p);
};

interface FusedMatMulAttrs extends BatchMatMulAttrs {
  activation?: string | null;
}

/** tfjs's dense layer (product, bias, activation); the activations other than ReLU and none, and PReLU's weights, go to tfjs's kernel. */
const webgpuFusedMatMul: Kernel = (args: { inputs: { a: TensorInfo; b: TensorInfo; bias?: TensorInfo; preluActivationWeights?: TensorInfo }; backend: unknown; attrs: FusedMatMulAttrs }, stock) => {
  const { a, b, bias, preluActivationWeights } = args.inputs;
  const { transposeA, transposeB, activation } = args.attrs;
  const p = productOf(a, b, transposeA, transposeB);
  const act = activation ?? 'linear';
  const fits =
    barrierFreeKernelsSuit(adapterInfoOf(args.backend)) &&
    p !== undefined &&
    a.dtype === 'float32' &&
    b.dtype === 'float32' &&
    (act === 'linear' || act === 'relu') &&
    preluActivationWeights === undefined &&
    (bias === undefined || (bias.dtype === 'float32' && [1, p.n].includes(tf.util.sizeFromShape(bias.shape)) && bias.shape.length <= 1));
  if (!fits) return stock!(args as never) as TensorInfo;
  return runTiled(args.backend as WebgpuBackendLike, a, b, p, bias, act === 'relu');
};

type MatMul = (a: tf.Tensor, b: tf.Tensor, transposeA: boolean, transposeB: boolean) => tf.Tensor;

export const matMul = defineOp<MatMul>({
  name: 'matrix product',
  reference: (a, b, transposeA, transposeB) => tf.matMul(a, b, transposeA, transposeB),
  kernels: {
    wasm: { BatchMatMul: (args, stock) => matMulWithExplicitTranspose(stock!)(args as never) as TensorInfo },
    webgpu: { BatchMatMul: webgpuBatchMatMul },
  },
  check: {
    // Batched (rank 3) and plain products, each operand transposed or not; sides up to past two
    // of webgpu's tiles, so partial tiles and more than one are both reached.
    run: (rng, call) => {
      const [batch, m, k, n] = [1 + rng.int(3), 1 + rng.int(2 * TILE + 3), 1 + rng.int(2 * TILE + 3), 1 + rng.int(2 * TILE + 3)];
      const [ta, tb] = [rng.next() < 0.5, rng.next() < 0.5];
      const lead = rng.next() < 0.5 ? [batch] : [];
      const a = tf.tensor(normals(batch * m * k, rng).slice(0, (lead.length ? batch : 1) * m * k), [...lead, ...(ta ? [k, m] : [m, k])]);
      const b = tf.tensor(normals(batch * k * n, rng).slice(0, (lead.length ? batch : 1) * k * n), [...lead, ...(tb ? [n, k] : [k, n])]);
      return [call(a, b, ta, tb)];
    },
    tolerance: 1e-6,
    why: 'the same products, summed by XNNPACK or webgpu in their own order after an exact transpose: a few float32 ulps; a wrong transpose or stride is off by order 1',
  },
});

type Dense = (x: tf.Tensor2D, w: tf.Tensor2D, bias: tf.Tensor1D | undefined, activation: 'relu' | 'linear', transposeA: boolean, transposeB: boolean) => tf.Tensor2D;

/** A dense layer as the models call it (tfjs's fused product: product, bias, activation), and its gradients. */
export const denseProduct = defineOp<Dense>({
  name: 'dense layer (product, bias, ReLU)',
  reference: (x, w, bias, activation, transposeA, transposeB) => tf.fused.matMul({ a: x, b: w, bias, activation, transposeA, transposeB }) as tf.Tensor2D,
  kernels: { webgpu: { _FusedMatMul: webgpuFusedMatMul } },
  check: {
    // Both activations, with and without a bias (one per column or one for all), each operand
    // transposed or not; the gradients go through tfjs's, which call the product above.
    run: (rng, call) => {
      const [m, k, n] = [1 + rng.int(2 * TILE + 3), 1 + rng.int(2 * TILE + 3), 1 + rng.int(2 * TILE + 3)];
      const [ta, tb] = [rng.next() < 0.5, rng.next() < 0.5];
      const x = tf.tensor2d(normals(m * k, rng), ta ? [k, m] : [m, k]);
      const w = tf.tensor2d(normals(k * n, rng), tb ? [n, k] : [k, n]);
      const biasKind = rng.int(3);
      const bias = biasKind === 0 ? undefined : tf.tensor1d(normals(biasKind === 1 ? n : 1, rng));
      const activation = rng.next() < 0.5 ? 'relu' : 'linear';
      const dy = tf.tensor2d(normals(m * n, rng), [m, n]);
      const f = (xs: tf.Tensor[]) => tf.sum(tf.mul(call(xs[0] as tf.Tensor2D, xs[1] as tf.Tensor2D, xs[2] as tf.Tensor1D | undefined, activation, ta, tb), dy));
      const inputs = bias === undefined ? [x, w] : [x, w, bias];
      const grads = tf.grads((...xs: tf.Tensor[]) => f(bias === undefined ? [xs[0], xs[1], undefined as never] : xs))(inputs);
      return [call(x, w, bias, activation, ta, tb), ...grads];
    },
    tolerance: 1e-6,
    why: 'the same products and bias, summed in the backend\'s own order: a few float32 ulps; a wrong stride, bias index or activation is off by order 1',
  },
});
