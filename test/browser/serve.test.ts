import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectEnvironment } from '../../src/results/environment.ts';
import { readRecord, recordPath, type ResultRecord } from '../../src/results/record.ts';
import { plotsFor } from '../../src/report/plots.ts';
import { buildPage } from '../../src/serve/assets.ts';
import { createServeServer } from '../../src/serve/server.ts';
import { CHROMIUM, CHROMIUM_ARGS } from '../helpers/chromium.ts';
import { cli } from '../helpers/cli.ts';

/**
 * `label-leak serve` in a real browser: Debian's chromium, headless, with WebGPU on
 * SwiftShader (.ci/run installs it). The page runs mnist-no-leaking's fast tier as the spec
 * has it (3 seeds, 6 epochs on 10,000 images) on wasm: the spec's expected verdict, the
 * report's plots, and per-seed metrics equal to the CLI's committed record to the last digit.
 * The same tier runs on WebGPU (SwiftShader runs its kernels on the CPU: about ten minutes,
 * docs/serve.md) and must give the spec's expected verdict, metrics within the webgpu-vs-wasm
 * tolerance of the committed record, a record the report reads and no console error.
 * LABEL_LEAK_BROWSER_WEBGPU_QUICK=1 cuts the webgpu run down instead (1 epoch on 2,048 images,
 * 2 seeds; a minute), held against the CLI run on wasm with the same overrides (by hand).
 * Small cut-down runs on wasm check the CLI's record and resuming (after Stop, and after the
 * tab was closed: from the checkpoints the page keeps in IndexedDB).
 *
 * LABEL_LEAK_SCREENSHOTS=DIR saves the page after the webgpu run and the fast tier on wasm as DIR/serve-<backend>.png (the
 * README's are made so: LABEL_LEAK_SCREENSHOTS=docs/images).
 */

const noBrowser = existsSync(CHROMIUM) ? undefined : `no Chromium at ${CHROMIUM}: apt-get install chromium (.ci/run does), or set LABEL_LEAK_CHROMIUM`;
if (noBrowser && process.env.LABEL_LEAK_REQUIRE_BROWSER === '1') throw new Error(noBrowser);

const CLAIM = 'mnist-no-leaking';
const SETS = ['training.epochs=2', 'trainSubset=512', 'testSubset=256'];
/** Steps a seed takes under SETS (2 epochs of 512 images in batches of the spec's 128: 4 an epoch). */
const SETS_STEPS = 8;
/**
 * The whole fast tier, unless LABEL_LEAK_BROWSER_WEBGPU_QUICK=1: then 16 steps, enough for the
 * MLP to pass the claim's "the model learned" precondition (4 steps left it at 28% clean).
 */
const WEBGPU_WHOLE_TIER = process.env.LABEL_LEAK_BROWSER_WEBGPU_QUICK !== '1';
const WEBGPU_SETS = WEBGPU_WHOLE_TIER ? [] : ['training.epochs=1', 'trainSubset=2048', 'testSubset=500'];
/** Two seeds: one gives an unbounded interval, so inconclusive whatever it measures. */
const WEBGPU_SEEDS = WEBGPU_WHOLE_TIER ? '' : '1,2';
/** The CLI's record of the claim's fast tier, as committed (what `run` wrote on wasm, one thread). */
const COMMITTED = join('docs', 'results', 'records', 'fast', `${CLAIM}.json`);
const specExpected = (): string => JSON.parse(readFileSync(join('claims', `${CLAIM}.json`), 'utf8')).tiers.fast.expected;
const DATA_ENV = { LABEL_LEAK_DATA_DIR: process.env.LABEL_LEAK_DATA_DIR ?? '' };

let server: Server;
let browser: Browser;
let base: string;
let work: string;

beforeAll(async () => {
  if (noBrowser) return;
  work = mkdtempSync(join(tmpdir(), 'serve-browser-'));
  const built = await buildPage();
  server = createServeServer({ claimsDir: 'claims', dataDir: DATA_ENV.LABEL_LEAK_DATA_DIR || undefined, page: built.files, environment: await collectEnvironment(), loopbackOnly: true });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
  });
});

afterAll(async () => {
  await browser?.close();
  if (server) await new Promise<void>((r) => server.close(() => r()));
  if (work) rmSync(work, { recursive: true, force: true });
});

interface Run {
  page: Page;
  state: string;
  error?: string;
  record?: ResultRecord;
  consoleErrors: string[];
}

/** A new page; in a new browser context (its own, empty IndexedDB) unless `context` is given. */
async function openPage(context?: BrowserContext): Promise<{ page: Page; consoleErrors: string[] }> {
  const page = await (context ?? browser).newPage({ viewport: { width: 1200, height: 900 } });
  const consoleErrors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  await page.goto(`${base}/?claim=${CLAIM}`);
  await page.waitForFunction(() => (globalThis as any).labelLeak?.state !== 'loading');
  return { page, consoleErrors };
}

async function waitForEnd(page: Page, timeout = 280_000): Promise<Pick<Run, 'state' | 'error' | 'record'>> {
  await page.waitForFunction(() => ['done', 'failed', 'stopped'].includes((globalThis as any).labelLeak?.state), null, { timeout, polling: 500 });
  const st = await page.evaluate(() => (globalThis as any).labelLeak);
  return { state: st.state, error: st.error, record: st.record };
}

/** Fills the form and presses Run. */
async function start(page: Page, backend: 'webgpu' | 'wasm', seeds: string, sets = SETS, checkpointEvery = 200): Promise<void> {
  await page.fill('#checkpoint-every', String(checkpointEvery));
  await page.selectOption('#tier', 'fast');
  await page.selectOption('#backend', backend);
  await page.fill('#seeds', seeds);
  await page.fill('#sets', sets.join('\n'));
  await page.click('#run');
}

/** Opens the page, runs the claim with `backend` and `seeds`, and waits for the end. */
async function runInPage(backend: 'webgpu' | 'wasm', seeds: string, sets = SETS, timeout?: number, shot?: string): Promise<Run> {
  const { page, consoleErrors } = await openPage();
  await start(page, backend, seeds, sets);
  const end = await waitForEnd(page, timeout);
  const dir = process.env.LABEL_LEAK_SCREENSHOTS;
  if (dir && shot) {
    mkdirSync(dir, { recursive: true });
    await page.screenshot({ path: join(dir, `${shot}.png`), fullPage: true });
  }
  return { page, ...end, consoleErrors };
}

/**
 * The page shows `record`: its verdict and the spec's expectation, one row per assertion with
 * its verdict, and exactly the plots `label-leak report` draws for it.
 */
async function expectShown(page: Page, record: ResultRecord): Promise<void> {
  expect(await page.textContent('#verdict')).toContain(`${record.verdict} (the spec expects ${record.expected})`);
  const rows = await page.locator('#assertions tbody tr').allTextContents();
  expect(rows.length).toBe(record.assertions.length);
  for (const [i, a] of record.assertions.entries()) {
    expect(rows[i]).toContain(a.name);
    expect(rows[i]).toContain(a.verdict);
  }
  const plots = (await plotsFor(record)).map((p) => p.title);
  expect(plots.length).toBeGreaterThan(0);
  expect(await page.locator('#plots figcaption').allTextContents()).toEqual(plots);
  expect(await page.locator('#plots svg').count()).toBeGreaterThanOrEqual(plots.length);
}

/** The CLI's record of the wasm run, for the resume test too. */
let cliRecord: ResultRecord | undefined;

describe.skipIf(noBrowser !== undefined)(`label-leak serve in Chromium${noBrowser ? ` (skipped: ${noBrowser})` : ''}`, () => {
  it('lists the claims with their tiers', async () => {
    const page = await browser.newPage();
    await page.goto(base);
    await page.waitForFunction(() => (globalThis as any).labelLeak?.state === 'ready');
    const text = await page.textContent('#claims');
    expect(text).toContain(CLAIM);
    expect(text).toContain('fast: 3 seeds, expects reproduced');
    await page.close();
  });

  it(`runs the claim on the browser's WebGPU${WEBGPU_WHOLE_TIER ? ' at the whole fast tier' : ''}: the verdict the CLI gives on wasm, curves, plots, a record the report reads, no console error`, { timeout: WEBGPU_WHOLE_TIER ? 3600_000 : 960_000 }, async () => {
    // A ceiling, not a timing: the whole tier took 644 s and 882 s in two CI runs (2026-12-06); the
    // quick run's 32 steps ~45 s on a quiet machine, and over 9 minutes with ~20 runnable processes.
    const run = await runInPage('webgpu', WEBGPU_SEEDS, WEBGPU_SETS, WEBGPU_WHOLE_TIER ? 3540_000 : 900_000, 'serve-webgpu');
    expect(run.error).toBeUndefined();
    expect(run.state).toBe('done');
    expect(run.consoleErrors).toEqual([]);
    const record = run.record!;
    expect(record.backend.name).toBe('webgpu');
    expect(record.backend.device).toMatch(/swiftshader|GPU/i);
    // The wasm record to hold it against: the CLI's committed one for the whole tier, else the
    // CLI run here with the same overrides (one wasm thread).
    let wasm: ResultRecord;
    if (WEBGPU_WHOLE_TIER) wasm = readRecord(COMMITTED);
    else {
      const cliResults = join(work, 'cli-webgpu-settings');
      const r = await cli(['run', CLAIM, '--tier', 'fast', '--backend', 'wasm', '--threads', '1', '--seeds', WEBGPU_SEEDS, '--results', cliResults, ...WEBGPU_SETS.flatMap((s) => ['--set', s])], { env: DATA_ENV });
      expect(r.code, r.stderr).not.toBe(2);
      wasm = readRecord(recordPath(cliResults, 'fast', CLAIM));
    }
    expect(record.outcomes.map((o) => [o.seed, o.status])).toEqual(wasm.outcomes.map((o) => [o.seed, 'ok']));
    // A setting that decides (every precondition held on wasm), so the page must decide it too,
    // and as wasm did; error here is a crash, a NaN or a model that did not learn on webgpu.
    expect(wasm.verdict).not.toBe('error');
    expect(record.verdict).toBe(wasm.verdict);
    if (WEBGPU_WHOLE_TIER) expect(record.verdict).toBe(specExpected());
    await expectShown(run.page, record);
    expect(await run.page.textContent('#assertions')).toContain('qualitative: no leaking on MNIST');
    // One point a seed and epoch on the live loss curves; the report's plots beneath.
    const epochs = (record.params as { training: { epochs: number } }).training.epochs;
    expect(await run.page.locator('#curves circle').count()).toBe(epochs * record.outcomes.length);
    // Accuracies within one test example, as test/unit/train-step-backends.test.ts allows. Its
    // losses agree to 1e-5 relative after one step; over the 16 SGD steps a seed takes here the
    // float32 rounding compounds (clean_loss differed by 2.9e-5 relative on 2026-12-06), so 1e-4.
    // Over the whole tier's 468 steps a seed the rounding compounds further: on 2026-12-06 the
    // page's WebGPU run (SwiftShader) was within 4 of 2,000 test images of the committed wasm
    // record and its losses within 2.9e-3 relative (docs/serve.md); the bounds allow 2.5×.
    const LOSS_RTOL = WEBGPU_WHOLE_TIER ? 7.5e-3 : 1e-4;
    const ACC_IMAGES = WEBGPU_WHOLE_TIER ? 10 : 1;
    const testImages = (record.params as { testSubset: number }).testSubset;
    for (const [i, o] of wasm.outcomes.entries()) {
      for (const [k, v] of Object.entries(o.metrics)) {
        const got = record.outcomes[i].metrics[k];
        // A gap is a difference of two accuracies: twice the examples.
        if (/_acc/.test(k)) expect(Math.abs(got - v), k).toBeLessThanOrEqual(ACC_IMAGES / testImages + 1e-12);
        else if (/_gap/.test(k)) expect(Math.abs(got - v), k).toBeLessThanOrEqual((2 * ACC_IMAGES) / testImages + 1e-12);
        else expect(Math.abs(got - v) / Math.abs(v), k).toBeLessThanOrEqual(LOSS_RTOL);
      }
    }
    // The downloaded file is a record `label-leak report` reads (schema-checked) and renders.
    const results = join(work, 'webgpu');
    const file = recordPath(results, 'fast', CLAIM);
    mkdirSync(join(results, 'fast'), { recursive: true });
    const [download] = await Promise.all([run.page.waitForEvent('download'), run.page.click('#download')]);
    await download.saveAs(file);
    expect(readRecord(file).outcomes.map((o) => o.metrics)).toEqual(record.outcomes.map((o) => o.metrics));
    const report = await cli(['report', '--results', results, '--out', join(work, 'report')]);
    expect(report.stderr).toBe('');
    expect(report.code).toBe(0);
    await run.page.close();
  });

  it("runs the claim's whole fast tier on wasm (one thread): the spec's expected verdict, the report's plots, every per-seed metric equal to the CLI's committed record", { timeout: 900_000 }, async () => {
    const run = await runInPage('wasm', '', [], 840_000, 'serve-wasm');
    expect(run.error).toBeUndefined();
    expect(run.consoleErrors).toEqual([]);
    const record = run.record!;
    const committed = readRecord(COMMITTED);
    expect(record.backend).toMatchObject({ name: 'wasm', threads: 1 });
    // The tier as the spec has it: no override (a record without any names none).
    expect(record.overrides ?? []).toEqual([]);
    expect(committed.overrides ?? []).toEqual([]);
    // The parameters, not the spec's text: assertion names became templates ({evaluation.eps})
    // after the record was made, which changes the text's hash and nothing that is measured.
    expect(record.paramsHash).toBe(committed.paramsHash);
    expect(record.verdict).toBe(specExpected());
    expect(record.outcomes.map((o) => [o.seed, o.status, o.metrics])).toEqual(committed.outcomes.map((o) => [o.seed, 'ok', o.metrics]));
    await expectShown(run.page, record);
    await run.page.close();
  });

  it('on wasm (one thread) the per-seed metrics equal the CLI\'s record to the last digit; `diff` finds no difference', { timeout: 300_000 }, async () => {
    const run = await runInPage('wasm', '1,2');
    expect(run.error).toBeUndefined();
    expect(run.consoleErrors).toEqual([]);
    const page = run.record!;
    expect(page.backend).toMatchObject({ name: 'wasm', threads: 1 });
    const cliResults = join(work, 'cli');
    const r = await cli(['run', CLAIM, '--tier', 'fast', '--backend', 'wasm', '--threads', '1', '--seeds', '1,2', '--results', cliResults, ...SETS.flatMap((s) => ['--set', s])], { env: DATA_ENV });
    expect(r.code, r.stderr).not.toBe(2);
    const ours = readRecord(recordPath(cliResults, 'fast', CLAIM));
    cliRecord = ours;
    expect(ours.outcomes.map((o) => o.status)).toEqual(['ok', 'ok']);
    expect(page.outcomes.map((o) => [o.seed, o.metrics])).toEqual(ours.outcomes.map((o) => [o.seed, o.metrics]));
    expect(page.outcomes.map((o) => o.curves)).toEqual(ours.outcomes.map((o) => o.curves));
    expect([page.claim.hash, page.paramsHash, page.overrides, page.verdict]).toEqual([ours.claim.hash, ours.paramsHash, ours.overrides, ours.verdict]);
    await expectShown(run.page, page);
    const pageResults = join(work, 'page-wasm');
    mkdirSync(join(pageResults, 'fast'), { recursive: true });
    const [download] = await Promise.all([run.page.waitForEvent('download'), run.page.click('#download')]);
    await download.saveAs(recordPath(pageResults, 'fast', CLAIM));
    const diff = await cli(['diff', cliResults, pageResults, '--json']);
    expect(diff.code, diff.stderr).toBe(0);
    await run.page.close();
  });

  it('a run stopped mid-seed resumes from its checkpoint in the tab and ends with the uninterrupted metrics', { timeout: 300_000 }, async () => {
    expect(cliRecord, 'the wasm test above ran the CLI').toBeDefined();
    const { page, consoleErrors } = await openPage();
    // Stop at the third step of seed 2: seed 1 is then finished, seed 2 has a checkpoint.
    await page.evaluate(() =>
      window.addEventListener('label-leak:progress', (e) => {
        // A step's tick carries its epoch; a resumed seed's first tick (where it picks up) does not.
        const { label, done, info } = (e as CustomEvent).detail;
        if (/seed 2 /.test(label) && done === 3 && info?.epoch !== undefined) (document.getElementById('stop') as HTMLButtonElement).click();
      }),
    );
    await start(page, 'wasm', '1,2');
    const stopped = await waitForEnd(page);
    expect(stopped.state).toBe('stopped');
    expect(await page.textContent('#error')).toContain('Resume continues from it');
    await page.evaluate(() => {
      (globalThis as any).labelLeak.state = 'resuming';
      window.addEventListener('label-leak:progress', (e) => {
        if ((e as CustomEvent).detail.info?.epoch !== undefined) (globalThis as any).firstStepAfterResume ??= (e as CustomEvent).detail.done;
      });
    });
    await page.click('#resume');
    const end = await waitForEnd(page);
    expect(end.error).toBeUndefined();
    expect(consoleErrors).toEqual([]);
    // Seed 1 was kept, not trained again; seed 2 went on from the step it was stopped at.
    const trained = await page.evaluate(() => (globalThis as any).labelLeak.curves.map((c: { label: string }) => c.label));
    expect(trained.every((l: string) => / seed 2 /.test(l)), trained.join('; ')).toBe(true);
    expect(await page.evaluate(() => (globalThis as any).firstStepAfterResume)).toBeGreaterThan(3);
    expect(end.record!.outcomes.map((o) => [o.seed, o.metrics])).toEqual(cliRecord!.outcomes.map((o) => [o.seed, o.metrics]));
    await page.close();
  });

  it('a tab closed mid-run: reopened, the page offers the run it kept in IndexedDB, resumes it from the last checkpoint and ends with the uninterrupted metrics', { timeout: 300_000 }, async () => {
    expect(cliRecord, 'the wasm test above ran the CLI').toBeDefined();
    const context = await browser.newContext();
    try {
      const first = await openPage(context);
      // Closed (as a user closes it: no Stop, no beforeunload) once seed 2 has taken 3 steps,
      // with a checkpoint after every step: seed 1 is in the record, seed 2 checkpointed at least
      // after its second step (the third's checkpoint follows the progress tick that asked).
      let closeNow!: () => void;
      const closeAsked = new Promise<void>((r) => (closeNow = r));
      await first.page.exposeFunction('closeThisTab', () => closeNow());
      await first.page.evaluate(() =>
        window.addEventListener('label-leak:progress', (e) => {
          const { label, done } = (e as CustomEvent).detail;
          if (/seed 2 /.test(label) && done === 3) (window as any).closeThisTab();
        }),
      );
      await start(first.page, 'wasm', '1,2', SETS, 1);
      await closeAsked;
      await first.page.close({ runBeforeUnload: false });
      expect(first.consoleErrors).toEqual([]);

      const second = await openPage(context);
      await second.page.waitForSelector('#interrupted', { state: 'visible' });
      const offer = (await second.page.textContent('#interrupted-text'))!;
      expect(offer).toContain(`A run of ${CLAIM} [fast], seeds 1,2 on wasm`);
      expect(offer).toContain('seed 1 finished');
      const at = /checkpoint of seed-2 at epoch (\d+), step (\d+) next/.exec(offer);
      expect(at, offer).not.toBeNull();
      // Steps seed 2 had done when its last checkpoint was written.
      const step = (Number(at![1]) - 1) * (SETS_STEPS / 2) + Number(at![2]) - 1;
      expect(step).toBeGreaterThanOrEqual(2);
      expect(step).toBeLessThan(SETS_STEPS);
      // The first step run, not the resumed seed's first tick (where it picks up, without an epoch).
      await second.page.evaluate(() =>
        window.addEventListener('label-leak:progress', (e) => {
          if ((e as CustomEvent).detail.info?.epoch !== undefined) (globalThis as any).firstStepAfterResume ??= (e as CustomEvent).detail.done;
        }),
      );
      await second.page.click('#resume-saved');
      await second.page.waitForFunction(() => (globalThis as any).labelLeak?.state !== 'ready');
      const end = await waitForEnd(second.page);
      expect(end.error).toBeUndefined();
      expect(second.consoleErrors).toEqual([]);
      // Seed 1 came from the kept record; seed 2 went on from the step after its checkpoint.
      const trained = await second.page.evaluate(() => (globalThis as any).labelLeak.curves.map((c: { label: string }) => c.label));
      expect(trained.every((l: string) => / seed 2 /.test(l)), trained.join('; ')).toBe(true);
      expect(await second.page.evaluate(() => (globalThis as any).firstStepAfterResume)).toBe(step + 1);
      expect(end.record!.outcomes.map((o) => [o.seed, o.metrics])).toEqual(cliRecord!.outcomes.map((o) => [o.seed, o.metrics]));
      expect(end.record!.verdict).toBe(cliRecord!.verdict);
      // Finished, the run is no longer offered.
      const third = await openPage(context);
      await third.page.waitForFunction(() => (globalThis as any).labelLeak?.state === 'ready');
      expect(await third.page.isVisible('#interrupted')).toBe(false);
    } finally {
      await context.close();
    }
  });

  it('closing the tab mid-run asks first; an idle tab closes without asking', { timeout: 120_000 }, async () => {
    const { page } = await openPage();
    // The page's beforeunload handler, asked as the browser asks it (Chromium then shows its
    // own dialog only after a real user gesture, which a driven page may not count as one).
    const wouldAsk = () =>
      page.evaluate(() => {
        const e = new Event('beforeunload', { cancelable: true });
        window.dispatchEvent(e);
        return e.defaultPrevented;
      });
    expect(await wouldAsk()).toBe(false);
    await start(page, 'wasm', '1');
    // Checked and asked in one task of the page, so a run that ends quickly (a quiet machine)
    // cannot finish between the check and the question.
    const whileRunning = await page.waitForFunction(() => {
      if ((globalThis as any).labelLeak?.state !== 'running') return undefined;
      const e = new Event('beforeunload', { cancelable: true });
      window.dispatchEvent(e);
      return { asked: e.defaultPrevented };
    });
    expect(((await whileRunning.jsonValue()) as { asked: boolean }).asked).toBe(true);
    await waitForEnd(page);
    expect(await wouldAsk()).toBe(false);
    await page.close();
  });

  it('in a browser without WebGPU the page says so and auto runs on wasm', { timeout: 120_000 }, async () => {
    const plain = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-features=WebGPU', '--disable-webgpu'] });
    try {
      const page = await plain.newPage();
      await page.goto(`${base}/?claim=${CLAIM}`);
      await page.waitForFunction(() => (globalThis as any).labelLeak?.state === 'ready');
      expect(await page.textContent('#gpu')).toContain('No WebGPU here');
      await page.fill('#seeds', '1');
      await page.fill('#sets', ['training.epochs=1', 'trainSubset=128', 'testSubset=128'].join('\n'));
      await page.click('#run');
      await page.waitForFunction(() => ['done', 'failed'].includes((globalThis as any).labelLeak?.state), null, { timeout: 100_000 });
      const backend = await page.evaluate(() => (globalThis as any).labelLeak.record?.backend);
      expect(backend?.name).toBe('wasm');
      expect(backend?.reason).toMatch(/^auto: wasm, since this browser has no WebGPU|^auto: wasm, since this browser has WebGPU but found no adapter/);
      expect(await page.textContent('#backend-line')).toContain('auto: wasm, since');
    } finally {
      await plain.close();
    }
  });

  it('an unknown claim and bad overrides get a clear message on the page', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/?claim=${CLAIM}`);
    await page.waitForFunction(() => (globalThis as any).labelLeak?.state === 'ready');
    await page.fill('#sets', 'training.epochs=0');
    await page.click('#run');
    await page.waitForFunction(() => (globalThis as any).labelLeak?.state === 'failed');
    expect(await page.textContent('#error')).toMatch(/epochs/);
    await page.evaluate(() => {
      const s = document.getElementById('claim') as HTMLSelectElement;
      s.add(new Option('no-such-claim', 'no-such-claim'));
      s.value = 'no-such-claim';
    });
    await page.fill('#sets', '');
    await page.click('#run');
    await page.waitForFunction(() => (globalThis as any).labelLeak?.state === 'failed' && /unknown claim/.test((globalThis as any).labelLeak?.error ?? ''));
    expect(await page.textContent('#error')).toContain('unknown claim "no-such-claim"');
    await page.close();
  });
});
