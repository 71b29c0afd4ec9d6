import { describe, expect, it } from 'vitest';
import { isAnchorRecord, type AnchorRecord, type BenchRecord } from '../../src/bench/record.ts';
import { benchTable } from '../../src/bench/report.ts';
import { summarize } from '../../src/bench/timing.ts';

function record(): BenchRecord {
  return {
    tool: 'label-leak',
    date: '2026-01-01T00:00:00.000Z',
    machine: { cpuModel: 'Test CPU', cpus: 2, memoryGiB: 24, node: '20.0.0', loadBefore: 0.5, loadAfter: 1.5 },
    backends: [{ name: 'wasm' }, { name: 'webgpu', error: "backend 'webgpu' is not available: no adapter" }],
    timing: { warmup: 2, repeats: 5, budgetMs: 60_000 },
    results: [
      { backend: 'wasm', case: 'mlp-mnist', kind: 'train', batch: 100, imagesPerSecond: 1000, timing: summarize([100, 80, 125]) },
      { backend: 'wasm', case: 'fgsm-resnet20', kind: 'attack', batch: 10, imagesPerSecond: 50, timing: summarize([200]) },
    ],
  };
}

const anchor: AnchorRecord = {
  tool: 'pytorch',
  version: '1.13.0',
  threads: 1,
  results: [{ case: 'mlp-mnist', imagesPerSecond: 2000 }],
};

describe('benchTable', () => {
  it('has one row per case with the median rate and the slowest–fastest range', () => {
    const t = benchTable(record());
    const mlp = t.split('\n').find((l) => l.startsWith('mlp-mnist')) as string;
    expect(mlp).toContain('1000 [800–1250]');
    expect(t).toContain('fgsm-resnet20');
  });

  it('with an anchor, adds PyTorch’s rate and the ratio ours ÷ PyTorch, — where PyTorch has no number', () => {
    const t = benchTable(record(), anchor);
    const mlp = t.split('\n').find((l) => l.startsWith('mlp-mnist')) as string;
    expect(mlp).toMatch(/2000\s+0\.50×$/);
    const fgsm = t.split('\n').find((l) => l.startsWith('fgsm-resnet20')) as string;
    expect(fgsm).toMatch(/—\s+—$/);
  });

  it('states the machine, its load and the timing plan, and why backends did not start', () => {
    const t = benchTable(record());
    expect(t).toContain('2 × Test CPU');
    expect(t).toContain('load average 0.50 before, 1.50 after');
    expect(t).toContain('2 warm-up run(s) excluded, median of up to 5');
    expect(t).toContain('webgpu: backend');
  });
});

describe('isAnchorRecord', () => {
  it('accepts a pytorch_anchor.py record and rejects others', () => {
    expect(isAnchorRecord(anchor)).toBe(true);
    expect(isAnchorRecord(record())).toBe(false);
    expect(isAnchorRecord({ tool: 'pytorch', results: [{ case: 'x' }] })).toBe(false);
    expect(isAnchorRecord(null)).toBe(false);
  });
});
