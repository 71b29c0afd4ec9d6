import * as tf from '@tensorflow/tfjs';
import type { BackendInfo } from './info.ts';
import { BackendUnavailableError } from './errors.ts';

/** The plain-JavaScript reference backend: slow, but every kernel exists. */
export async function startCpu(): Promise<BackendInfo> {
  if (!(await tf.setBackend('cpu'))) throw new BackendUnavailableError('cpu', 'tfjs-backend-cpu failed to initialise');
  await tf.ready();
  // tfjs-backend-cpu greets its first tensor in Node with five lines advising tfjs-node; the
  // cpu backend is chosen here on purpose (reference results, kernel counts for dry runs).
  const cpu = tf.backend() as unknown as { firstUse?: boolean };
  if (cpu.firstUse === true) cpu.firstUse = false;
  return {
    name: 'cpu',
    version: tf.version['tfjs-backend-cpu'],
    threads: 1,
    device: 'CPU (JavaScript, 1 thread)',
    reason: 'cpu started',
  };
}
