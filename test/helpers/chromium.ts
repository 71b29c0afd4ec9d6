/**
 * Debian's chromium, headless, with WebGPU on SwiftShader: the browser the page is tested and
 * timed in (test/browser, scripts/serve-timing.ts).
 *
 * `disable_robustness` turns off Dawn's bounds clamping of every buffer access. SwiftShader runs
 * those clamps on the CPU: without them the page's WebGPU run of mnist-no-leaking (1 seed, 2
 * epochs on 4,096 images) took 63.5–66.5 s against 77.9–110.1 s with them (three runs each,
 * taking turns in one run on a loaded machine, 2026-12-06; docs/serve.md). The kernels index in
 * bounds, so the clamps change no result; an out-of-bounds read would now show as wrong numbers
 * against wasm, not as a zero.
 */
export const CHROMIUM = process.env.LABEL_LEAK_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader', '--enable-dawn-features=disable_robustness', '--no-sandbox'];
