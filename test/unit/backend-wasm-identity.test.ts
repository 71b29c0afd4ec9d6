import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { startBackend } from '../../src/backend/select.ts';

/** wasm's Identity (what tf.clone and the gradient tape's saved tensors go through) shares the buffer. */
describe('wasm Identity shares data instead of copying it', () => {
  it('a clone keeps its values after the original is disposed, and the buffer goes with the last reference', async () => {
    await startBackend('wasm');
    const buffersBefore = tf.engine().backend.numDataIds();
    const a = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    const b = tf.clone(a);
    expect(tf.engine().backend.numDataIds()).toBe(buffersBefore + 1);
    a.dispose();
    expect(await b.data()).toEqual(new Float32Array([1, 2, 3, 4]));
    b.dispose();
    expect(tf.engine().backend.numDataIds()).toBe(buffersBefore);
  });

  it('gradients through saved tensors equal the cpu backend', async () => {
    const f = (x: tf.Tensor) => tf.sum(tf.relu(tf.mul(x, x)));
    const grad = async (backend: 'wasm' | 'cpu') => {
      await startBackend(backend);
      const x = tf.tensor1d([-2, -0.5, 0, 0.5, 3]);
      const g = tf.grad(f)(x);
      const out = await g.data();
      tf.dispose([x, g]);
      return Array.from(out);
    };
    expect(await grad('wasm')).toEqual(await grad('cpu'));
  });

  it('string tensors keep the stock path', async () => {
    await startBackend('wasm');
    const s = tf.tensor1d(['a', 'b'], 'string');
    const c = tf.clone(s);
    s.dispose();
    expect(await c.data()).toEqual(['a', 'b']);
    c.dispose();
  });
});
