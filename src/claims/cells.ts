import type { Assertion, CellAssertion, CellCondition, Op } from '../spec/claim.ts';

/**
 * Assertions about the cells of a grid (the sweep kind). A cell's metrics are named
 * `metric{axis=value,…}`; an assertion written once for many cells —
 *
 *   { "inEveryCellWith": { "fraction": 1, "eps": ">= 16" }, "metric": "leak_gap_fgsm", "op": "above", … }
 *   { "metric": "leak_gap_fgsm", "risesWith": "eps", "inEveryCellWith": { "fraction": 1 }, … }
 *
 * — becomes one plain assertion per cell (or per neighbouring pair of cells along the axis), so
 * statistics, verdicts and the record treat them like any other: "every cell" holds when each
 * expanded assertion is reproduced, and one refuted cell refutes it.
 */

export interface CellName {
  base: string;
  /** Axis → value as written in the name. */
  coords: Map<string, string>;
  /** The text between the braces. */
  id: string;
}

const CELL = /^([^{}]+)\{([^{}]*)\}$/;

/** `leak_gap_fgsm{fraction=1,eps=16}` → its base metric and coordinates; undefined for a plain name. */
export function parseCellMetric(name: string): CellName | undefined {
  const m = CELL.exec(name);
  if (!m) return undefined;
  const coords = new Map<string, string>();
  for (const part of m[2].split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return undefined;
    coords.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return { base: m[1], coords, id: m[2] };
}

const COMPARATOR = /^\s*(>=|<=|!=|>|<|=)\s*(.+?)\s*$/;

/** A condition as written: a bare value is equality; a string may start with >=, >, <=, <, != or =. */
export function parseCondition(c: CellCondition): { op: string; value: string } {
  if (typeof c !== 'string') return { op: '=', value: String(c) };
  const m = COMPARATOR.exec(c);
  return m ? { op: m[1], value: m[2] } : { op: '=', value: c };
}

const numeric = (s: string) => s.trim() !== '' && Number.isFinite(Number(s));

/** Order comparisons are numeric; equality is numeric when both sides are numbers (1 = 1.0). */
export function satisfies(actual: string, c: CellCondition): boolean {
  const { op, value } = parseCondition(c);
  const both = numeric(actual) && numeric(value);
  if (op === '=' || op === '!=') {
    const eq = both ? Number(actual) === Number(value) : actual === value;
    return op === '=' ? eq : !eq;
  }
  if (!both) return false;
  const a = Number(actual);
  const v = Number(value);
  return op === '>=' ? a >= v : op === '>' ? a > v : op === '<=' ? a <= v : a < v;
}

export interface CellProblem {
  /** JSON pointer relative to the assertion. */
  pointer: string;
  reason: string;
}

export const isCellAssertion = (a: Assertion | CellAssertion): a is CellAssertion =>
  'inEveryCellWith' in a || 'risesWith' in a || 'fallsWith' in a;

function cellsOf(metricNames: readonly string[]): { cells: Map<string, CellName>; bases: Map<string, Set<string>>; axes: string[] } {
  const cells = new Map<string, CellName>();
  const bases = new Map<string, Set<string>>();
  const axes: string[] = [];
  for (const name of metricNames) {
    const c = parseCellMetric(name);
    if (!c) continue;
    if (!cells.has(c.id)) cells.set(c.id, c);
    if (!bases.has(c.base)) bases.set(c.base, new Set());
    bases.get(c.base)!.add(c.id);
    for (const axis of c.coords.keys()) if (!axes.includes(axis)) axes.push(axis);
  }
  return { cells, bases, axes };
}

/**
 * The plain assertions a cell assertion stands for, given the metrics the tier produces, or
 * the problems that stop it (an unknown axis or metric, no cell matching).
 */
export function expandCellAssertion(a: CellAssertion, metricNames: readonly string[]): { assertions: Assertion[]; problems: CellProblem[] } {
  const { cells, bases, axes } = cellsOf(metricNames);
  const problems: CellProblem[] = [];
  if (cells.size === 0) return { assertions: [], problems: [{ pointer: '', reason: 'the experiment produces no per-cell metrics (name{axis=value}); cell assertions need a sweep' }] };
  const where = a.inEveryCellWith ?? {};
  for (const axis of Object.keys(where)) {
    if (!axes.includes(axis)) problems.push({ pointer: `/inEveryCellWith/${axis}`, reason: `no axis "${axis}"; the axes are: ${axes.join(', ')}` });
  }
  const along = a.risesWith ?? a.fallsWith;
  const alongField = a.risesWith !== undefined ? 'risesWith' : 'fallsWith';
  if (along !== undefined && !axes.includes(along)) problems.push({ pointer: `/${alongField}`, reason: `no axis "${along}"; the axes are: ${axes.join(', ')}` });
  for (const field of ['metric', 'minus'] as const) {
    const m = a[field];
    if (m !== undefined && !bases.has(m)) problems.push({ pointer: `/${field}`, reason: `"${m}" is not a per-cell metric; the cells have: ${[...bases.keys()].join(', ')}` });
  }
  if (problems.length > 0) return { assertions: [], problems };

  const has = (m: string | undefined, id: string) => m === undefined || bases.get(m)!.has(id);
  const selected = [...cells.values()].filter((c) => Object.entries(where).every(([axis, cond]) => satisfies(c.coords.get(axis)!, cond)) && has(a.metric, c.id) && has(a.minus, c.id));
  const keep = { tolerance: a.tolerance, ...(a.tiers ? { tiers: a.tiers } : {}) };
  const cellOf = (metric: string, c: CellName) => `${metric}{${c.id}}`;

  if (along === undefined) {
    if (selected.length === 0) return { assertions: [], problems: [{ pointer: '/inEveryCellWith', reason: 'no cell matches these conditions' }] };
    return {
      problems,
      assertions: selected.map((c) => ({
        name: `${a.name} — {${c.id}}`,
        metric: cellOf(a.metric, c),
        ...(a.minus !== undefined ? { minus: cellOf(a.minus, c) } : {}),
        op: a.op as Op,
        threshold: a.threshold ?? 0,
        ...keep,
      })),
    };
  }

  // Neighbours along the axis, within each group of cells equal on every other axis.
  const groups = new Map<string, CellName[]>();
  for (const c of selected) {
    const key = axes.filter((x) => x !== along).map((x) => `${x}=${c.coords.get(x)}`).join(',');
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(c);
  }
  const out: Assertion[] = [];
  for (const [key, group] of groups) {
    const values = group.map((c) => c.coords.get(along)!);
    // Numeric levels in numeric order; named levels in the order the grid lists them.
    if (values.every(numeric)) group.sort((x, y) => Number(x.coords.get(along)) - Number(y.coords.get(along)));
    for (let i = 1; i < group.length; i++) {
      const lo = group[i - 1];
      const hi = group[i];
      out.push({
        name: `${a.name} — ${key ? `{${key}}: ` : ''}${along} ${lo.coords.get(along)} → ${hi.coords.get(along)}`,
        metric: cellOf(a.metric, hi),
        minus: cellOf(a.metric, lo),
        op: a.risesWith !== undefined ? 'above' : 'below',
        threshold: a.threshold ?? 0,
        ...keep,
      });
    }
  }
  if (out.length === 0) return { assertions: [], problems: [{ pointer: `/${alongField}`, reason: `no two matching cells differ only in "${along}"` }] };
  return { assertions: out, problems };
}

/** Every assertion as plain ones: cell assertions expanded, the rest as they are. */
export function expandAssertions(assertions: readonly (Assertion | CellAssertion)[], metricNames: readonly string[]): Assertion[] {
  return assertions.flatMap((a) => {
    if (!isCellAssertion(a)) return [a];
    const { assertions: plain, problems } = expandCellAssertion(a, metricNames);
    if (problems.length > 0) throw new Error(`assertion "${a.name}": ${problems.map((p) => `${p.pointer}: ${p.reason}`).join('; ')}`);
    return plain;
  });
}
