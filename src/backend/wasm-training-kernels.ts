import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { registerWasmBatchNormKernels } from './wasm-batch-norm.ts';
import { conv2dBackpropFilterWasm, conv2dBackpropInputViaConv } from './wasm-conv-grad.ts';
import { identitySharingData } from './wasm-identity.ts';
import { maxPoolGradTiled } from './wasm-max-pool-grad.ts';
import { matMulWithExplicitTranspose } from './wasm-matmul.ts';
import { withExplicitSamePadding } from './wasm-same-padding.ts';

let installed = false;

/** Swaps a stock wasm kernel for `make(stock)`, keeping its setup function (cwrap bindings). */
function override(name: string, make: (stock: KernelFunc) => KernelFunc): void {
  const stock = tf.getKernel(name, 'wasm');
  if (stock === undefined) throw new Error(`wasm kernel ${name} is not registered`);
  tf.unregisterKernel(name, 'wasm');
  const replacement: KernelConfig = { ...stock, kernelFunc: make(stock.kernelFunc) };
  tf.registerKernel(replacement);
}

/**
 * Kernels that make training on wasm possible, correct and fast (see wasm-conv-grad.ts,
 * wasm-matmul.ts, wasm-identity.ts, wasm-same-padding.ts and wasm-batch-norm.ts for the measurements and the bug). Idempotent; call before the wasm backend's first
 * gradient. Kernels are registered per backend name, so other backends are untouched.
 */
export function registerWasmTrainingKernels(): void {
  if (installed) return;
  installed = true;
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    kernelFunc: conv2dBackpropFilterWasm as unknown as KernelFunc,
  });
  override('Conv2DBackpropInput', (stock) => (args) =>
    conv2dBackpropInputViaConv(args as unknown as Parameters<typeof conv2dBackpropInputViaConv>[0]) ??
    (stock(args) as TensorInfo));
  override('BatchMatMul', matMulWithExplicitTranspose);
  override('Identity', identitySharingData);
  override('Conv2D', withExplicitSamePadding);
  override('FusedConv2D', withExplicitSamePadding);
  override('MaxPoolGrad', maxPoolGradTiled);
  registerWasmBatchNormKernels();
}
