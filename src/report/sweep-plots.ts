import type * as vl from 'vega-lite';
import { parseCellMetric } from '../claims/cells.ts';
import type { ResultRecord, SeedResult } from '../results/record-types.ts';
import { metricWords, scaleOf, show, unitOf, unitWord } from './units.ts';

/**
 * A sweep's figures: per base metric, a heat map of the cell means (axes against axes) and a
 * line plot along the last numeric axis with one line per combination of the other axes
 * (mean over seeds, band min–max). Cells are read back from metric names `metric{axis=v,…}`.
 */

export interface CellRow {
  seed: number;
  metric: string;
  /** The cell's coordinates in axis order, e.g. "fraction=1,eps=16". */
  cell: string;
  value: number;
  /** Axis → value (numeric when it reads as a number). */
  [axis: string]: string | number;
}

const asValue = (s: string): string | number => (s.trim() !== '' && Number.isFinite(Number(s)) ? Number(s) : s);

/** Per-cell values of `metrics` in finished seeds, with the axes in grid order. */
export function cellRows(outcomes: readonly SeedResult[], metrics: readonly string[]): { rows: CellRow[]; axes: string[] } {
  const rows: CellRow[] = [];
  const axes: string[] = [];
  for (const o of outcomes) {
    if (o.status !== 'ok') continue;
    for (const [name, value] of Object.entries(o.metrics)) {
      const c = parseCellMetric(name);
      if (!c || !metrics.includes(c.base)) continue;
      const row: CellRow = { seed: o.seed, metric: c.base, cell: c.id, value };
      for (const [axis, v] of c.coords) {
        if (!axes.includes(axis)) axes.push(axis);
        row[axis] = asValue(v);
      }
      rows.push(row);
    }
  }
  return { rows, axes };
}

/** The spec's `plot` list, else the base metrics its (expanded) assertions name. */
export function sweepPlotMetrics(record: Pick<ResultRecord, 'params' | 'claim'>): string[] {
  const listed = (record.params as { plot?: unknown }).plot;
  if (Array.isArray(listed)) return listed.filter((m): m is string => typeof m === 'string');
  const out: string[] = [];
  for (const a of record.claim.assertions ?? []) {
    for (const m of [a.metric, a.minus]) {
      const base = m === undefined ? undefined : parseCellMetric(m)?.base;
      if (base && !out.includes(base)) out.push(base);
    }
  }
  return out;
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const seedsNote = (rows: CellRow[]) => {
  const n = new Set(rows.map((r) => r.seed)).size;
  return `mean over ${n} seed${n === 1 ? '' : 's'}`;
};

/** Axis names in words where the report knows them. */
const AXIS_WORDS: Record<string, string> = { fraction: 'adversarial fraction', eps: 'training ε' };
export const axisWords = (axis: string) => AXIS_WORDS[axis] ?? axis;

/** A level's name in words where it follows the specs' naming: `halfNormal12` → "|N(0, 12)|", `fixed8` → "fixed 8". */
export function levelWords(v: string | number): string | number {
  if (typeof v === 'number') return v;
  const h = /^halfNormal(\d+(?:\.\d+)?)$/.exec(v);
  if (h) return `|N(0, ${h[1]})|`;
  const f = /^fixed(\d+(?:\.\d+)?)$/.exec(v);
  return f ? `fixed ${f[1]}` : v;
}

/** Text on a cell: white where the fill is dark (the scale's far ends), near-black elsewhere. */
export const DARK_CELL = 0.6;

/**
 * Cell means as colour, each mean printed in its cell in % or points; rows are the other axes'
 * combinations. Means are taken here, not by vega, so the text colour can follow the fill:
 * a diverging scale (gaps, centred on 0) is dark at both ends, a sequential one at its top.
 */
export function heatmapSpec(record: Pick<ResultRecord, 'claim' | 'tier'>, metric: string, rows: CellRow[], axes: string[]): vl.TopLevelSpec {
  const x = axes[axes.length - 1];
  const others = axes.slice(0, -1);
  const u = unitOf({ metric });
  const k = scaleOf(u);
  const diverging = u === 'points';
  const cells = new Map<string, { x: string | number; row: string; values: number[] }>();
  for (const r of rows.filter((r) => r.metric === metric)) {
    // One other axis: its values label the rows (the axis title names it); more: name=value pairs.
    const row = others.length === 1 ? String(levelWords(r[others[0]])) : others.map((a) => `${a}=${levelWords(r[a])}`).join(', ') || metricWords(metric);
    const key = `${row}|${r[x]}`;
    if (!cells.has(key)) cells.set(key, { x: levelWords(r[x]), row, values: [] });
    cells.get(key)!.values.push(r.value * k);
  }
  const means = [...cells.values()].map((c) => ({ [x]: c.x, row: c.row, mean: c.values.reduce((a, b) => a + b, 0) / c.values.length, n: c.values.length }));
  const lo = Math.min(...means.map((m) => m.mean));
  const hi = Math.max(...means.map((m) => m.mean));
  const reach = Math.max(Math.abs(lo), Math.abs(hi)) || 1;
  const domain = diverging ? [-reach, reach] : [Math.min(lo, hi - 1e-9), hi];
  const data = means.map((m) => {
    const t = diverging ? Math.abs(m.mean) / reach : (m.mean - domain[0]) / (domain[1] - domain[0] || 1);
    return { ...m, label: show(m.mean / k, u, { suffix: false }), dark: t > DARK_CELL };
  });
  const xEnc = { field: x, type: 'ordinal', title: axisWords(x), sort: null, axis: { labelAngle: 0, labelFontSize: 12, titleFontSize: 12 } } as const;
  const yEnc = { field: 'row', type: 'ordinal', title: others.map(axisWords).join(', ') || null, sort: null, axis: { labelFontSize: 12, titleFontSize: 12 } } as const;
  const n = new Set(rows.map((r) => r.seed)).size;
  return {
    $schema: SCHEMA,
    title: {
      text: `${record.claim.id} [${record.tier}]: ${metricWords(metric)}${unitWord(u) ? ` (${unitWord(u)})` : ''}`,
      subtitle: `mean over ${n} seed${n === 1 ? '' : 's'} in each training setting`,
      anchor: 'start',
    },
    data: { values: data },
    width: { step: 120 },
    height: { step: 56 },
    encoding: { x: xEnc, y: yEnc },
    layer: [
      {
        mark: 'rect',
        encoding: {
          color: {
            field: 'mean',
            type: 'quantitative',
            title: unitWord(u) || metricWords(metric),
            scale: diverging ? { scheme: 'redblue', domain, domainMid: 0, reverse: true } : { scheme: 'blues', domain },
          },
        },
      },
      {
        mark: { type: 'text', fontSize: 14, fontWeight: 'bold' },
        encoding: { text: { field: 'label' }, color: { condition: { test: 'datum.dark', value: 'white' }, value: '#1f2328' } },
      },
    ],
    config: { view: { stroke: null } },
  } as vl.TopLevelSpec;
}

/** The last axis whose values are all numbers: the x of the line plot. */
export function numericAxis(rows: CellRow[], axes: string[]): string | undefined {
  return [...axes].reverse().find((a) => rows.every((r) => typeof r[a] === 'number'));
}

export function lineSpec(record: Pick<ResultRecord, 'claim' | 'tier'>, metric: string, rows: CellRow[], axes: string[], x: string): vl.TopLevelSpec {
  const others = axes.filter((a) => a !== x);
  const data = rows.filter((r) => r.metric === metric).map((r) => ({ ...r, series: others.length === 1 ? String(levelWords(r[others[0]])) : others.map((a) => `${a}=${levelWords(r[a])}`).join(', ') || metricWords(metric) }));
  const u = unitOf({ metric });
  const k = scaleOf(u);
  const scaled = data.map((r) => ({ ...r, value: r.value * k }));
  const xEnc = { field: x, type: 'quantitative', title: axisWords(x), scale: { nice: false } } as const;
  const color = { field: 'series', type: 'nominal', title: others.map(axisWords).join(', ') || null, legend: { orient: 'bottom', labelLimit: 0 } } as const;
  const yTitle = `${metricWords(metric)}${unitWord(u) ? ` (${unitWord(u)})` : ''}`;
  return {
    $schema: SCHEMA,
    title: { text: `${record.claim.id} [${record.tier}]: ${metricWords(metric)} along ${axisWords(x)}`, subtitle: `${seedsNote(data)}, band: min–max`, anchor: 'start' },
    width: 420,
    height: 260,
    data: { values: scaled },
    layer: [
      { mark: { type: 'rule', strokeDash: [4, 4], color: '#888' }, encoding: { y: { datum: 0 } } },
      {
        mark: { type: 'area', opacity: 0.2 },
        encoding: { x: xEnc, y: { aggregate: 'min', field: 'value', type: 'quantitative', title: yTitle }, y2: { aggregate: 'max', field: 'value' }, color },
      },
      { mark: { type: 'line', point: true }, encoding: { x: xEnc, y: { aggregate: 'mean', field: 'value', type: 'quantitative' }, color } },
    ],
  } as vl.TopLevelSpec;
}
