import { execFileSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The threaded wasm build (src/backend/wasm-threads.ts) starts under Node with the thread
 * count asked for, computes what the cpu backend computes, and — once the backend is
 * released — lets the process exit. Run in a child process: the choice of wasm build is
 * process-wide and fixed at the first start.
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const probe = join(root, 'test', 'unit', 'fixtures', 'wasm-threads-probe.ts');

function runProbe(threads: number): { threads: number; device: string; reason: string; relErr: number } {
  const out = execFileSync(process.execPath, ['--import', 'tsx', probe, String(threads)], {
    cwd: root,
    encoding: 'utf8',
    // Exiting on its own is part of the property: a hang fails here instead of stalling CI.
    timeout: 60_000,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return JSON.parse(out.trim().split('\n').pop() as string);
}

describe('wasm threads in Node', () => {
  it('two threads start, agree with the cpu backend and exit after releaseBackend', () => {
    const r = runProbe(2);
    expect(r.threads).toBe(2);
    expect(r.device).toMatch(/wasm SIMD, 2 threads/);
    expect(r.reason).toMatch(/threaded build/);
    expect(r.relErr).toBeLessThan(1e-4);
  });

  it('one thread uses the plain SIMD build', () => {
    const r = runProbe(1);
    expect(r.threads).toBe(1);
    expect(r.reason).toBe('wasm started');
  });
});
