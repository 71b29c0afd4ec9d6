import * as tf from '@tensorflow/tfjs';
import type { BackendInfo } from './info.ts';
import { BackendUnavailableError } from './errors.ts';

/** The plain-JavaScript reference backend: slow, but every kernel exists. */
export async function startCpu(): Promise<BackendInfo> {
  if (!(await tf.setBackend('cpu'))) throw new BackendUnavailableError('cpu', 'tfjs-backend-cpu failed to initialise');
  await tf.ready();
  return {
    name: 'cpu',
    version: tf.version['tfjs-backend-cpu'],
    threads: 1,
    device: 'CPU (JavaScript, 1 thread)',
    reason: 'cpu started',
  };
}
