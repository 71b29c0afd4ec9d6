import { describe, expect, it } from 'vitest';
import { countGpuCalls, countsPer, gpuCounts } from '../../src/backend/webgpu-counts.ts';
import { benchCases, type BenchCases } from '../../src/bench/cases.ts';
import type { BenchResult } from '../../src/bench/record.ts';
import { runBench } from '../../src/bench/run.ts';
import { webgpuUnavailable } from '../helpers/webgpu.ts';

describe('counting dawn.node calls', () => {
  it('counts dispatches, buffers (mapped ones as uploads), read-backs and submits once each, however often it is installed', () => {
    class GPUComputePassEncoder {
      dispatchWorkgroups(): void {}
    }
    class GPUDevice {
      createBuffer(d: { mappedAtCreation?: boolean }): object {
        return d;
      }
    }
    class GPUBuffer {
      mapAsync(): Promise<void> {
        return Promise.resolve();
      }
    }
    class GPUQueue {
      submit(): void {}
    }
    const globals = { GPUComputePassEncoder, GPUDevice, GPUBuffer, GPUQueue };
    countGpuCalls(globals);
    countGpuCalls(globals);
    const before = gpuCounts();
    const pass = new GPUComputePassEncoder();
    const device = new GPUDevice();
    for (let i = 0; i < 4; i++) pass.dispatchWorkgroups();
    expect(device.createBuffer({ mappedAtCreation: true })).toEqual({ mappedAtCreation: true });
    device.createBuffer({});
    void new GPUBuffer().mapAsync();
    new GPUQueue().submit();
    expect(countsPer(before, gpuCounts(), 2)).toEqual({ dispatches: 2, uploads: 0.5, buffersCreated: 1, readbacks: 0.5, submits: 0.5 });
  });
});

/**
 * Host calls per step on webgpu (SwiftShader here), at batch 4: they do not depend on the
 * adapter, and barely on the batch. Ceilings, never timings (CEILINGS says which). The MLP and CNN are bench cases as they are; ResNet-20 costs
 * SwiftShader minutes of shader compiling and running, so the ResNet case is its 8-layer
 * sibling on 12×12 images (over 1,000 values a batch, so tfjs keeps it on the GPU), with the
 * same blocks (BatchNorm, shortcuts) and half of each batch FGSM.
 */
const cases: BenchCases = {
  ...benchCases,
  train: [
    ...benchCases.train.filter((c) => c.id === 'mlp-mnist' || c.id === 'cnn-cifar'),
    {
      id: 'resnet8-fgsm-tiny',
      label: 'ResNet-8, half of each batch FGSM, 12×12×3',
      model: { kind: 'resnet', depth: 8 },
      input: { height: 12, width: 12, channels: 3 },
      batch: 4,
      adversarial: { attack: 'fgsm', fraction: 0.5, epsSigma: 12, lossWeight: 1 },
    },
  ],
  attack: [],
};

type Counted = Pick<BenchResult, 'dispatchesPerStep' | 'uploadsPerStep' | 'buffersCreatedPerStep' | 'readbacksPerStep'>;
/**
 * Measured with the in-order sum (src/backend/ops/sum.ts) in (2026-12-07, batch 4, this file):
 * MLP 33.25 dispatches, 0 uploads, 13.88 buffers created; CNN 65.25, 0, 5.56; ResNet-8 + FGSM
 * 198.25, 1, 4.125; each 1/16 read-back. Each ceiling is that count rounded up, so a change that adds a
 * dispatch, an upload or an unpooled buffer to a step fails here. Read-backs: the loop reads its
 * losses once per LOSS_READ_EVERY (16) steps, so a step that reads anything back itself fails.
 * Uploads: the ResNet's one is the ε drawn for its adversarial half (data, not a constant).
 * Buffers: counted over the first 16 steps, they include the pool filling up (the MLP's steps are
 * short, so more of them share one deferred submit before their buffers return to the pool).
 * The sum's outputs, of other sizes than tfjs's transposed copies, fill the ResNet's pool with
 * 0.31 more a step over these 16 (3.81 before); from the 17th step on both create 1 a step, the
 * ε's upload (countsPer over 4 rounds of 16 steps after the warm-up, 2026-12-07).
 */
const CEILINGS: Record<string, Counted> = {
  'mlp-mnist': { dispatchesPerStep: 34, uploadsPerStep: 0, buffersCreatedPerStep: 14, readbacksPerStep: 1 / 16 },
  'cnn-cifar': { dispatchesPerStep: 66, uploadsPerStep: 0, buffersCreatedPerStep: 6, readbacksPerStep: 1 / 16 },
  'resnet8-fgsm-tiny': { dispatchesPerStep: 199, uploadsPerStep: 1, buffersCreatedPerStep: 5, readbacksPerStep: 1 / 16 },
};

describe('host calls per step on webgpu', () => {
  it('stay under each case’s ceiling', async (ctx) => {
    const why = await webgpuUnavailable();
    if (why !== undefined) ctx.skip(`webgpu does not start here (${why})`);
    const record = await runBench({ backends: ['webgpu'], countBatch: 4, cases, timing: { warmup: 0, repeats: 0 } });
    expect(record.results.map((r) => r.case)).toEqual(Object.keys(CEILINGS));
    for (const r of record.results) {
      const got: Counted = { dispatchesPerStep: r.dispatchesPerStep, uploadsPerStep: r.uploadsPerStep, buffersCreatedPerStep: r.buffersCreatedPerStep, readbacksPerStep: r.readbacksPerStep };
      for (const [k, max] of Object.entries(CEILINGS[r.case])) expect(got[k as keyof Counted], `${r.case} ${k}`).toBeLessThanOrEqual(max as number);
    }
  }, 900_000);
});
