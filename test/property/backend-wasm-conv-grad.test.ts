import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { startBackend } from '../../src/backend/select.ts';
import { makeRng } from '../../src/util/rng.ts';
import { convShapes, relativeError, type ConvShape } from '../helpers/conv-cases.ts';

/**
 * The wasm backend's convolution gradients (src/backend/wasm-conv-grad.ts) agree with the
 * reference `cpu` backend to a relative error of 1e-4, for the input and the filter, on
 * random shapes, strides 1 and 2 and both paddings — through tf.conv2d and through the
 * fused conv2d + bias + ReLU the models use. The forward output is compared as well: the
 * stock wasm kernel got 'same' padding wrong for small inputs (wasm-same-padding.ts).
 */
const TOLERANCE = 1e-4;

type ConvCase = ConvShape & { stride: 1 | 2; fused: boolean };

const convCase: fc.Arbitrary<ConvCase> = convShapes(fc.record({ stride: fc.constantFrom(1 as const, 2 as const), fused: fc.boolean() }));

function normals(size: number, seed: number, stream: string): Float32Array {
  const rng = makeRng(seed, stream);
  return Float32Array.from({ length: size }, () => rng.normal());
}

interface Grads {
  y: Float32Array;
  dx: Float32Array;
  dw: Float32Array;
}

/** ∂/∂x and ∂/∂w of Σ r ⊙ conv(x, w): the random r makes dy a dense, non-uniform tensor. */
async function gradsOn(backend: 'cpu' | 'wasm', c: ConvCase): Promise<Grads> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const x = tf.tensor4d(normals(c.n * c.h * c.w * c.ci, c.seed, 'x'), [c.n, c.h, c.w, c.ci]);
    const w = tf.tensor4d(normals(c.kh * c.kw * c.ci * c.co, c.seed, 'w'), [c.kh, c.kw, c.ci, c.co]);
    const bias = tf.tensor1d(normals(c.co, c.seed, 'b'));
    const conv = (xi: tf.Tensor4D, wi: tf.Tensor4D) =>
      c.fused
        ? tf.fused.conv2d({ x: xi, filter: wi, strides: c.stride, pad: c.pad, bias, activation: 'relu' })
        : tf.conv2d(xi, wi, c.stride, c.pad);
    const y = conv(x, w);
    const outShape = y.shape;
    const r = tf.tensor(normals(outShape.reduce((a, b) => a * b, 1), c.seed, 'r'), outShape);
    const [dx, dw] = tf.grads((xi: tf.Tensor, wi: tf.Tensor) => tf.sum(tf.mul(conv(xi as tf.Tensor4D, wi as tf.Tensor4D), r)))([
      x,
      w,
    ]);
    return { y: y.dataSync() as Float32Array, dx: dx.dataSync() as Float32Array, dw: dw.dataSync() as Float32Array };
  });
}

beforeAll(async () => {
  // Registers wasm's training kernels; the cpu backend is the reference.
  await startBackend('wasm');
});

describe('conv2d and its gradients on wasm match the cpu backend', () => {
  it('for random shapes, strides 1/2 and paddings same/valid, the output and the input and filter gradients agree within 1e-4', async () => {
    await fc.assert(
      fc.asyncProperty(convCase, async (c) => {
        const ref = await gradsOn('cpu', c);
        const got = await gradsOn('wasm', c);
        expect(got.y.length).toBe(ref.y.length);
        expect(relativeError(got.y, ref.y)).toBeLessThanOrEqual(TOLERANCE);
        expect(got.dx.length).toBe(ref.dx.length);
        expect(got.dw.length).toBe(ref.dw.length);
        expect(relativeError(got.dx, ref.dx)).toBeLessThanOrEqual(TOLERANCE);
        expect(relativeError(got.dw, ref.dw)).toBeLessThanOrEqual(TOLERANCE);
      }),
      { numRuns: 80 },
    );
  });

  it('covers a ResNet-sized layer (stride 2, 16→32 channels) too', async () => {
    const c: ConvCase = { n: 4, h: 16, w: 16, ci: 16, co: 32, kh: 3, kw: 3, stride: 2, pad: 'same', fused: false, seed: 7 };
    const ref = await gradsOn('cpu', c);
    const got = await gradsOn('wasm', c);
    expect(relativeError(got.dx, ref.dx)).toBeLessThanOrEqual(TOLERANCE);
    expect(relativeError(got.dw, ref.dw)).toBeLessThanOrEqual(TOLERANCE);
  });
});
