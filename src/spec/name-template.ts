/**
 * Assertion and precondition names written from the parameters they test, so a run at
 * another ε (`--set evaluation.eps=12`, a copied spec) does not still say "ε = 6" on the
 * console, in its record and in the report. In a name:
 *
 * - `{evaluation.eps}`: that tier parameter (a path under the tier's `params`);
 * - `{threshold}`, `{tolerance}`: the check's own numbers;
 * - `|%` after either turns a fraction into percent (`{threshold|%}` → 15%), `|points` into
 *   percentage points (`{threshold|points}` → 10 points).
 *
 * A spec's names render to the same text as before at its own parameters, so records of
 * those runs are unchanged.
 */

export interface NameNumbers {
  threshold: number;
  tolerance?: number;
}

const PLACEHOLDER = /\{([A-Za-z_][\w.]*)(?:\|(%|points))?\}/g;

/** Up to 4 significant digits, no trailing zeros: 0.15 × 100 is 15, not 15.000000000000002. */
const num = (x: number) => String(Number(x.toPrecision(4)));

function lookup(params: unknown, path: string): unknown {
  let at: unknown = params;
  for (const key of path.split('.')) {
    if (at === null || typeof at !== 'object' || !Object.hasOwn(at, key)) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

/** The placeholders of `name` that name nothing in `params` (for the spec check), e.g. ['evaluation.epss']. */
export function unresolvedPlaceholders(name: string, params: unknown): string[] {
  return [...name.matchAll(PLACEHOLDER)]
    .map((m) => m[1])
    .filter((key) => key !== 'threshold' && key !== 'tolerance' && typeof lookup(params, key) !== 'number');
}

export function renderName(name: string, params: unknown, numbers: NameNumbers): string {
  return name.replace(PLACEHOLDER, (whole, key: string, unit?: string) => {
    const value = key === 'threshold' ? numbers.threshold : key === 'tolerance' ? numbers.tolerance : lookup(params, key);
    if (typeof value !== 'number') return whole;
    if (unit === '%') return `${num(value * 100)}%`;
    if (unit === 'points') {
      const pts = num(Math.abs(value) * 100);
      return `${pts} point${pts === '1' ? '' : 's'}`;
    }
    return num(value);
  });
}
