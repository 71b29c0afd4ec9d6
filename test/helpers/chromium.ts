import { execFileSync } from 'node:child_process';

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

/**
 * Keeps this process, and the browser it launches next, on one CPU. SwiftShader runs each
 * WebGPU dispatch on a pool of worker threads, one per core, that spin while they wait; on
 * CI's 2 cores, where the claim suite's two trainings run beside this test, that spinning takes
 * CPU the trainings need. The page's WebGPU run of mnist-no-leaking (1 seed, 2 epochs on 4,096
 * images, scripts/serve-timing.ts) used 46.4 and 50.4 CPU-seconds over 26.1 and 28.8 s on both
 * cores, 38.4 and 38.9 CPU-seconds over 35.5 and 34.9 s on one (taking turns, 2026-12-07;
 * docs/performance.md). Returns the CPU; without taskset (util-linux) nothing is pinned.
 */
export function pinToOneCpu(): string | undefined {
  try {
    const list = execFileSync('taskset', ['-c', '-p', String(process.pid)], { encoding: 'utf8' });
    const last = list.slice(list.lastIndexOf(':') + 1).trim().split(',').at(-1)!.split('-').at(-1)!;
    execFileSync('taskset', ['-a', '-c', '-p', last, String(process.pid)], { stdio: 'ignore' });
    return last;
  } catch {
    return undefined;
  }
}
