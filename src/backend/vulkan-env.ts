/**
 * Keeps the Vulkan loader quiet while Dawn looks for an adapter. On a machine with Mesa's
 * Vulkan drivers (Debian's mesa-vulkan-drivers) every run that merely tries webgpu — `auto`
 * does, then falls back to wasm — printed, measured 2026-12-06 with Mesa 22.3.6 and loader
 * 1.3.239 extracted beside dawn.node:
 *
 *     error: XDG_RUNTIME_DIR is invalid or not set in the environment.   (twice)
 *     Warning: Vulkan shaderUniform*ArrayDynamicIndexing required.
 *      - While initializing adapter (backend=BackendType::Vulkan) …
 *
 * The first two come from Mesa's implicit device-select layer, which connects to a Wayland
 * display to find the "default" GPU; the last is Dawn rejecting lavapipe, Mesa's CPU driver,
 * which never gives a usable adapter. So: the layer is switched off (NODEVICE_SELECT, its
 * manifest's own off switch) unless MESA_VK_DEVICE_SELECT asks it to choose, and lavapipe is
 * hidden from the loader (VK_LOADER_DRIVERS_DISABLE, loader ≥ 1.3.234) unless someone chose
 * drivers themselves. Neither changes which adapter a GPU machine gets. Set in this process
 * before Dawn creates its instance, which is when the loader reads them.
 */
export function quietVulkan(env: NodeJS.ProcessEnv = process.env): void {
  if (env.NODEVICE_SELECT === undefined && env.MESA_VK_DEVICE_SELECT === undefined) env.NODEVICE_SELECT = '1';
  const chosen = ['VK_ICD_FILENAMES', 'VK_DRIVER_FILES', 'VK_LOADER_DRIVERS_SELECT', 'VK_LOADER_DRIVERS_DISABLE'].some((k) => env[k] !== undefined);
  if (!chosen) env.VK_LOADER_DRIVERS_DISABLE = '*lvp_icd*';
}
