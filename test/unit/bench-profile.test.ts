import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { startBackend } from '../../src/backend/select.ts';
import { kernelTable, profileKernels } from '../../src/bench/profile.ts';

describe('bench --profile: kernel time by name', () => {
  it.each(['cpu', 'wasm'] as const)('on %s, counts each kernel call once and leaves out wrappers that only compose kernels', async (backend) => {
    await startBackend(backend);
    const a = tf.randomNormal([32, 32]);
    const square = tf.customGrad((...args) => {
      const x = args[0] as tf.Tensor;
      return { value: tf.mul(x, x), gradFunc: (dy: tf.Tensor) => tf.mul(dy, tf.mul(x, 2)) };
    });
    const kernels = await profileKernels(async () => {
      const r = tf.tidy(() => {
        let y = a;
        for (let i = 0; i < 3; i++) y = tf.matMul(y, a);
        return tf.add(square(y), 1);
      });
      r.dispose();
    });
    a.dispose();
    const calls = Object.fromEntries(kernels.map((k) => [k.kernel, k.calls]));
    expect(calls.BatchMatMul).toBe(3);
    expect(calls.Multiply).toBe(1);
    // The custom gradient's scope and the ops' `…__op` wrappers are not kernels.
    expect(kernels.every((k) => tf.getKernel(k.kernel, backend) !== undefined)).toBe(true);
    expect(kernels.map((k) => k.ms)).toEqual([...kernels.map((k) => k.ms)].sort((x, y) => y - x));
  });

  it('tables the most expensive kernels, folds the rest into one row, and totals', () => {
    const text = kernelTable(
      [
        { kernel: 'Conv2D', calls: 2, ms: 6 },
        { kernel: 'Add', calls: 3, ms: 3 },
        { kernel: 'Relu', calls: 1, ms: 1 },
      ],
      1,
    );
    const rows = text.split('\n').map((l) => l.split(/\s{2,}/));
    expect(rows).toEqual([
      ['kernel', 'calls', 'ms', 'share'],
      ['Conv2D', '2', '6.0', '60%'],
      ['2 others', '4', '4.0', '40%'],
      ['total', '6', '10.0', '100%'],
    ]);
  });
});
