/**
 * Times a run of mnist-no-leaking's fast tier in the `label-leak serve` page, in headless
 * Debian chromium with WebGPU on SwiftShader, printing the elapsed seconds at each epoch's
 * start and every 15 s (docs/serve.md has what it measured).
 *
 *   LABEL_LEAK_DATA_DIR=… npx tsx scripts/serve-timing.ts <webgpu|wasm> <seeds, e.g. 1,2,3> <limit s> [override,override…]
 */
import type { AddressInfo } from 'node:net';
import { chromium } from 'playwright-core';
import { collectEnvironment } from '../src/results/environment.ts';
import { buildPage } from '../src/serve/assets.ts';
import { createServeServer } from '../src/serve/server.ts';
import { CHROMIUM, CHROMIUM_ARGS } from '../test/helpers/chromium.ts';

const backend = process.argv[2] ?? 'webgpu';
const seeds = process.argv[3] ?? '1';
const limitS = Number(process.argv[4] ?? 120);
const sets = (process.argv[5] ?? '').split(',').filter(Boolean);
const built = await buildPage();
const server = createServeServer({ claimsDir: 'claims', dataDir: process.env.LABEL_LEAK_DATA_DIR, page: built.files, environment: await collectEnvironment(), loopbackOnly: true });
await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
// LABEL_LEAK_CHROMIUM_ARGS (space-separated) replaces the test's arguments, to time a variant.
const args = process.env.LABEL_LEAK_CHROMIUM_ARGS?.split(' ').filter(Boolean) ?? CHROMIUM_ARGS;
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args });
const page = await browser.newPage();
page.on('console', (m) => m.type() === 'error' && console.log('console error:', m.text()));
await page.goto(`${base}/?claim=mnist-no-leaking`);
await page.waitForFunction(() => (globalThis as any).labelLeak?.state === 'ready');
await page.exposeFunction('report', (s: string) => console.log(`${((Date.now() - t0) / 1000).toFixed(1)}s ${s}`));
await page.evaluate(() => {
  let last = '';
  let lastT = 0;
  window.addEventListener('label-leak:progress', (e) => {
    const { label, done, total, info } = (e as CustomEvent).detail;
    const k = `${label} ep ${info.epoch}`;
    const t = performance.now();
    if (k !== last || done === total || t - lastT > 15000) { last = k; lastT = t; (window as any).report(`${label} ${done}/${total} ${JSON.stringify(info)}`); }
  });
});
const t0 = Date.now();
await page.selectOption('#tier', 'fast');
await page.selectOption('#backend', backend);
await page.fill('#seeds', seeds);
await page.fill('#sets', sets.join('\n'));
await page.click('#run');
try {
  await page.waitForFunction(() => ['done', 'failed', 'stopped'].includes((globalThis as any).labelLeak?.state), null, { timeout: limitS * 1000, polling: 1000 });
  const st = await page.evaluate(() => { const s = (globalThis as any).labelLeak; return { state: s.state, error: s.error, verdict: s.record?.verdict, outcomes: s.record?.outcomes?.map((o: any) => [o.seed, o.status, o.wallSeconds, o.metrics]) }; });
  console.log(JSON.stringify(st, null, 1));
} catch (e) { console.log('timeout', (e as Error).message.split('\n')[0]); }
console.log(`total ${((Date.now() - t0) / 1000).toFixed(1)}s`);
await browser.close();
server.close();
