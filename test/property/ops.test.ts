import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { OPS } from '../../src/backend/ops/index.ts';
import { KERNEL_BACKENDS, kernelCalls, type AnyOp, type KernelBackendName } from '../../src/backend/ops/op.ts';
import { startBackend } from '../../src/backend/select.ts';
import { makeRng } from '../../src/util/rng.ts';
import { relativeError } from '../helpers/conv-cases.ts';
import { webgpuUnavailable } from '../helpers/webgpu.ts';

/**
 * Every op of src/backend/ops (OPS) on every backend it has kernels for (webgpu, on SwiftShader
 * where there is no GPU; wasm) against its reference run on cpu: the op's own check builds the
 * inputs from a seed, both runs get the same ones, and each output (gradients included) must
 * agree to the op's tolerance relative to its largest magnitude (the op file says why that
 * tolerance). Each case must run at least one of the op's kernels on the backend (the count
 * op.ts keeps), so a dispatch that falls back to the reference cannot pass, and must leave no
 * tensor behind.
 */
const CASES = 10;

const why: Partial<Record<KernelBackendName, string>> = {};
beforeAll(async () => {
  await startBackend('wasm');
  why.webgpu = await webgpuUnavailable();
});

const hasKernels = (op: AnyOp, backend: KernelBackendName): boolean =>
  Object.keys(op.kernels[backend] ?? {}).length > 0 || (op.parts ?? []).some((p) => hasKernels(p, backend));

interface Outputs {
  shapes: number[][];
  data: (Float32Array | Int32Array | Uint8Array)[];
}

async function outputsOf(on: 'cpu' | KernelBackendName, op: AnyOp, call: AnyOp['reference'], seed: number, backend: KernelBackendName): Promise<Outputs> {
  await tf.setBackend(on);
  const ts = tf.tidy(() => op.check.run(makeRng(seed, `ops/${op.name}`), call, backend));
  const data = (await Promise.all(ts.map((t) => t.data()))) as Outputs['data'];
  const shapes = ts.map((t) => t.shape);
  tf.dispose(ts);
  return { shapes, data };
}

for (const backend of KERNEL_BACKENDS) {
  describe(`every op with ${backend} kernels, against its reference on cpu`, () => {
    for (const op of OPS.filter((o) => hasKernels(o, backend))) {
      it(`${op.name}: ${CASES} cases agree within ${op.check.tolerance}, each running its kernels, none leaking a tensor`, async (ctx) => {
        if (why[backend] !== undefined) ctx.skip(`${backend} does not start here (${why[backend]})`);
        for (let seed = 0; seed < CASES; seed++) {
          const want = await outputsOf('cpu', op, op.reference, seed, backend);
          await tf.setBackend(backend);
          const [calls, tensors] = [kernelCalls(op, backend), tf.memory().numTensors];
          const got = await outputsOf(backend, op, op, seed, backend);
          expect(kernelCalls(op, backend) - calls, `seed ${seed}: ${backend} kernels ran`).toBeGreaterThan(0);
          expect(tf.memory().numTensors, `seed ${seed}: tensors left behind`).toBe(tensors);
          expect(got.shapes, `seed ${seed}`).toEqual(want.shapes);
          got.data.forEach((d, i) => {
            expect(relativeError(d, want.data[i]), `seed ${seed}, output ${i}`).toBeLessThanOrEqual(op.check.tolerance);
          });
        }
      });
    }
  });
}

describe('the list of ops', () => {
  it('has each op once, and every op has kernels on some backend', () => {
    expect(new Set(OPS.map((o) => o.name)).size).toBe(OPS.length);
    expect(OPS.filter((o) => !KERNEL_BACKENDS.some((b) => hasKernels(o, b))).map((o) => o.name)).toEqual([]);
  });
});
