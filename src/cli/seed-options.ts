import { InvalidArgumentError } from 'commander';

/**
 * `--seeds` and `--seed` as strict as a spec's own seeds (integers ≥ 0, no repeats): a stray
 * comma or an empty value must not turn into seed 0, and a bad seed must be refused before
 * the backend starts rather than by the record schema after a run.
 */

const SEED = /^\d+$/;

function parseSeed(text: string, option: string): number {
  const t = text.trim();
  if (!SEED.test(t) || !Number.isSafeInteger(Number(t))) {
    throw new InvalidArgumentError(
      t === '' ? `${option}: an empty seed; give integers ≥ 0, comma-separated, e.g. 1,2,3` : `${option}: "${t}" is not a seed; seeds are integers ≥ 0, e.g. 1,2,3`,
    );
  }
  return Number(t);
}

/** `--seeds 1,2,3`: one or more seeds, each an integer ≥ 0, no empty entries, no repeats. */
export function seedList(value: string): number[] {
  const seeds = value.split(',').map((s) => parseSeed(s, '--seeds'));
  const dup = seeds.find((s, i) => seeds.indexOf(s) !== i);
  if (dup !== undefined) throw new InvalidArgumentError(`--seeds: seed ${dup} is given twice`);
  return seeds;
}

/** `--seed N`: exactly one seed (one job of a matrix); a list belongs in --seeds. */
export function oneSeed(value: string): number[] {
  if (value.includes(',')) throw new InvalidArgumentError(`--seed takes one seed (got "${value}"); use --seeds ${value} for several`);
  return [parseSeed(value, '--seed')];
}
