import type * as vl from 'vega-lite';
import { parseCellMetric } from '../claims/cells.ts';
import { claimRegion } from '../claims/verdict.ts';
import type { AssertionResult, PreconditionResult, ResultRecord } from '../results/record-types.ts';
import { isAccuracy, isGap, metricWords, quantityWords, scaleOf, show, showInterval, showRegion, unitOf, unitWord, type Unit } from './units.ts';

/**
 * What each assertion and precondition measured, drawn the way the verdict reads it: the claim
 * region shaded, each seed's value a dot, the mean with its 95% interval a bar coloured by the
 * verdict. And the accuracies an assertion compares (FGSM against BIM, a probe on true-label
 * signs against one on random labels) side by side per seed. Pure data → vega-lite spec.
 */

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
export const VERDICT_COLOUR = { reproduced: '#1a7f37', holds: '#1a7f37', refuted: '#cf222e', fails: '#cf222e', inconclusive: '#9a6700', error: '#cf222e' } as const;
const REGION = '#2da44e';

/** Breaks text into lines of at most `width` characters at spaces: vega titles do not wrap. */
export function wrap(text: string, width = 88): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

type Check = (AssertionResult & { kind: 'assertion' }) | (PreconditionResult & { kind: 'precondition' });

export interface CheckRow {
  /** The record's metric (and `minus`), as the row's values are computed from them. */
  metric: string;
  minus?: string;
  seed: number;
  value: number;
}

const W = 540;
const H = 30;

function checkChart(c: Check): { spec: Record<string, unknown>; rows: CheckRow[] } {
  const u = unitOf(c);
  const k = scaleOf(u);
  const rows: CheckRow[] = [];
  c.seeds.forEach((seed, i) => {
    const v = c.values[i];
    if (v !== null && Number.isFinite(v)) rows.push({ metric: c.metric, ...(c.minus === undefined ? {} : { minus: c.minus }), seed, value: v * k });
  });
  const region = claimRegion(c.op, c.threshold, c.tolerance);
  const bounds = [region.low, region.high].filter(Number.isFinite).map((b) => b * k);
  const interval = c.kind === 'assertion' && c.mean !== null ? { mean: c.mean * k, low: c.ci.low === null ? null : c.ci.low * k, high: c.ci.high === null ? null : c.ci.high * k } : undefined;
  const seen = [...rows.map((r) => r.value), ...bounds, ...(interval ? [interval.mean, interval.low, interval.high].filter((x): x is number => x !== null) : [])];
  let lo = Math.min(...seen);
  let hi = Math.max(...seen);
  const span = hi - lo || Math.max(Math.abs(hi) * 0.2, u === 'raw' ? 0.01 : 2);
  lo -= span * 0.12;
  hi += span * 0.12;
  const clip = (x: number) => Math.min(hi, Math.max(lo, x));
  const verdict = c.kind === 'assertion' ? c.verdict : c.holds ? 'holds' : 'fails';
  const colour = VERDICT_COLOUR[verdict];
  const what = c.kind === 'assertion' ? showInterval(c.mean, c.ci, u) : `per seed ${c.seeds.map((s, i) => `${s}: ${show(c.values[i], u)}`).join(', ')}`;
  const x = { type: 'quantitative', scale: { domain: [lo, hi], nice: false, zero: false }, axis: { title: unitWord(u) || null, grid: false, tickCount: 6 } } as const;
  const mid = { value: H / 2 };
  const layer: Record<string, unknown>[] = [
    {
      data: { values: [{ a: clip(region.low * k), b: clip(region.high * k) }] },
      mark: { type: 'rect', color: REGION, opacity: 0.14 },
      encoding: { x: { field: 'a', ...x }, x2: { field: 'b' } },
    },
    ...(bounds.length > 0
      ? [{ data: { values: bounds.map((b) => ({ b })) }, mark: { type: 'rule', color: REGION, strokeDash: [4, 3] }, encoding: { x: { field: 'b', ...x } } }]
      : []),
    { data: { values: rows }, mark: { type: 'point', filled: true, size: 46, color: '#57606a', opacity: 0.85 }, encoding: { x: { field: 'value', ...x }, y: mid } },
  ];
  if (interval?.low != null && interval.high !== null) {
    layer.push({ data: { values: [{ a: clip(interval.low), b: clip(interval.high!) }] }, mark: { type: 'rule', color: colour, strokeWidth: 3 }, encoding: { x: { field: 'a', ...x }, x2: { field: 'b' }, y: mid } });
  }
  if (interval) layer.push({ data: { values: [{ m: interval.mean }] }, mark: { type: 'tick', color: colour, thickness: 3, size: 22 }, encoding: { x: { field: 'm', ...x }, y: mid } });
  const head = `${c.kind === 'assertion' ? 'Assertion' : 'Precondition'} · ${verdict}: `;
  return {
    rows,
    spec: {
      title: {
        text: wrap(head + c.name),
        subtitle: wrap(`${quantityWords(c)} ${showRegion(c)} · ${what}`, 100),
        anchor: 'start',
        fontSize: 12,
        subtitleFontSize: 11,
        color: colour,
        subtitleColor: '#333',
      },
      width: W,
      height: H,
      layer,
    },
  };
}

/**
 * One panel per assertion and precondition of the record. `metrics` names every record
 * metric a panel draws, read back from the panels' own rows.
 */
export function checksSpec(record: Pick<ResultRecord, 'claim' | 'tier' | 'assertions' | 'preconditions'>): { spec: vl.TopLevelSpec; metrics: string[] } | undefined {
  const checks: Check[] = [...record.assertions.map((a) => ({ ...a, kind: 'assertion' as const })), ...(record.preconditions ?? []).map((p) => ({ ...p, kind: 'precondition' as const }))];
  if (checks.length === 0) return undefined;
  const charts = checks.map(checkChart);
  const metrics = [...new Set(charts.flatMap((c) => c.rows.flatMap((r) => (r.minus === undefined ? [r.metric] : [r.metric, r.minus]))))];
  return {
    metrics,
    spec: {
      $schema: SCHEMA,
      title: {
        text: `${record.claim.id} [${record.tier}]: what each check measured`,
        subtitle: 'green band: where the check holds · dots: seeds · bar: mean and 95% interval (assertions)',
        anchor: 'start',
        fontSize: 14,
      },
      spacing: 26,
      vconcat: charts.map((c) => c.spec),
      config: { view: { stroke: null }, axis: { labelFontSize: 11 } },
    } as unknown as vl.TopLevelSpec,
  };
}

export interface QuantityRow {
  metric: string;
  label: string;
  seed: string;
  value: number;
}

/** The `clean_acc` beside a metric (same part and cell), the reference an accuracy is read against. */
function cleanSibling(metric: string): string {
  const cell = parseCellMetric(metric);
  const name = cell ? cell.base : metric;
  const dot = name.lastIndexOf('.');
  const clean = `${name.slice(0, dot + 1)}${name.slice(dot + 1).startsWith('control_') ? 'control_' : ''}clean_acc`;
  return cell ? `${clean}{${cell.id}}` : clean;
}

/**
 * The accuracies (%) and gaps (points) the assertions name, and the clean accuracy beside each
 * accuracy, as a bar (mean) with each seed's dot. Cell metrics are left to the heat maps.
 */
export function quantitiesSpec(record: Pick<ResultRecord, 'claim' | 'tier' | 'assertions' | 'outcomes'>): { spec: vl.TopLevelSpec; metrics: string[] } | undefined {
  const named: string[] = [];
  const add = (m: string | undefined) => {
    if (m !== undefined && !named.includes(m) && !parseCellMetric(m) && (isAccuracy(m) || isGap(m))) named.push(m);
  };
  for (const a of record.assertions) {
    for (const m of [a.metric, a.minus]) {
      if (m !== undefined && isAccuracy(m)) add(cleanSibling(m));
      add(m);
    }
  }
  const ok = record.outcomes.filter((o) => o.status === 'ok');
  const present = named.filter((m) => ok.some((o) => Number.isFinite(o.metrics[m])));
  if (present.length < 2) return undefined;
  const groups: [Unit, string[]][] = [
    ['percent', present.filter(isAccuracy)],
    ['points', present.filter(isGap)],
  ];
  const charts = groups
    .filter(([, ms]) => ms.length > 0)
    .map(([u, ms]) => {
      const rows: QuantityRow[] = ok.flatMap((o) => ms.filter((m) => Number.isFinite(o.metrics[m])).map((m) => ({ metric: m, label: metricWords(m), seed: `seed ${o.seed}`, value: o.metrics[m] * scaleOf(u) })));
      const y = { field: 'label', type: 'nominal', title: null, sort: ms.map(metricWords), axis: { labelLimit: 0, labelFontSize: 12 } } as const;
      const x = { type: 'quantitative', title: u === 'percent' ? 'accuracy (%)' : 'gap (points)', ...(u === 'percent' ? { scale: { domain: [0, 100] } } : {}) } as const;
      return {
        rows,
        spec: {
          width: 440,
          height: { step: 30 },
          data: { values: rows },
          encoding: { y },
          layer: [
            { mark: { type: 'bar', color: '#d0d7de', height: { band: 0.7 } }, encoding: { x: { aggregate: 'mean', field: 'value', ...x } } },
            ...(u === 'points' ? [{ mark: { type: 'rule', color: '#333' }, encoding: { x: { datum: 0, type: 'quantitative' } } }] : []),
            { mark: { type: 'point', filled: true, size: 60, opacity: 0.9 }, encoding: { x: { field: 'value', ...x }, color: { field: 'seed', type: 'nominal', title: null, legend: { orient: 'bottom' } } } },
            {
              mark: { type: 'text', align: 'left', dx: 6, fontSize: 11, color: '#24292f' },
              encoding: { x: { aggregate: 'max', field: 'value', ...x }, text: { aggregate: 'mean', field: 'value', type: 'quantitative', format: '.1f' } },
            },
          ],
        },
      };
    });
  return {
    metrics: [...new Set(charts.flatMap((c) => c.rows.map((r) => r.metric)))],
    spec: {
      $schema: SCHEMA,
      title: { text: `${record.claim.id} [${record.tier}]: the quantities its assertions compare`, subtitle: 'bar and number: mean over seeds · dots: each seed', anchor: 'start', fontSize: 14 },
      vconcat: charts.map((c) => c.spec),
      config: { view: { stroke: null } },
    } as unknown as vl.TopLevelSpec,
  };
}
