import * as tf from '@tensorflow/tfjs';
import type { Conv2DBackpropFilterAttrs, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { startBackend } from '../../src/backend/select.ts';
import { conv2dBackpropFilterIm2col } from '../../src/backend/webgpu-conv-grad.ts';
import { makeRng } from '../../src/util/rng.ts';
import { convShapes, relativeError } from '../helpers/conv-cases.ts';

/**
 * The webgpu filter gradient (src/backend/webgpu-conv-grad.ts) is built from kernels every
 * backend has, so its arithmetic is checked here on `cpu` against cpu's own
 * Conv2DBackpropFilter; on a GPU only the kernels it calls differ.
 */
const convCase = convShapes(fc.record({ sh: fc.constantFrom(1, 2, 3), sw: fc.constantFrom(1, 2, 3) }));

function normals(shape: number[], seed: number, stream: string): tf.Tensor {
  const rng = makeRng(seed, stream);
  return tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()), shape);
}

beforeAll(async () => {
  await startBackend('cpu');
});

describe('conv filter gradient as im2col + batched products (webgpu kernel)', () => {
  it('equals the reference Conv2DBackpropFilter to 1e-4 relative error, for any shape, stride and padding', () => {
    const stock = tf.getKernel('Conv2DBackpropFilter', 'cpu')!.kernelFunc as KernelFunc;
    fc.assert(
      fc.property(convCase, (c) => {
        const x = normals([c.n, c.h, c.w, c.ci], c.seed, 'x') as tf.Tensor4D;
        const filterShape: [number, number, number, number] = [c.kh, c.kw, c.ci, c.co];
        const outShape = tf.conv2d(x, tf.zeros(filterShape) as tf.Tensor4D, [c.sh, c.sw], c.pad).shape;
        const dy = normals(outShape, c.seed, 'dy');
        const attrs = { strides: [c.sh, c.sw], pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape } as unknown as Conv2DBackpropFilterAttrs;
        const backend = tf.backend();
        const args = { inputs: { x, dy }, backend, attrs };
        const ours = conv2dBackpropFilterIm2col(args as never, stock, 'cpu');
        const ref = stock(args as never) as TensorInfo;
        const a = backend.readSync(ours.dataId) as Float32Array;
        const b = backend.readSync(ref.dataId) as Float32Array;
        expect(ours.shape).toEqual(filterShape);
        expect(relativeError(a, b), JSON.stringify(c)).toBeLessThanOrEqual(1e-4);
        backend.disposeData(ours.dataId);
        backend.disposeData(ref.dataId);
        tf.dispose([x, dy]);
      }),
      { numRuns: 60 },
    );
  });

  it('leaves no intermediate tensor behind', () => {
    const stock = tf.getKernel('Conv2DBackpropFilter', 'cpu')!.kernelFunc as KernelFunc;
    const x = normals([2, 6, 6, 3], 1, 'x') as tf.Tensor4D;
    const dy = normals([2, 3, 3, 4], 1, 'dy');
    const backend = tf.backend();
    const attrs = { strides: [2, 2], pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 3, 4] } as unknown as Conv2DBackpropFilterAttrs;
    const before = backend.numDataIds();
    const out = conv2dBackpropFilterIm2col({ inputs: { x, dy }, backend, attrs } as never, stock, 'cpu');
    expect(backend.numDataIds()).toBe(before + 1);
    backend.disposeData(out.dataId);
    tf.dispose([x, dy]);
  });
});
