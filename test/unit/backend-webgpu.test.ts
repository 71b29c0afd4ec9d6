import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { startBackend } from '../../src/backend/select.ts';
import { offerSwiftshader, swiftshaderCandidates } from '../../src/backend/swiftshader.ts';
import { isSoftwareAdapter } from '../../src/backend/webgpu.ts';
import type { ModuleLoader } from '../../src/backend/tensorflow.ts';
import { webgpuUnavailable } from '../helpers/webgpu.ts';

const swiftshaderInfo = { vendor: 'google', architecture: 'swiftshader', device: 'swiftshader-device-subzero-', description: 'SwiftShader driver 5.0.0' };

describe('software adapters', () => {
  it('Dawn’s fallback flag or a CPU driver’s name marks an adapter as software; a GPU’s does not', () => {
    expect(isSoftwareAdapter({ info: { ...swiftshaderInfo, isFallbackAdapter: true } })).toBe(true);
    expect(isSoftwareAdapter({ info: swiftshaderInfo })).toBe(true);
    expect(isSoftwareAdapter({ info: { vendor: 'mesa', device: 'llvmpipe (LLVM 15.0.6, 256 bits)' } })).toBe(true);
    expect(isSoftwareAdapter({ info: { vendor: 'nvidia', architecture: '', device: 'nvidia-h100-80gb-hbm3', description: 'NVIDIA: 580.159.04' } })).toBe(false);
    expect(isSoftwareAdapter({})).toBe(false);
  });

  it('auto never trains on a software adapter: it takes wasm and says why webgpu was skipped', async () => {
    // A dawn.node whose only adapter is SwiftShader (and no tfjs-node).
    const load: ModuleLoader = async (s) => {
      if (s === 'webgpu') return { create: () => ({ requestAdapter: async () => ({ info: { ...swiftshaderInfo, isFallbackAdapter: true } }) }), globals: {} };
      throw Object.assign(new Error(`Cannot find package '${s}'`), { code: 'ERR_MODULE_NOT_FOUND' });
    };
    const info = await startBackend('auto', { load });
    expect(info.name).toBe('wasm');
    expect(info.reason).toMatch(/webgpu \(.*the only adapter is a software one .*swiftshader.*Name --backend webgpu to use it anyway/);
  });
});

describe('finding SwiftShader', () => {
  const folderWithIcd = () => {
    const dir = mkdtempSync(join(tmpdir(), 'll-ss-'));
    writeFileSync(join(dir, 'vk_swiftshader_icd.json'), '{}');
    return join(dir, 'vk_swiftshader_icd.json');
  };

  it('is offered beside the machine’s own drivers (VK_ADD_DRIVER_FILES), once', () => {
    const icd = folderWithIcd();
    const env: NodeJS.ProcessEnv = { VK_ADD_DRIVER_FILES: '/x/other.json' };
    expect(offerSwiftshader(env, ['/nowhere/vk_swiftshader_icd.json', icd])).toBe(icd);
    expect(offerSwiftshader(env, [icd])).toBe(icd);
    expect(env.VK_ADD_DRIVER_FILES).toBe(`/x/other.json:${icd}`);
  });

  it('leaves drivers someone chose alone, and offers nothing when there is none', () => {
    const icd = folderWithIcd();
    for (const chosen of [{ VK_ICD_FILENAMES: '/a.json' }, { VK_DRIVER_FILES: '/b.json' }]) {
      const env: NodeJS.ProcessEnv = { ...chosen };
      expect(offerSwiftshader(env, [icd])).toBeUndefined();
      expect(env.VK_ADD_DRIVER_FILES).toBeUndefined();
    }
    expect(offerSwiftshader({}, ['/nowhere/vk_swiftshader_icd.json'])).toBeUndefined();
  });

  it('looks in LABEL_LEAK_SWIFTSHADER_DIR first, then .cache/swiftshader above the code and the cwd', () => {
    const c = swiftshaderCandidates({ LABEL_LEAK_SWIFTSHADER_DIR: '/opt/ss' }, '/repo/src/backend', '/work');
    expect(c[0]).toBe('/opt/ss/vk_swiftshader_icd.json');
    expect(c).toContain('/repo/.cache/swiftshader/vk_swiftshader_icd.json');
    expect(c).toContain('/work/.cache/swiftshader/vk_swiftshader_icd.json');
    expect(c.at(-1)).toBe('/usr/lib/chromium/vk_swiftshader_icd.json');
  });
});

describe('webgpu on this machine (SwiftShader where there is no GPU)', () => {
  it('named, it starts on a software adapter and says so in the backend line', async (ctx) => {
    const why = await webgpuUnavailable();
    if (why !== undefined) ctx.skip(`webgpu does not start here (${why})`);
    const info = await startBackend('webgpu');
    if (/swiftshader/i.test(info.device)) {
      expect(info.device).toMatch(/^software adapter, CPU — for testing, not training \(WebGPU\/Dawn: google swiftshader/);
    }
  });

  it('a second start keeps Dawn’s instance alive: a kernel still runs after garbage collection', async (ctx) => {
    // The bench probes backends and then starts the one it measures. Each start used to make a
    // new dawn.node GPU object, and collecting the first one freed the Dawn instance the device
    // still used: std::system_error / segfault at the next event poll.
    const why = await webgpuUnavailable();
    if (why !== undefined) ctx.skip(`webgpu does not start here (${why})`);
    await startBackend('webgpu');
    await startBackend('webgpu');
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const x = tf.tensor([1, 2, 3]);
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 20));
      const y = tf.add(x, 1);
      expect(Array.from(await y.data())).toEqual([2, 3, 4]);
      y.dispose();
    }
    x.dispose();
  });
});
