import * as tf from '@tensorflow/tfjs';
import { BackendUnavailableError, startBackend } from '../../src/backend/select.ts';

/**
 * Starts webgpu (on SwiftShader where there is no GPU: scripts/swiftshader.sh) and returns
 * undefined, or why it cannot start here. CI sets LABEL_LEAK_REQUIRE_WEBGPU=1: there a missing
 * adapter fails the test file instead of skipping it, so a broken SwiftShader set-up cannot
 * pass unnoticed.
 */
export async function webgpuUnavailable(): Promise<string | undefined> {
  try {
    await startBackend('webgpu');
    return undefined;
  } catch (e) {
    if (!(e instanceof BackendUnavailableError) || process.env.LABEL_LEAK_REQUIRE_WEBGPU === '1') throw e;
    return e.message.split('\n')[0];
  }
}

export interface Values {
  data: Float32Array | Int32Array;
  shape: number[];
  dtype?: 'float32' | 'int32';
}

/**
 * Runs `f` on `backend` over tensors made there from `inputs`, and reads the result back
 * (asynchronously: webgpu in Node has no synchronous read).
 */
export async function runOn(backend: 'cpu' | 'webgpu', inputs: Values[], f: (...xs: tf.Tensor[]) => tf.Tensor): Promise<Values> {
  await tf.setBackend(backend);
  const xs = inputs.map((v) => tf.tensor(v.data, v.shape, v.dtype ?? 'float32'));
  const out = tf.tidy(() => f(...xs));
  const data = (await out.data()) as Float32Array;
  const res = { data, shape: out.shape };
  tf.dispose([out, ...xs]);
  return res;
}

export function normals(n: number, rng: { normal(): number }): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal());
}
