// Narrows the full tier's claim × seed matrix to what one run of
// .github/workflows/gpu-claims.yml was asked for (its `claims` and `seeds` inputs), and
// prints it as a step output for `strategy.matrix: ${{ fromJSON(...) }}`.
//
//   label-leak list --json --matrix full | tsx scripts/gpu-matrix.ts --claims "a b" --seeds 1,2
//
// Empty inputs (and every scheduled run) keep the whole matrix.
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { Ajv } from 'ajv';

export interface MatrixEntry {
  claim: string;
  seed: number;
}
/** The shape GitHub Actions takes as a matrix: one job per `include` entry. */
export interface Matrix {
  include: MatrixEntry[];
}

/** GitHub caps a matrix at 256 jobs per workflow run. */
export const MAX_JOBS = 256;

// `label-leak list --json --matrix TIER` prints {claims: [...], matrix: {tier, include}}.
const listSchema = {
  type: 'object',
  required: ['matrix'],
  properties: {
    matrix: {
      type: 'object',
      required: ['include'],
      properties: {
        include: {
          type: 'array',
          items: {
            type: 'object',
            required: ['claim', 'seed'],
            properties: { claim: { type: 'string', minLength: 1 }, seed: { type: 'integer' } },
          },
        },
      },
    },
  },
} as const;
const validateList = new Ajv({ allErrors: true }).compile<{ matrix: Matrix }>(listSchema);

/**
 * Takes the matrix out of `label-leak list --json --matrix TIER` output, keeping only the
 * fields the jobs use, with a message that names the fault.
 */
export function parseMatrix(json: string): Matrix {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (e) {
    throw new Error(`label-leak list --json --matrix did not print JSON: ${(e as Error).message}`);
  }
  if (!validateList(value)) {
    const why = (validateList.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
    throw new Error(`label-leak list --json --matrix printed no {matrix: {include: [{claim, seed}]}}: ${why}`);
  }
  return { include: value.matrix.include.map(({ claim, seed }) => ({ claim, seed })) };
}

/** Splits a workflow input such as "a, b c" into its words. */
export function words(input: string | undefined): string[] {
  return (input ?? '').split(/[\s,]+/).filter((w) => w !== '');
}

export function parseSeeds(input: string | undefined): number[] {
  return words(input).map((w) => {
    const n = Number(w);
    if (!Number.isInteger(n)) throw new Error(`seeds are integers, comma-separated; got '${w}'`);
    return n;
  });
}

/**
 * Keeps the named claims (all when none is named); with seeds given, runs each kept claim
 * on exactly those seeds instead of the seeds its spec names for the tier.
 */
export function selectMatrix(full: Matrix, claims: string[], seeds: number[]): Matrix {
  const known = [...new Set(full.include.map((e) => e.claim))];
  const unknown = claims.filter((c) => !known.includes(c));
  if (unknown.length > 0) {
    throw new Error(`unknown claim(s) ${unknown.join(', ')}; the full tier has: ${known.join(', ')}`);
  }
  const kept = claims.length === 0 ? full.include : full.include.filter((e) => claims.includes(e.claim));
  const include =
    seeds.length === 0
      ? kept
      : [...new Set(kept.map((e) => e.claim))].flatMap((claim) => [...new Set(seeds)].map((seed) => ({ claim, seed })));
  if (include.length === 0) throw new Error('the selection is empty: nothing to run');
  if (include.length > MAX_JOBS) {
    throw new Error(`${include.length} jobs exceed GitHub's ${MAX_JOBS}-job matrix limit; name fewer claims or seeds`);
  }
  return { include };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { claims: { type: 'string' }, seeds: { type: 'string' } } });
  const matrix = selectMatrix(parseMatrix(await readStdin()), words(values.claims), parseSeeds(values.seeds));
  console.error(`${matrix.include.length} job(s): ${matrix.include.map((e) => `${e.claim}/${e.seed}`).join(' ')}`);
  console.log(`matrix=${JSON.stringify(matrix)}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e: unknown) => {
    console.error(`gpu-matrix: ${(e as Error).message}`);
    process.exit(1);
  });
}
