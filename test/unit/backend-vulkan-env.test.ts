import { afterEach, describe, expect, it } from 'vitest';
import { quietVulkan } from '../../src/backend/vulkan-env.ts';
import { startWebgpu } from '../../src/backend/webgpu.ts';
import type { ModuleLoader } from '../../src/backend/tensorflow.ts';

const KEYS = ['NODEVICE_SELECT', 'MESA_VK_DEVICE_SELECT', 'VK_ICD_FILENAMES', 'VK_DRIVER_FILES', 'VK_LOADER_DRIVERS_SELECT', 'VK_LOADER_DRIVERS_DISABLE'];
const saved = Object.fromEntries(KEYS.map((k) => [k, process.env[k]]));
afterEach(() => {
  for (const k of KEYS) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

describe('quiet Vulkan loader while Dawn looks for an adapter', () => {
  it('switches off Mesa\'s device-select layer (its Wayland probe printed "XDG_RUNTIME_DIR is invalid") and hides lavapipe (Dawn\'s warning)', () => {
    const env: NodeJS.ProcessEnv = {};
    quietVulkan(env);
    expect(env).toEqual({ NODEVICE_SELECT: '1', VK_LOADER_DRIVERS_DISABLE: '*lvp_icd*' });
  });

  it('leaves the layer on when someone asked it to choose, and the drivers alone when someone chose them', () => {
    const env: NodeJS.ProcessEnv = { MESA_VK_DEVICE_SELECT: '10de:2330', VK_ICD_FILENAMES: '/x/lvp_icd.json' };
    quietVulkan(env);
    expect(env).toEqual({ MESA_VK_DEVICE_SELECT: '10de:2330', VK_ICD_FILENAMES: '/x/lvp_icd.json' });
    const disabled: NodeJS.ProcessEnv = { NODEVICE_SELECT: '0', VK_LOADER_DRIVERS_DISABLE: '*radv*' };
    quietVulkan(disabled);
    expect(disabled).toEqual({ NODEVICE_SELECT: '0', VK_LOADER_DRIVERS_DISABLE: '*radv*' });
  });

  it('is in place before Dawn creates its Vulkan instance, when the loader reads it', async () => {
    for (const k of KEYS) delete process.env[k];
    let seen: string | undefined;
    const webgpu = { create: () => ((seen = `${process.env.NODEVICE_SELECT} ${process.env.VK_LOADER_DRIVERS_DISABLE}`), { requestAdapter: async () => null }), globals: {} };
    const load: ModuleLoader = async (s) => {
      if (s === 'webgpu') return webgpu;
      throw new Error(`not here: ${s}`);
    };
    await expect(startWebgpu(load)).rejects.toThrow();
    expect(seen).toBe('1 *lvp_icd*');
  });
});
