import { loadSpec } from '../../claims/load.ts';
import { applyOverrides, parseOverride, type Override } from '../../claims/overrides.ts';
import { checkpointDir, runClaim } from '../../claims/runner.ts';
import { plotsFor } from '../../report/plots.ts';
import type { BackendInfo } from '../../backend/info.ts';
import type { Environment, ResultRecord } from '../../results/record-types.ts';
import { readRecord, recordPath } from '../../results/record.ts';
import { readCheckpointMeta } from '../../train/checkpoint.ts';
import { Interrupted } from '../../train/errors.ts';
import type { ProgressSink } from '../../train/progress.ts';
import type { Tier } from '../../spec/names.ts';
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync, existsSync } from './shims/fs.ts';
import { probeWebgpu, startPageBackend, type PageBackendChoice } from './backend.ts';
import { lossCurveSvg, type CurveSeries } from './curves.ts';
import { persisted, persistFailure, persistTree, savedRun, saveRun, type SavedRun } from './store.ts';

/**
 * The page: lists the claims, runs one with the project's own runner (src/claims/runner.ts)
 * on the in-memory file system of shims/fs.ts, which holds the spec and the dataset files
 * fetched from `label-leak serve`, and shows progress, the verdict, the record and the plots.
 */

interface TierInfo {
  expected: string;
  seeds: number[];
  datasets: string[];
  missing: string[];
}
interface ClaimInfo {
  id: string;
  title: string;
  tiers: Record<string, TierInfo>;
}
interface CheckAnswer {
  datasets: { name: string; subdir: string; files: { official: string; url: string }[] }[];
}

/** What tests and the curious read: the state of the run, its record, its error. */
interface PageState {
  state: 'loading' | 'ready' | 'running' | 'done' | 'stopped' | 'failed';
  backend?: BackendInfo;
  record?: ResultRecord;
  error?: string;
  /** Per-epoch training loss of each labelled training, as the progress reported it. */
  curves: CurveSeries[];
  /** An unfinished run an earlier tab left in this browser's storage, offered for resuming. */
  saved?: SavedRun;
}
const page: PageState = { state: 'loading', curves: [] };
(globalThis as unknown as { labelLeak: PageState }).labelLeak = page;

const DATA_DIR = '/data';
const RESULTS_DIR = '/results';
const CLAIMS_DIR = '/claims';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

function el(tag: string, text?: string, cls?: string): HTMLElement {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

function showError(message: string): void {
  page.error = message;
  const box = $('error');
  box.textContent = message;
  box.hidden = false;
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error((await res.text()).trim() || `${url}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

async function gunzip(bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * Puts the run's dataset files into the in-memory tree under /data/<subdir>/ by their
 * official names (unpacked: the browser has DecompressionStream, the shims no zlib). The
 * server has already run the CLI's checks on them (found, complete, big enough).
 */
async function fetchData(check: CheckAnswer, say: (s: string) => void): Promise<void> {
  for (const ds of check.datasets) {
    const dir = `${DATA_DIR}/${ds.subdir}`;
    mkdirSync(dir, { recursive: true });
    for (const f of ds.files) {
      const target = `${dir}/${f.official}`;
      if (existsSync(target)) continue;
      say(`fetching ${ds.name}: ${f.official}`);
      const res = await fetch(f.url);
      if (!res.ok) throw new Error((await res.text()).trim());
      let bytes: Uint8Array<ArrayBuffer> = new Uint8Array(await res.arrayBuffer());
      if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = await gunzip(bytes);
      writeFileSync(target, bytes);
    }
  }
}

let backend: Promise<BackendInfo> | undefined;
let backendChoice: PageBackendChoice | undefined;

function pageBackend(choice: PageBackendChoice): Promise<BackendInfo> {
  if (backend && choice !== backendChoice) {
    return Promise.reject(new Error(`this tab already runs on ${backendChoice}; reload the page to use ${choice} (tfjs keeps one backend per tab)`));
  }
  backendChoice = choice;
  backend ??= startPageBackend(choice);
  backend.catch(() => {
    backend = undefined;
    backendChoice = undefined;
  });
  return backend;
}

/** This checkout's packages and commit (from the server), this browser's machine. */
async function pageEnvironment(): Promise<Environment> {
  const env = await getJson<Environment>('/api/environment');
  const nav = navigator as Navigator & { deviceMemory?: number };
  return {
    ...env,
    node: `browser: ${navigator.userAgent}`,
    machine: { cpuModel: 'unknown (browser)', cpus: navigator.hardwareConcurrency ?? 0, os: navigator.platform || 'unknown', memoryGiB: nav.deviceMemory ?? 0 },
  };
}

function parseSeeds(text: string): number[] | undefined {
  if (text.trim() === '') return undefined;
  const seeds = text.split(',').map((s) => Number(s.trim()));
  if (seeds.some((s) => !Number.isInteger(s) || s < 0)) throw new Error(`seeds: ${JSON.stringify(text)} is not a comma-separated list of whole numbers, e.g. 1,2,3`);
  return seeds;
}

function fmtDuration(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60);
  return m > 0 ? `${m} min ${Math.round(s % 60)} s` : `${Math.round(s)} s`;
}

/** Live progress: step, epoch, loss, images/s and ETA of the training running, and its loss per epoch. */
function progressSink(): ProgressSink {
  let label = '';
  let total = 0;
  let t0 = 0;
  let series: CurveSeries | undefined;
  let lastEpoch = 0;
  let lastLoss = NaN;
  const draw = () => {
    $('curves').innerHTML = lossCurveSvg(page.curves);
  };
  return {
    start(l, t) {
      label = l;
      total = t;
      t0 = performance.now();
      lastEpoch = 0;
      series = { label: l, points: [] };
      page.curves.push(series);
    },
    tick(done, info = {}) {
      const epoch = Number(info.epoch);
      const loss = Number(info.loss);
      if (series && Number.isFinite(epoch) && epoch > lastEpoch && lastEpoch > 0 && Number.isFinite(lastLoss)) {
        series.points.push({ epoch: lastEpoch, loss: lastLoss });
        draw();
      }
      if (Number.isFinite(epoch)) lastEpoch = epoch;
      lastLoss = loss;
      const elapsed = (performance.now() - t0) / 1000;
      const eta = total > done && done > 0 ? (elapsed / done) * (total - done) : 0;
      const parts = [`step ${done}/${total}`, ...Object.entries(info).map(([k, v]) => `${k} ${v}`), `ETA ${fmtDuration(eta)}`];
      $('progress').textContent = `${label}\n${parts.join(' · ')}`;
      const bar = $<HTMLProgressElement>('bar');
      bar.max = Math.max(total, 1);
      bar.value = done;
      // For whoever watches the page (a test stopping at a given step, an embedding page).
      window.dispatchEvent(new CustomEvent('label-leak:progress', { detail: { label, done, total, info } }));
    },
    stop() {
      if (series && lastEpoch > 0 && Number.isFinite(lastLoss) && series.points.at(-1)?.epoch !== lastEpoch) {
        series.points.push({ epoch: lastEpoch, loss: lastLoss });
        draw();
      }
    },
  };
}

function fmt(x: number | null | undefined): string {
  return x === null || x === undefined ? '—' : Math.abs(x) < 10 ? x.toFixed(4) : x.toFixed(2);
}

async function showRecord(record: ResultRecord): Promise<void> {
  $('result-section').hidden = false;
  const v = $('verdict');
  v.replaceChildren(el('span', record.verdict, record.verdict), el('span', ` (the spec expects ${record.expected}) — ${record.claim.title}`));
  const tbody = $('assertions').querySelector('tbody')!;
  tbody.replaceChildren();
  const figure = record.claim.writeUpFigure;
  for (const a of record.assertions) {
    const tr = el('tr');
    const theirs = figure.values?.[a.metric];
    tr.append(
      el('td', `${a.name} (${a.minus ? `${a.metric} − ${a.minus}` : a.metric} ${a.region})`),
      el('td', fmt(a.mean), 'num'),
      el('td', `[${fmt(a.ci.low)}, ${fmt(a.ci.high)}]`, 'num'),
      el('td', a.verdict, a.verdict),
      el('td', theirs !== undefined ? `${a.metric} = ${theirs} (${figure.text})` : figure.text),
    );
    tbody.append(tr);
  }
  const metrics = [...new Set(record.outcomes.flatMap((o) => Object.keys(o.metrics)))].sort();
  $('seeds-table').querySelector('thead')!.replaceChildren(Object.assign(el('tr'), {}));
  const head = $('seeds-table').querySelector('thead tr')!;
  head.append(el('th', 'seed'), el('th', 'status'), ...metrics.map((m) => el('th', m)), el('th', 'img/s'), el('th', 'wall'));
  const body = $('seeds-table').querySelector('tbody')!;
  body.replaceChildren();
  for (const o of record.outcomes) {
    const tr = el('tr');
    tr.append(el('td', String(o.seed)), el('td', o.status === 'ok' ? 'ok' : `error: ${o.error?.name}: ${o.error?.message}`));
    for (const m of metrics) tr.append(el('td', fmt(o.metrics[m]), 'num'));
    tr.append(el('td', o.imagesPerSecond === undefined ? '—' : String(Math.round(o.imagesPerSecond)), 'num'), el('td', fmtDuration(o.wallSeconds), 'num'));
    body.append(tr);
  }
  const plots = $('plots');
  plots.replaceChildren();
  for (const p of await plotsFor(record)) {
    const fig = el('figure');
    fig.append(el('figcaption', p.title));
    fig.insertAdjacentHTML('beforeend', p.svg);
    plots.append(fig);
  }
}

function download(record: ResultRecord): void {
  const blob = new Blob([`${JSON.stringify(record, null, 2)}\n`], { type: 'application/json' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  // The CLI's file name, so the file can go straight into results/<tier>/.
  a.download = `${record.claim.id}.json`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

let controller: AbortController | undefined;

/** The form as a saved run, and back. */
function formRun(status: SavedRun['status']): SavedRun {
  return {
    claim: $<HTMLSelectElement>('claim').value,
    tier: $<HTMLSelectElement>('tier').value,
    seeds: $<HTMLInputElement>('seeds').value,
    sets: $<HTMLTextAreaElement>('sets').value,
    backend: $<HTMLSelectElement>('backend').value,
    checkpointEvery: Number($<HTMLInputElement>('checkpoint-every').value),
    status,
  };
}
function fillForm(r: SavedRun): void {
  $<HTMLSelectElement>('claim').value = r.claim;
  $<HTMLSelectElement>('claim').dispatchEvent(new Event('change'));
  $<HTMLSelectElement>('tier').value = r.tier;
  $<HTMLInputElement>('seeds').value = r.seeds;
  $<HTMLTextAreaElement>('sets').value = r.sets;
  $<HTMLSelectElement>('backend').value = r.backend;
  $<HTMLInputElement>('checkpoint-every').value = String(r.checkpointEvery);
}

/** Keeps the run's form and state for a later tab; storage trouble never stops a run. */
async function remember(status: SavedRun['status']): Promise<void> {
  await saveRun(formRun(status)).catch((e: unknown) => console.warn('label-leak: the run could not be saved in IndexedDB', e));
}

/**
 * What a closed tab left: the seeds its record holds finished and the checkpoint of each
 * other seed (step, epoch), read from the results the store put back.
 */
function describeSaved(r: SavedRun): string {
  const tier = r.tier as Tier;
  const file = recordPath(RESULTS_DIR, tier, r.claim);
  const finished = existsSync(file) ? readRecord(file).outcomes.filter((o) => o.status === 'ok').map((o) => o.seed) : [];
  const root = checkpointDir(RESULTS_DIR, tier, r.claim, 0).replace(/\/seed-0$/, '');
  const partial: string[] = [];
  // Each training of a seed checkpoints in its own folder below seed-N (an experiment may train several).
  const walk = (dir: string, seed: string): void => {
    for (const d of readdirSync(dir) as string[]) {
      const sub = `${dir}/${d}`;
      if (d !== 'checkpoint.json') {
        if (statSync(sub).isDirectory()) walk(sub, seed);
        continue;
      }
      try {
        const m = readCheckpointMeta(dir);
        partial.push(`${seed} at epoch ${m.epoch + 1}, step ${m.step + 1} next`);
      } catch {
        // Unreadable: that training starts from its beginning, as in the CLI.
      }
    }
  };
  for (const d of existsSync(root) ? (readdirSync(root) as string[]) : []) walk(`${root}/${d}`, d);
  const what = [finished.length > 0 ? `seed${finished.length === 1 ? '' : 's'} ${finished.join(', ')} finished` : 'no seed finished', partial.length > 0 ? `checkpoint of ${partial.join(', ')}` : 'no checkpoint'].join('; ');
  const how = r.status === 'stopped' ? 'was stopped' : 'did not finish (the tab was closed or reloaded)';
  const seeds = r.seeds.trim() === '' ? "the tier's seeds" : `seeds ${r.seeds}`;
  const sets = r.sets.trim() === '' ? '' : `, with ${r.sets.trim().split('\n').join(', ')}`;
  return `A run of ${r.claim} [${r.tier}], ${seeds} on ${r.backend}${sets}, ${how}: ${what}.`;
}

/**
 * Runs the claim as the form says. `resume`: as `run --resume` does — the finished seeds are
 * kept and each unfinished one continues from its checkpoint (after a stop, or from what a
 * closed tab left in this browser's storage).
 */
async function run(resume = false): Promise<void> {
  const claim = $<HTMLSelectElement>('claim').value;
  const tier = $<HTMLSelectElement>('tier').value as Tier;
  $('interrupted').hidden = true;
  $('error').hidden = true;
  page.error = undefined;
  page.record = undefined;
  page.curves = [];
  $('curves').replaceChildren();
  $('result-section').hidden = true;
  $('progress-section').hidden = false;
  const say = (s: string) => ($('progress').textContent = s);
  $<HTMLButtonElement>('run').disabled = true;
  $<HTMLButtonElement>('resume').disabled = true;
  $<HTMLButtonElement>('stop').disabled = false;
  page.state = 'running';
  controller = new AbortController();
  try {
    const checkpointEvery = Number($<HTMLInputElement>('checkpoint-every').value);
    if (!Number.isInteger(checkpointEvery) || checkpointEvery < 1) throw new Error(`checkpoint every: ${JSON.stringify($<HTMLInputElement>('checkpoint-every').value)} is not a whole number of steps ≥ 1, e.g. 200`);
    const seeds = parseSeeds($<HTMLInputElement>('seeds').value);
    const lines = $<HTMLTextAreaElement>('sets').value.split('\n').map((s) => s.trim()).filter((s) => s !== '');
    const sets: Override[] = lines.map((s) => parseOverride(s));
    const query = new URLSearchParams({ claim, tier });
    for (const s of lines) query.append('set', s);
    say('checking the data on the server…');
    const check = await getJson<CheckAnswer>(`/api/check?${query}`);
    await fetchData(check, say);
    const specFile = `${CLAIMS_DIR}/${claim}.json`;
    mkdirSync(CLAIMS_DIR, { recursive: true });
    const specRes = await fetch(`/claims/${encodeURIComponent(claim)}.json`);
    if (!specRes.ok) throw new Error((await specRes.text()).trim());
    writeFileSync(specFile, new Uint8Array(await specRes.arrayBuffer()));
    const spec = applyOverrides(loadSpec(specFile), tier, sets);
    say('starting the backend…');
    const info = await pageBackend($<HTMLSelectElement>('backend').value as PageBackendChoice);
    page.backend = info;
    $('backend-line').textContent = `backend: ${info.name} ${info.version} — ${info.device} (${info.reason})`;
    // A fresh run shows itself only: a record an earlier run in this tab left is not merged in,
    // nor (as in the runner without resume) its checkpoints used.
    if (!resume) rmSync(recordPath(RESULTS_DIR, tier, spec.id), { force: true });
    await remember('running');
    const record = await runClaim(spec, {
      tier,
      seeds,
      backend: info,
      dataDir: DATA_DIR,
      resultsDir: RESULTS_DIR,
      resume,
      checkpointEvery,
      overrides: sets.map((s) => s.text),
      progress: progressSink(),
      signal: controller.signal,
      notice: (line) => console.warn(line),
      environment: await pageEnvironment(),
    });
    page.record = record;
    await persisted();
    await remember('done');
    await showRecord(record);
    say(`done: ${record.outcomes.length} seed${record.outcomes.length === 1 ? '' : 's'} in ${fmtDuration(record.wallSeconds)}`);
    page.state = 'done';
  } catch (e) {
    await persisted();
    if (e instanceof Interrupted) {
      await remember('stopped');
      page.state = 'stopped';
      showError(`stopped: a checkpoint was written${persistFailure() ? ' in this tab only' : ' (kept in this browser, so it outlives the tab)'} — Resume continues from it (the seeds finished are kept), Run starts over`);
      $<HTMLButtonElement>('resume').disabled = false;
    } else {
      if (page.backend) await remember('failed');
      page.state = 'failed';
      showError(e instanceof Error ? e.message : String(e));
      console.warn(e);
    }
  } finally {
    $<HTMLButtonElement>('run').disabled = false;
    $<HTMLButtonElement>('stop').disabled = true;
    controller = undefined;
  }
}

function fillTiers(claims: ClaimInfo[]): void {
  const c = claims.find((x) => x.id === $<HTMLSelectElement>('claim').value);
  const tier = $<HTMLSelectElement>('tier');
  tier.replaceChildren(...Object.keys(c?.tiers ?? {}).map((t) => Object.assign(el('option', t), { value: t })));
}

async function init(): Promise<void> {
  await persistTree(RESULTS_DIR).catch((e: unknown) => console.warn('label-leak: no IndexedDB, so checkpoints live in this tab only', e));
  const probe = await probeWebgpu();
  $('gpu').textContent =
    'adapter' in probe
      ? `WebGPU: ${[probe.adapter.info?.vendor, probe.adapter.info?.architecture, probe.adapter.info?.description].filter(Boolean).join(' ') || 'an adapter'} — runs go to the browser's GPU`
      : `No WebGPU here: ${probe.why}. Runs use wasm (CPU) instead.`;
  const claims = await getJson<ClaimInfo[]>('/api/claims');
  const body = $('claims').querySelector('tbody')!;
  for (const c of claims) {
    const tr = el('tr');
    const name = el('td');
    name.append(el('strong', c.id), el('br'), el('span', c.title, 'hint'));
    const tiers = Object.entries(c.tiers).map(([t, i]) => `${t}: ${i.seeds.length} seeds, expects ${i.expected}`);
    const missing = Object.entries(c.tiers).flatMap(([t, i]) => i.missing.map((m) => `${t}: ${m}`));
    const data = el('td', missing.length === 0 ? [...new Set(Object.values(c.tiers).flatMap((i) => i.datasets))].join(', ') || '—' : missing.join('; '), missing.length ? 'missing' : '');
    tr.append(name, el('td', tiers.join('\n')), data);
    body.append(tr);
  }
  const select = $<HTMLSelectElement>('claim');
  select.replaceChildren(...claims.map((c) => Object.assign(el('option', c.id), { value: c.id })));
  const wanted = new URLSearchParams(location.search).get('claim');
  if (wanted && claims.some((c) => c.id === wanted)) select.value = wanted;
  fillTiers(claims);
  select.addEventListener('change', () => fillTiers(claims));
  $('run-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void run();
  });
  $('resume').addEventListener('click', () => void run(true));
  const saved = await savedRun().catch(() => undefined);
  if (saved && (saved.status === 'running' || saved.status === 'stopped') && claims.some((c) => c.id === saved.claim)) {
    $('interrupted-text').textContent = describeSaved(saved);
    $('interrupted').hidden = false;
    page.saved = saved;
  }
  $('resume-saved').addEventListener('click', () => {
    fillForm(page.saved!);
    void run(true);
  });
  $('discard-saved').addEventListener('click', () => {
    const r = page.saved!;
    rmSync(checkpointDir(RESULTS_DIR, r.tier as Tier, r.claim, 0).replace(/\/seed-0$/, ''), { recursive: true, force: true });
    rmSync(recordPath(RESULTS_DIR, r.tier as Tier, r.claim), { force: true });
    $('interrupted').hidden = true;
    page.saved = undefined;
    void saveRun({ ...r, status: 'failed' }).catch(() => undefined);
  });
  $('stop').addEventListener('click', () => {
    controller?.abort();
    $('progress').textContent += '\nstopping at the next step…';
  });
  $('download').addEventListener('click', () => page.record && download(page.record));
  // Closing the tab ends the run with it: the browser asks first.
  window.addEventListener('beforeunload', (e) => {
    if (page.state !== 'running') return;
    e.preventDefault();
    e.returnValue = 'A run is in progress; closing the tab ends it (reopening the page offers to resume it from its last checkpoint).';
  });
  page.state = 'ready';
}

init().catch((e: unknown) => {
  page.state = 'failed';
  showError(`the page could not start: ${e instanceof Error ? e.message : String(e)}`);
});
