import type { ErrorObject } from 'ajv';

/** One thing wrong with a spec: where (file and JSON pointer) and why. */
export interface SpecProblem {
  file: string;
  /** JSON pointer into the file; '' is the whole document. */
  pointer: string;
  reason: string;
}

/** A spec (or several) failed to load; the CLI exits 2 on it. */
export class SpecError extends Error {
  constructor(readonly problems: SpecProblem[]) {
    super(problems.map((p) => `${p.file}: ${p.pointer || '(document)'}: ${p.reason}`).join('\n'));
    this.name = 'SpecError';
  }
}

/** A claim id that names no spec file. */
export class UnknownClaimError extends Error {
  constructor(
    readonly id: string,
    readonly known: string[],
    dir: string,
  ) {
    super(`unknown claim "${id}" (no ${dir}/${id}.json); known claims: ${known.length > 0 ? known.join(', ') : '(none)'}`);
    this.name = 'UnknownClaimError';
  }
}

/** Turns ajv's errors into readable problems, each pointing at the offending place. */
export function ajvProblems(file: string, errors: ErrorObject[] | null | undefined, prefix = ''): SpecProblem[] {
  // An `if` failure only says which branch failed; that branch's own errors say what to fix.
  return (errors ?? []).filter((e) => e.keyword !== 'if').map((e) => {
    const at = prefix + e.instancePath;
    const p = e.params as Record<string, unknown>;
    switch (e.keyword) {
      case 'additionalProperties':
        return { file, pointer: `${at}/${String(p.additionalProperty)}`, reason: 'unknown field (not in the schema)' };
      case 'required':
        return { file, pointer: `${at}/${String(p.missingProperty)}`, reason: 'required field is missing' };
      case 'enum':
        return { file, pointer: at, reason: `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` };
      case 'const':
        return { file, pointer: at, reason: `must be ${JSON.stringify(p.allowedValue)}` };
      default:
        return { file, pointer: at, reason: e.message ?? e.keyword };
    }
  });
}

/** Claims named on the command line that lack the tier asked for (gpu exists only for the CIFAR-10 claims). */
export class MissingTierError extends Error {
  constructor(tier: string, lacking: { id: string; tiers: string[] }[], withTier: string[]) {
    const which = lacking.map((l) => `${l.id} (has: ${l.tiers.join(', ')})`).join('; ');
    super(
      `no ${tier} tier in ${which}; claims with one: ${withTier.join(', ') || '(none)'} — name those, or use --tier ${lacking[0]?.tiers[0] ?? 'fast'}`,
    );
    this.name = 'MissingTierError';
  }
}
