import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { startBackend } from '../../src/backend/select.ts';
import type { BenchCases } from '../../src/bench/cases.ts';
import { benchCases } from '../../src/bench/cases.ts';
import { runBench } from '../../src/bench/run.ts';
import { benchCommand } from '../../src/cli/bench-command.ts';

/** The real workload kinds at toy sizes, so every backend here runs them in seconds. */
const tiny: BenchCases = {
  ...benchCases,
  train: [
    { id: 'mlp', label: 'mlp', model: { kind: 'mlp', hidden: [8] }, input: { height: 4, width: 4, channels: 1 }, batch: 4, adversarial: null },
    {
      id: 'resnet-fgsm',
      label: 'resnet',
      model: { kind: 'resnet', depth: 8 },
      input: { height: 4, width: 4, channels: 3 },
      batch: 4,
      adversarial: { attack: 'fgsm', fraction: 0.5, epsSigma: 12, lossWeight: 1 },
    },
  ],
  attack: [
    { id: 'bim', label: 'bim', model: { kind: 'cnn', channels: [4] }, input: { height: 4, width: 4, channels: 3 }, batch: 4, attack: 'bim', eps: 6, steps: 2 },
  ],
};

beforeAll(async () => {
  await startBackend('cpu');
});

describe('runBench', () => {
  it('measures every case on wasm and cpu, leaving no tensors behind', async () => {
    const before = tf.memory().numTensors;
    const seen: string[] = [];
    const record = await runBench({
      backends: ['wasm', 'cpu'],
      cases: tiny,
      timing: { warmup: 1, repeats: 2 },
      onResult: (r) => seen.push(`${r.backend}/${r.case}`),
    });
    expect(seen).toEqual(['wasm/mlp', 'wasm/resnet-fgsm', 'wasm/bim', 'cpu/mlp', 'cpu/resnet-fgsm', 'cpu/bim']);
    for (const r of record.results) {
      expect(r.imagesPerSecond).toBeGreaterThan(0);
      expect(r.timing?.runsMs).toHaveLength(2);
    }
    expect(record.backends.map((b) => b.info?.name)).toEqual(['wasm', 'cpu']);
    // The engine's count is global: tensors are counted across backends.
    expect(tf.memory().numTensors).toBe(before);
  });

  it('names the backends that did not start instead of measuring them', async () => {
    const record = await runBench({ backends: ['tensorflow'], cases: tiny, timing: { warmup: 0, repeats: 1 } });
    expect(record.results).toEqual([]);
    expect(record.backends).toEqual([{ name: 'tensorflow', error: expect.stringContaining('not available') }]);
  });
});

describe('label-leak bench', () => {
  const parse = (args: string[]) => benchCommand().exitOverride().configureOutput({ writeErr: () => {} }).parseAsync(args, { from: 'user' });

  it('rejects an unknown backend or case id before measuring anything', async () => {
    await expect(parse(['--backends', 'webgl'])).rejects.toThrow(/unknown backend 'webgl'/);
    await expect(parse(['--only', 'resnet-1000'])).rejects.toThrow(/unknown case resnet-1000/);
  });

  it('writes a JSON record and prints the table', async () => {
    const out = mkdtempSync(join(tmpdir(), 'll-bench-'));
    const log: string[] = [];
    const original = console.log;
    console.log = (s: string) => log.push(s);
    try {
      await parse(['--backends', 'wasm', '--only', 'mlp-mnist', '--warmup', '0', '--repeats', '1', '--out', out]);
    } finally {
      console.log = original;
    }
    const files = readdirSync(out);
    expect(files).toHaveLength(1);
    const rec = JSON.parse(readFileSync(join(out, files[0]), 'utf8'));
    expect(rec.results.map((r: { case: string }) => r.case)).toEqual(['mlp-mnist']);
    expect(log.join('\n')).toMatch(/^case\s+batch\s+wasm img\/s/);
  });
});
