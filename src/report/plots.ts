import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { ResultRecord, SeedResult } from '../results/record-types.ts';
import { cellRows, heatmapSpec, lineSpec, numericAxis, sweepPlotMetrics } from './sweep-plots.ts';

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
  /** 'clean' or 'adversarial'. */
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
      if (num(p.advAcc)) rows.push({ seed, model, metric: 'adversarial', epoch: p.epoch, accuracy: p.advAcc });
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
  const x = { field: 'eps', type: 'quantitative', title: 'ε (0–255 pixel units), along sign(∇ₓ loss)', scale: { nice: false } } as const;
  const color = { field: 'model', type: 'nominal', title: 'model', legend: LEGEND } as const;
  return {
    $schema: SCHEMA,
    title: { text: `${record.claim.id} [${record.tier}]: test loss versus ε`, subtitle: seedsNote(seeds) },
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
  const models = new Set(rows.map((r) => r.model)).size;
  const x = { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1 }, scale: { nice: false } } as const;
  const color = { field: 'metric', type: 'nominal', title: 'test accuracy', legend: LEGEND } as const;
  const dash = models > 1 ? { strokeDash: { field: 'model', type: 'nominal', title: 'model', legend: { ...LEGEND, symbolStrokeColor: '#444', encode: { symbols: { update: { stroke: { value: '#444' } } } } } } as const } : {};
  const detail = { detail: { field: 'model', type: 'nominal' } } as const;
  return {
    $schema: SCHEMA,
    title: { text: `${record.claim.id} [${record.tier}]: clean and adversarial accuracy over training`, subtitle: seedsNote(seeds) },
    width: 520,
    height: 300,
    data: { values: rows },
    layer: [
      {
        mark: { type: 'area', opacity: 0.15 },
        encoding: {
          x,
          y: { aggregate: 'min', field: 'accuracy', type: 'quantitative', title: 'accuracy', scale: { zero: false } },
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

/** Compiles vega-lite to vega and renders it headless (no canvas needed for SVG). */
export async function renderSvg(spec: vl.TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
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
}

/** The plots a record has data for (none when its experiment records no curves). */
export async function plotsFor(record: ResultRecord): Promise<Plot[]> {
  const base = `${record.claim.id}-${record.tier}`;
  const plots: Plot[] = [];
  const loss = lossRows(record.outcomes, record.claim.experiment);
  if (loss.length > 0) plots.push({ name: `${base}-loss-vs-eps.svg`, title: 'Loss versus ε', svg: await renderSvg(lossVsEpsSpec(record, loss)) });
  const acc = accuracyRows(record.outcomes, record.claim.experiment);
  if (acc.length > 0) plots.push({ name: `${base}-accuracy.svg`, title: 'Accuracy over epochs', svg: await renderSvg(accuracySpec(record, acc)) });
  const metrics = sweepPlotMetrics(record);
  const { rows, axes } = cellRows(record.outcomes, metrics);
  for (const metric of metrics) {
    const own = rows.filter((r) => r.metric === metric);
    if (own.length === 0) continue;
    plots.push({ name: `${base}-${metric}-cells.svg`, title: `${metric} per cell`, svg: await renderSvg(heatmapSpec(record, metric, own, axes)) });
    const x = numericAxis(own, axes);
    if (x) plots.push({ name: `${base}-${metric}-along-${x}.svg`, title: `${metric} along ${x}`, svg: await renderSvg(lineSpec(record, metric, own, axes, x)) });
  }
  return plots;
}
