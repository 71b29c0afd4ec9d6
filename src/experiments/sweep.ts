import { schemaValidator } from '../util/schema-validator.ts';
import { setPath } from '../util/dotted-path.ts';
import { kindLookup } from './kind-lookup.ts';
import type { Curves, ExperimentKind, SeedOutcome } from './types.ts';

/**
 * One experiment kind run over a grid: each axis changes one dotted parameter path (as
 * `--set` names it) or, for a named axis, several paths at once per level. Every cell runs
 * with the seed the claim runs, and its metrics come back as `metric{axis=value,…}` — the
 * names assertions address cells by (see src/claims/cells.ts).
 */
export type AxisValue = number | string | boolean;

export type Axis =
  | { name: string; path: string; values: AxisValue[] }
  /** Level label → the paths it sets, e.g. the write-up's protocol against an all-adversarial one. */
  | { name: string; levels: Record<string, Record<string, unknown>> };

export interface SweepParams {
  /** The inner experiment kind, and its params before a cell changes them. */
  experiment: string;
  params: Record<string, unknown>;
  axes: Axis[];
  /** Base metrics the report plots per cell; absent: those the claim's assertions name. */
  plot?: string[];
}

export interface Cell {
  /** `axis=value,…` in axis order: the part of a metric name between braces. */
  id: string;
  coords: Record<string, AxisValue>;
  params: Record<string, unknown>;
}

const NAME = '^[A-Za-z][A-Za-z0-9_-]*$';

function levelsOf(axis: Axis): { value: AxisValue; sets: [string, unknown][] }[] {
  if ('path' in axis) return axis.values.map((value) => ({ value, sets: [[axis.path, value]] }));
  return Object.entries(axis.levels).map(([value, sets]) => ({ value, sets: Object.entries(sets) }));
}

/** Every cell of the grid, the first axis slowest; each with its own copy of the params. */
export function cellsOf(p: Pick<SweepParams, 'params' | 'axes'>): Cell[] {
  let cells: Cell[] = [{ id: '', coords: {}, params: structuredClone(p.params) }];
  for (const axis of p.axes) {
    cells = cells.flatMap((c) =>
      levelsOf(axis).map(({ value, sets }) => {
        const params = structuredClone(c.params);
        for (const [path, v] of sets) setPath(params, path.split('.'), structuredClone(v));
        const part = `${axis.name}=${String(value)}`;
        return { id: c.id ? `${c.id},${part}` : part, coords: { ...c.coords, [axis.name]: value }, params };
      }),
    );
  }
  return cells;
}

export const cellMetric = (metric: string, cellId: string) => `${metric}{${cellId}}`;

export function sweepKind(kinds: ExperimentKind<any>[]): ExperimentKind<SweepParams> {
  const kindOf = kindLookup(kinds, 'sweep');
  // A cell's params are the inner kind's, checked after the axes changed them.
  const validatorOf = (name: string) => schemaValidator(kindOf(name).paramsSchema, 'strict');
  return {
    name: 'sweep',
    paramsSchema: {
      type: 'object',
      additionalProperties: false,
      required: ['experiment', 'params', 'axes'],
      properties: {
        experiment: { enum: kinds.map((k) => k.name) },
        params: { type: 'object' },
        axes: {
          type: 'array',
          minItems: 1,
          items: {
            oneOf: [
              {
                type: 'object',
                additionalProperties: false,
                required: ['name', 'path', 'values'],
                properties: {
                  name: { type: 'string', pattern: NAME },
                  path: { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9_]*(\\.[A-Za-z0-9_]+)*$' },
                  values: { type: 'array', minItems: 1, uniqueItems: true, items: { anyOf: [{ type: 'number' }, { type: 'string' }, { type: 'boolean' }] } },
                },
              },
              {
                type: 'object',
                additionalProperties: false,
                required: ['name', 'levels'],
                properties: {
                  name: { type: 'string', pattern: NAME },
                  levels: {
                    type: 'object',
                    minProperties: 1,
                    propertyNames: { pattern: NAME },
                    // An empty level is the inner params as they are (e.g. the write-up's protocol).
                    additionalProperties: { type: 'object' },
                  },
                },
              },
            ],
          },
        },
        plot: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', minLength: 1 } },
      },
    },
    problems(p) {
      const out: { pointer: string; reason: string }[] = [];
      const names = new Set<string>();
      p.axes.forEach((a, i) => {
        if (names.has(a.name)) out.push({ pointer: `/axes/${i}/name`, reason: `duplicate axis name "${a.name}"` });
        names.add(a.name);
      });
      const validate = validatorOf(p.experiment);
      // Each cell is checked as the inner kind's params; the first cell that breaks a rule names it.
      const seen = new Set<string>();
      for (const cell of cellsOf(p)) {
        if (validate(cell.params)) continue;
        for (const e of validate.errors ?? []) {
          const key = `${e.instancePath} ${e.message}`;
          if (seen.has(key)) continue;
          seen.add(key);
          const detail = e.keyword === 'additionalProperties' ? ` '${String((e.params as { additionalProperty: string }).additionalProperty)}'` : '';
          out.push({
            pointer: '/axes',
            reason: `cell {${cell.id}}: ${p.experiment} params ${e.instancePath || '(root)'} ${e.message}${detail} — check the axis paths and values`,
          });
        }
      }
      for (const m of p.plot ?? []) {
        const known = kindOf(p.experiment).metricNames(cellsOf(p)[0].params);
        if (!known.includes(m)) out.push({ pointer: '/plot', reason: `"${m}" is not a metric of ${p.experiment}; it produces: ${known.join(', ')}` });
      }
      return out;
    },
    metricNames(p) {
      const inner = kindOf(p.experiment);
      return cellsOf(p).flatMap((c) => inner.metricNames(c.params).map((m) => cellMetric(m, c.id)));
    },
    trainings(p) {
      const inner = kindOf(p.experiment);
      const cells = cellsOf(p).map((c) => inner.trainings?.(c.params)?.map((t) => ({ ...t, role: `{${c.id}}:${t.role}` })));
      return cells.every((t) => t !== undefined) ? cells.flat() : undefined;
    },
    async run(p, ctx): Promise<SeedOutcome> {
      const inner = kindOf(p.experiment);
      const metrics: Record<string, number> = {};
      const curves: Curves = {};
      const rates: number[] = [];
      for (const cell of cellsOf(p)) {
        const out = await inner.run(cell.params, ctx);
        for (const [k, v] of Object.entries(out.metrics)) metrics[cellMetric(k, cell.id)] = v;
        for (const [k, v] of Object.entries(out.curves)) curves[`{${cell.id}}:${k}`] = v;
        if (out.imagesPerSecond) rates.push(out.imagesPerSecond);
      }
      return { metrics, curves, imagesPerSecond: rates.length ? rates.reduce((a, b) => a + b) / rates.length : undefined };
    },
  };
}
