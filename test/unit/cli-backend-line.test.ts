import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { skippedBefore, startBackend } from '../../src/backend/select.ts';
import type { ModuleLoader } from '../../src/backend/tensorflow.ts';
import { backendLine } from '../../src/cli/backend-line.ts';

const notInstalled: ModuleLoader = async (s) => {
  throw Object.assign(new Error(`Cannot find package '${s}' imported from test`), { code: 'ERR_MODULE_NOT_FOUND' });
};

describe('the backend line: one line naming what runs', () => {
  it('auto on a machine without tfjs-node or a GPU: names wasm and what it skipped, without the install advice', async () => {
    const info = await startBackend('auto', { load: notInstalled });
    expect(info.name).toBe('wasm');
    expect(skippedBefore(info)).toEqual(['tensorflow', 'webgpu']);
    // The record keeps the advice.
    expect(info.reason).toContain('npm install');
    const line = backendLine(info, skippedBefore(info), false);
    expect(line).toBe(`backend: wasm ${info.version} — ${info.device} (auto; tensorflow, webgpu did not start — \`label-leak doctor\` says why)`);
    expect(line).not.toContain('npm install');
    // --verbose asks for it.
    expect(backendLine(info, skippedBefore(info), true)).toContain(info.reason);
  });

  it('a named backend: just what runs', async () => {
    const info = await startBackend('cpu');
    expect(skippedBefore(info)).toEqual([]);
    expect(backendLine(info, skippedBefore(info), false)).toBe(`backend: cpu ${info.version} — ${info.device}`);
  });
});

describe('label-leak doctor', () => {
  it('lists every backend, started or not with why, and what auto picks', async () => {
    const r = await promisify(execFile)('node', ['bin/label-leak.mjs', 'doctor']);
    const lines = r.stdout.trim().split('\n');
    expect(lines.map((l) => l.match(/^[✓✗] (\w+)/)?.[1]).slice(0, 4)).toEqual(['tensorflow', 'webgpu', 'wasm', 'cpu']);
    expect(lines.find((l) => l.startsWith('✓ wasm'))).toBeDefined();
    expect(lines.at(-1)).toMatch(/^--backend auto \(the default\) picks (tensorflow|webgpu|wasm)$/);
  });
});

describe('a quiet cpu backend', () => {
  it('no "install tfjs-node" greeting on its first tensor: the cpu backend is chosen on purpose', async () => {
    const warned: string[] = [];
    const warn = console.warn;
    console.warn = (...a: unknown[]) => void warned.push(a.join(' '));
    try {
      await startBackend('cpu');
      const { tensor } = await import('@tensorflow/tfjs');
      tensor([1, 2, 3]).dispose();
    } finally {
      console.warn = warn;
    }
    expect(warned.filter((w) => w.includes('running TensorFlow.js in Node'))).toEqual([]);
  });
});
