import type * as vl from 'vega-lite';
import { parseCellMetric } from '../claims/cells.ts';
import type { ResultRecord, SeedResult } from '../results/record-types.ts';

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

/** Cell means as colour, with the mean printed in each cell; rows are the other axes' combinations. */
export function heatmapSpec(record: Pick<ResultRecord, 'claim' | 'tier'>, metric: string, rows: CellRow[], axes: string[]): vl.TopLevelSpec {
  const x = axes[axes.length - 1];
  const others = axes.slice(0, -1);
  const data = rows.filter((r) => r.metric === metric).map((r) => ({ ...r, row: others.map((a) => `${a}=${r[a]}`).join(', ') || metric }));
  const xEnc = { field: x, type: 'ordinal', title: x, sort: null } as const;
  const yEnc = { field: 'row', type: 'ordinal', title: others.join(', ') || null, sort: null } as const;
  return {
    $schema: SCHEMA,
    title: { text: `${record.claim.id} [${record.tier}]: ${metric} per cell`, subtitle: seedsNote(data) },
    data: { values: data },
    width: { step: 70 },
    height: { step: 40 },
    encoding: { x: xEnc, y: yEnc },
    layer: [
      {
        mark: 'rect',
        encoding: {
          color: { aggregate: 'mean', field: 'value', type: 'quantitative', title: metric, scale: { scheme: 'redblue', domainMid: 0, reverse: true } },
        },
      },
      {
        mark: { type: 'text', fontSize: 11 },
        encoding: { text: { aggregate: 'mean', field: 'value', type: 'quantitative', format: '.3f' } },
      },
    ],
  } as vl.TopLevelSpec;
}

/** The last axis whose values are all numbers: the x of the line plot. */
export function numericAxis(rows: CellRow[], axes: string[]): string | undefined {
  return [...axes].reverse().find((a) => rows.every((r) => typeof r[a] === 'number'));
}

export function lineSpec(record: Pick<ResultRecord, 'claim' | 'tier'>, metric: string, rows: CellRow[], axes: string[], x: string): vl.TopLevelSpec {
  const others = axes.filter((a) => a !== x);
  const data = rows.filter((r) => r.metric === metric).map((r) => ({ ...r, series: others.map((a) => `${a}=${r[a]}`).join(', ') || metric }));
  const xEnc = { field: x, type: 'quantitative', title: x, scale: { nice: false } } as const;
  const color = { field: 'series', type: 'nominal', title: others.join(', ') || null, legend: { orient: 'bottom', labelLimit: 0 } } as const;
  return {
    $schema: SCHEMA,
    title: { text: `${record.claim.id} [${record.tier}]: ${metric} along ${x}`, subtitle: `${seedsNote(data)}, band: min–max` },
    width: 420,
    height: 260,
    data: { values: data },
    layer: [
      { mark: { type: 'rule', strokeDash: [4, 4], color: '#888' }, encoding: { y: { datum: 0 } } },
      {
        mark: { type: 'area', opacity: 0.2 },
        encoding: { x: xEnc, y: { aggregate: 'min', field: 'value', type: 'quantitative', title: metric }, y2: { aggregate: 'max', field: 'value' }, color },
      },
      { mark: { type: 'line', point: true }, encoding: { x: xEnc, y: { aggregate: 'mean', field: 'value', type: 'quantitative' }, color } },
    ],
  } as vl.TopLevelSpec;
}
