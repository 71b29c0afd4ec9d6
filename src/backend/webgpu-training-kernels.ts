import { registerWebgpuBatchNormKernels } from './webgpu-batch-norm.ts';
import { registerWebgpuConvGrad } from './webgpu-conv-grad.ts';
import { registerWebgpuCrossEntropy } from './webgpu-cross-entropy.ts';
import { registerWebgpuGlobalPool } from './webgpu-global-pool.ts';
import { registerWebgpuSignStep } from './webgpu-sign-step.ts';
import { registerWebgpuSgdKernels } from './webgpu-sgd.ts';

/**
 * Every kernel this project adds to or replaces in tfjs-backend-webgpu, registered in this one
 * place (called by startWebgpu once the backend is up). Each has a property test against the
 * cpu backend that runs on SwiftShader (test/property/backend-webgpu-*.test.ts).
 */
export function registerWebgpuTrainingKernels(): void {
  registerWebgpuConvGrad();
  registerWebgpuSgdKernels();
  registerWebgpuCrossEntropy();
  registerWebgpuSignStep();
  registerWebgpuGlobalPool();
  registerWebgpuBatchNormKernels();
}
