import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeRng } from '../../src/util/rng.ts';
import { convShapes, relativeError } from '../helpers/conv-cases.ts';
import { normals, runOn, webgpuUnavailable } from '../helpers/webgpu.ts';

/**
 * The Conv2DBackpropFilter that src/backend/webgpu-conv-grad.ts registers on webgpu, run on the
 * GPU (SwiftShader in CI) through tfjs's kernel registry, equals the cpu backend's kernel.
 * Few, small cases: SwiftShader compiles every new shader on the CPU.
 */
let why: string | undefined;
beforeAll(async () => {
  why = await webgpuUnavailable();
});

const convCase = convShapes(fc.record({ sh: fc.constantFrom(1, 2), sw: fc.constantFrom(1, 2) }));

describe('webgpu Conv2DBackpropFilter (im2col form)', () => {
  it('equals the cpu kernel to 1e-4 relative error, for any shape, stride and padding', async (ctx) => {
    if (why !== undefined) ctx.skip(`webgpu does not start here (${why})`);
    await fc.assert(
      fc.asyncProperty(convCase, async (c) => {
        const rng = makeRng(c.seed, 'conv');
        const outShape = tf.conv2d(tf.zeros([c.n, c.h, c.w, c.ci]) as tf.Tensor4D, tf.zeros([c.kh, c.kw, c.ci, c.co]) as tf.Tensor4D, [c.sh, c.sw], c.pad).shape;
        const x = { data: normals(c.n * c.h * c.w * c.ci, rng), shape: [c.n, c.h, c.w, c.ci] };
        const dy = { data: normals(outShape.reduce((a, b) => a * b, 1), rng), shape: outShape };
        const attrs = { strides: [c.sh, c.sw], pad: c.pad, dataFormat: 'NHWC', filterShape: [c.kh, c.kw, c.ci, c.co] };
        const kernel = (a: tf.Tensor, b: tf.Tensor) => tf.engine().runKernel('Conv2DBackpropFilter', { x: a, dy: b }, attrs as never) as tf.Tensor;
        const ref = await runOn('cpu', [x, dy], kernel);
        const gpu = await runOn('webgpu', [x, dy], kernel);
        expect(gpu.shape).toEqual(ref.shape);
        expect(relativeError(gpu.data, ref.data), JSON.stringify(c)).toBeLessThanOrEqual(1e-4);
      }),
      { numRuns: 6, seed: 14 },
    );
  });
});
