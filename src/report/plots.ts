import type * as vl from 'vega-lite';
import type { ResultRecord, SeedResult } from '../results/record-types.ts';
import { checksSpec, quantitiesSpec } from './check-plots.ts';
import { cellRows, heatmapSpec, lineSpec, numericAxis, sweepPlotMetrics } from './sweep-plots.ts';
import { cellWords, metricWords } from './units.ts';

/**
 * The report's figures as vega-lite specs (pure data → spec), rendered to SVG by vega's
 * headless View. Means and min–max bands across seeds are vega-lite aggregates, so the
 * plot shows exactly the per-seed data it was given.
 */

// The bands' translucency would otherwise carry over into the shared legend's symbols.
const LEGEND = { orient: 'bottom', labelLimit: 0, symbolType: 'stroke', symbolOpacity: 1, symbolStrokeWidth: 2 } as const;

/** The write-up evaluates at ε = 6; a spec evaluating elsewhere gets its own ε marked. */
export const WRITE_UP_EPS = 6;

export interface LossRow {
  seed: number;
  model: string;
  eps: number;
  loss: number;
}

export interface AccuracyRow {
  seed: number;
  model: string;
  /** 'clean' or 'FGSM' (the per-epoch curve's adversarial accuracy is FGSM's at the evaluation ε). */
  metric: string;
  epoch: number;
  accuracy: number;
}

/**
 * An unprefixed curve belongs to the experiment's own model (for adversarial training, the
 * adversarially trained one), `control:` to its plainly trained twin; other prefixes
 * (a dataset of the difficulty sweep) name themselves.
 */
export function modelLabel(prefix: string | undefined, experiment: string): string {
  if (prefix === undefined) return experiment;
  if (prefix === 'control') return 'control (plain training)';
  // A sweep's cell, `{fraction=1,eps=fixed8}`: its settings in words.
  if (prefix.startsWith('{')) return cellWords(prefix);
  return prefix;
}

/** Curves named `<name>` or `<prefix>:<name>` in each finished seed, with their model label. */
function namedCurves(outcomes: readonly SeedResult[], name: string, experiment: string) {
  const out: { seed: number; model: string; points: Record<string, number | null>[] }[] = [];
  for (const o of outcomes) {
    if (o.status !== 'ok') continue;
    for (const [key, points] of Object.entries(o.curves)) {
      const m = key === name ? [key] : key.endsWith(`:${name}`) ? [key, key.slice(0, -(name.length + 1))] : undefined;
      if (!m) continue;
      out.push({ seed: o.seed, model: modelLabel(m[1], experiment), points });
    }
  }
  return out;
}

const num = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

export function lossRows(outcomes: readonly SeedResult[], experiment: string): LossRow[] {
  return namedCurves(outcomes, 'lossVsEps', experiment).flatMap(({ seed, model, points }) =>
    points.filter((p) => num(p.eps) && num(p.loss)).map((p) => ({ seed, model, eps: p.eps as number, loss: p.loss as number })),
  );
}

export function accuracyRows(outcomes: readonly SeedResult[], experiment: string): AccuracyRow[] {
  const rows: AccuracyRow[] = [];
  for (const { seed, model, points } of namedCurves(outcomes, 'epochs', experiment)) {
    for (const p of points) {
      if (!num(p.epoch)) continue;
      if (num(p.cleanAcc)) rows.push({ seed, model, metric: 'clean', epoch: p.epoch, accuracy: p.cleanAcc });
      if (num(p.advAcc)) rows.push({ seed, model, metric: 'FGSM', epoch: p.epoch, accuracy: p.advAcc });
    }
  }
  return rows;
}

/** ε at which the spec evaluates its adversarial accuracy, when its params say. */
export function evaluationEps(params: Record<string, unknown>): number {
  const ev = params.evaluation as { eps?: unknown } | undefined;
  return typeof ev?.eps === 'number' ? ev.eps : WRITE_UP_EPS;
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const seedsNote = (n: number) => `mean over ${n} seed${n === 1 ? '' : 's'}, band: min–max`;

export function lossVsEpsSpec(record: Pick<ResultRecord, 'claim' | 'tier' | 'params'>, rows: LossRow[]): vl.TopLevelSpec {
  const eps = evaluationEps(record.params);
  const seeds = new Set(rows.map((r) => r.seed)).size;
  const models = [...new Set(rows.map((r) => r.model))];
  // Two models (adversarial and its plain twin) compare best on one chart; more overlap, so each gets its own panel.
  if (models.length > 2) return facetted(lossVsEpsSpec(record, rows.map((r) => ({ ...r, model: 'all' }))), rows, models, `${record.claim.id} [${record.tier}]: test loss versus ε, one panel per training setting`, seedsNote(seeds));
  const x = { field: 'eps', type: 'quantitative', title: 'ε (0–255 pixel units), along sign(∇ₓ loss)', scale: { nice: false } } as const;
  const color = { field: 'model', type: 'nominal', title: 'model', legend: LEGEND } as const;
  return {
    $schema: SCHEMA,
    title: { text: `${record.claim.id} [${record.tier}]: test loss versus ε`, subtitle: seedsNote(seeds), anchor: 'start' },
    width: 520,
    height: 300,
    data: { values: rows },
    layer: [
      {
        mark: { type: 'area', opacity: 0.2 },
        encoding: {
          x,
          y: { aggregate: 'min', field: 'loss', type: 'quantitative', title: 'cross-entropy', scale: { zero: false } },
          y2: { aggregate: 'max', field: 'loss' },
          color,
        },
      },
      {
        mark: { type: 'line', point: true },
        encoding: { x, y: { aggregate: 'mean', field: 'loss', type: 'quantitative' }, color },
      },
      {
        data: { values: [{ eps, label: `ε = ${eps}` }] },
        mark: { type: 'rule', strokeDash: [4, 4], color: '#555' },
        encoding: { x: { field: 'eps', type: 'quantitative' } },
      },
      {
        data: { values: [{ eps, label: `ε = ${eps}` }] },
        mark: { type: 'text', align: 'left', dx: 4, baseline: 'top', color: '#555' },
        encoding: { x: { field: 'eps', type: 'quantitative' }, y: { value: 4 }, text: { field: 'label' } },
      },
    ],
  };
}

export function accuracySpec(record: Pick<ResultRecord, 'claim' | 'tier'>, rows: AccuracyRow[]): vl.TopLevelSpec {
  const seeds = new Set(rows.map((r) => r.seed)).size;
  const names = [...new Set(rows.map((r) => r.model))];
  // Several models on one chart made 8 crossing lines with bands: each model gets its own panel, on one y scale.
  if (names.length > 1) return facetted(accuracySpec(record, rows.map((r) => ({ ...r, model: 'all' }))), rows, names, `${record.claim.id} [${record.tier}]: clean and FGSM accuracy over training, one panel per model`, seedsNote(seeds));
  const models = names.length;
  const x = { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1 }, scale: { nice: false } } as const;
  const color = { field: 'metric', type: 'nominal', title: 'test accuracy', scale: { domain: ['clean', 'FGSM'], range: ['#0969da', '#cf222e'] }, legend: LEGEND } as const;
  const dash = models > 1 ? { strokeDash: { field: 'model', type: 'nominal', title: 'model', legend: { ...LEGEND, symbolStrokeColor: '#444', encode: { symbols: { update: { stroke: { value: '#444' } } } } } } as const } : {};
  const detail = { detail: { field: 'model', type: 'nominal' } } as const;
  return {
    $schema: SCHEMA,
    title: { text: `${record.claim.id} [${record.tier}]: clean and FGSM accuracy over training`, subtitle: seedsNote(seeds), anchor: 'start' },
    width: 520,
    height: 300,
    data: { values: rows },
    layer: [
      {
        mark: { type: 'area', opacity: 0.15 },
        encoding: {
          x,
          y: { aggregate: 'min', field: 'accuracy', type: 'quantitative', title: 'accuracy', axis: { format: '.0%' }, scale: { zero: false } },
          y2: { aggregate: 'max', field: 'accuracy' },
          color,
          ...detail,
        },
      },
      {
        mark: { type: 'line', point: true },
        encoding: { x, y: { aggregate: 'mean', field: 'accuracy', type: 'quantitative' }, color, ...detail, ...dash },
      },
    ],
  };
}

/**
 * `single` (a layered chart made for one model) repeated in one panel per model, on shared
 * scales so panels compare at a glance. `single`'s data is replaced by `rows`.
 */
function facetted(single: vl.TopLevelSpec, rows: { model: string }[], models: string[], title: string, subtitle: string): vl.TopLevelSpec {
  const { $schema, width, height, ...rest } = single as { $schema: string; layer: { encoding?: Record<string, { field?: string }> }[]; width: number; height: number };
  // A colour per model says again what the panel titles say: the panels drop it.
  const layer = rest.layer.map((l) => (l.encoding?.color?.field === 'model' ? { ...l, encoding: Object.fromEntries(Object.entries(l.encoding).filter(([k]) => k !== 'color')) } : l));
  return {
    $schema,
    title: { text: title, subtitle, anchor: 'start' },
    data: { values: rows },
    facet: { field: 'model', type: 'nominal', title: null, sort: models, header: { labelFontSize: 12, labelFontWeight: 'bold', labelLimit: 0 } },
    columns: 2,
    spec: { width: Math.round(width * 0.62), height: Math.round(height * 0.7), layer },
    resolve: { scale: { x: 'shared', y: 'shared' } },
  } as vl.TopLevelSpec;
}

/**
 * Each seed's own clean and FGSM accuracy per epoch, a panel per seed (and per model): the
 * leak is an event in one seed's training (issue 25), which a mean over seeds smooths away.
 * Where the FGSM line is above the clean one, that epoch leaks.
 */
export function accuracyPerSeedSpec(record: Pick<ResultRecord, 'claim' | 'tier'>, rows: AccuracyRow[]): vl.TopLevelSpec {
  const models = [...new Set(rows.map((r) => r.model))];
  const x = { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1 }, scale: { nice: false } } as const;
  return {
    $schema: SCHEMA,
    title: { text: `${record.claim.id} [${record.tier}]: accuracy over training in each seed`, subtitle: 'test-subset accuracy after each epoch; where FGSM is above clean, that epoch leaks', anchor: 'start' },
    data: { values: rows.map((r) => ({ ...r, seedLabel: `seed ${r.seed}` })) },
    facet: {
      column: { field: 'seedLabel', type: 'nominal', title: null, header: { labelFontSize: 12, labelFontWeight: 'bold' } },
      ...(models.length > 1 ? { row: { field: 'model', type: 'nominal', title: null, sort: models, header: { labelFontSize: 12, labelFontWeight: 'bold', labelLimit: 0 } } } : {}),
    },
    spec: {
      width: 210,
      height: 150,
      mark: { type: 'line', point: { size: 18 } },
      encoding: {
        x,
        y: { field: 'accuracy', type: 'quantitative', title: 'accuracy', axis: { format: '.0%' }, scale: { zero: false } },
        color: { field: 'metric', type: 'nominal', title: 'test accuracy', scale: { domain: ['clean', 'FGSM'], range: ['#0969da', '#cf222e'] }, legend: LEGEND },
      },
    },
    resolve: { scale: { y: 'shared' } },
  } as vl.TopLevelSpec;
}

/**
 * Compiles vega-lite to vega and renders it headless (no canvas needed for SVG). Both load
 * here, on the first plot, not with the module: ~0.4 s of CPU that every command which draws
 * nothing (run, list, a refused option) would pay at start-up.
 */
export async function renderSvg(spec: vl.TopLevelSpec): Promise<string> {
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export interface Plot {
  /** File name, e.g. `cifar10-label-leaking-fast-loss-vs-eps.svg`. */
  name: string;
  title: string;
  svg: string;
  /** The record metrics whose per-seed values the plot draws, read from its data (curves are not metrics). */
  metrics: string[];
}

/** The plots a record has data for: what its checks measured first, then its curves and cells. */
export async function plotsFor(record: ResultRecord): Promise<Plot[]> {
  const base = `${record.claim.id}-${record.tier}`;
  const plots: Plot[] = [];
  const withChecks = { ...record, assertions: record.assertions ?? [] };
  const quantities = quantitiesSpec(withChecks);
  if (quantities) plots.push({ name: `${base}-quantities.svg`, title: 'The quantities its assertions compare, per seed', svg: await renderSvg(quantities.spec), metrics: quantities.metrics });
  const checks = checksSpec(withChecks);
  if (checks) plots.push({ name: `${base}-checks.svg`, title: 'What each assertion and precondition measured', svg: await renderSvg(checks.spec), metrics: checks.metrics });
  const loss = lossRows(record.outcomes, record.claim.experiment);
  if (loss.length > 0) plots.push({ name: `${base}-loss-vs-eps.svg`, title: 'Loss versus ε', svg: await renderSvg(lossVsEpsSpec(record, loss)), metrics: [] });
  const acc = accuracyRows(record.outcomes, record.claim.experiment);
  if (acc.length > 0) plots.push({ name: `${base}-accuracy.svg`, title: 'Accuracy over epochs', svg: await renderSvg(accuracySpec(record, acc)), metrics: [] });
  // Records that derive the leak's timing from the epoch curve (epochMetrics) get each seed's curve.
  if (acc.length > 0 && record.outcomes.some((o) => Object.keys(o.metrics).some((m) => m.endsWith('epoch_first_leak')))) {
    plots.push({ name: `${base}-accuracy-per-seed.svg`, title: 'Accuracy over epochs, each seed', svg: await renderSvg(accuracyPerSeedSpec(record, acc)), metrics: [] });
  }
  const metrics = sweepPlotMetrics(record);
  const { rows, axes } = cellRows(record.outcomes, metrics);
  for (const metric of metrics) {
    const own = rows.filter((r) => r.metric === metric);
    if (own.length === 0) continue;
    const drawn = [...new Set(own.map((r) => `${metric}{${r.cell}}`))];
    plots.push({ name: `${base}-${metric}-cells.svg`, title: `${metricWords(metric)} per cell`, svg: await renderSvg(heatmapSpec(record, metric, own, axes)), metrics: drawn });
    const x = numericAxis(own, axes);
    if (x) plots.push({ name: `${base}-${metric}-along-${x}.svg`, title: `${metricWords(metric)} along ${x}`, svg: await renderSvg(lineSpec(record, metric, own, axes, x)), metrics: drawn });
  }
  return plots;
}
