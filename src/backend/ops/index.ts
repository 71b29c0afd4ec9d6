import { registerKernels, type AnyOp, type KernelBackendName } from './op.ts';
import { batchNorm } from './batch-norm.ts';
import { batchStats } from './batch-norm/stats.ts';
import { movingAverage } from './batch-norm/moving-average.ts';
import { normalise } from './batch-norm/normalise.ts';
import { gradSum } from './batch-norm/grad-sum.ts';
import { gradX } from './batch-norm/grad-x.ts';
import { grads } from './batch-norm/grads.ts';
import { gradShortcut } from './batch-norm/grad-shortcut.ts';
import { conv2d } from './conv2d.ts';
import { conv2dBackpropFilter } from './conv2d-backprop-filter.ts';
import { conv2dBackpropInput } from './conv2d-backprop-input.ts';
import { crossEntropy } from './cross-entropy.ts';
import { globalAveragePool } from './global-average-pool.ts';
import { identity } from './identity.ts';
import { denseProduct, matMul } from './mat-mul.ts';
import { maxPoolGrad } from './max-pool-grad.ts';
import { sgdUpdate } from './sgd-update.ts';
import { signStep } from './sign-step.ts';
import { sum } from './sum.ts';

export { batchNorm, BN_EPSILON, BN_MOMENTUM, type BatchNormVariables, type Residual } from './batch-norm.ts';
export { crossEntropy, UNWEIGHTED, type CrossEntropyAttrs } from './cross-entropy.ts';
export { globalAveragePool } from './global-average-pool.ts';
export { sgdUpdate } from './sgd-update.ts';
export { signStep } from './sign-step.ts';

/**
 * Every op this project adds kernels for: each one file (its reference maths, its kernels per
 * backend, its property check). A new op is its file plus one line here; test/property/ops.test.ts
 * checks every entry on every backend it has kernels for.
 */
export const OPS: readonly AnyOp[] = [
  signStep,
  crossEntropy,
  sgdUpdate,
  globalAveragePool,
  conv2d,
  conv2dBackpropFilter,
  conv2dBackpropInput,
  matMul,
  denseProduct,
  identity,
  sum,
  maxPoolGrad,
  batchStats,
  movingAverage,
  normalise,
  gradSum,
  gradX,
  grads,
  gradShortcut,
  batchNorm,
];

/** Registers every op's kernels for `backend` (called once it is up; idempotent). */
export function registerOps(backend: KernelBackendName): void {
  registerKernels(OPS, backend);
}
