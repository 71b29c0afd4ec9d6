import * as tf from '@tensorflow/tfjs';
import type { KernelBackend, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { defineOp, normals } from './op.ts';

/**
 * tfjs saves every tensor a gradient needs through `Identity` (engine.clone), and wasm 4.22's
 * Identity copies the data; cpu and webgl share it and count references. In a ResNet-20
 * training step with FGSM batches that was 315 copies, 54–63 ms of a 1.9–2.2 s step
 * (tf.profile, wasm, 1 and 2 threads); the bench saw no throughput change beyond the shared
 * machine's noise, and it is kept because the copies are pure waste. Tensors are immutable
 * and wasm frees a buffer only when its last reference goes (BackendWasm.disposeData), so
 * sharing is safe; string tensors (held in JS, not the heap) keep the stock path.
 */
function identitySharingData(stock: KernelFunc): KernelFunc {
  return (args) => {
    const { inputs, backend } = args as unknown as { inputs: { x: TensorInfo }; backend: KernelBackend };
    const { x } = inputs;
    if (x.dtype === 'string') return stock(args);
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
}

export const identity = defineOp<(x: tf.Tensor) => tf.Tensor>({
  name: 'identity (clone)',
  reference: (x) => tf.clone(x),
  kernels: { wasm: { Identity: (args, stock) => identitySharingData(stock!)(args as never) as TensorInfo } },
  check: {
    // The clone outlives its source: sharing must count references, not free the data twice.
    run: (rng, call) => {
      const x = tf.tensor(normals(1 + rng.int(20), rng));
      const y = call(x);
      x.dispose();
      return [y];
    },
    tolerance: 0,
    why: 'the same values, shared rather than copied',
  },
});
