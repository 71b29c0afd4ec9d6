import type { ErrorObject } from 'ajv';
import { printable } from '../util/printable.ts';

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
    // A file name may hold control characters (an ANSI escape, a newline): shown escaped.
    super(problems.map((p) => `${printable(p.file)}: ${p.pointer || '(document)'}: ${p.reason}`).join('\n'));
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
    super(`unknown claim "${printable(id)}" (no ${printable(dir)}/${printable(id)}.json); known claims: ${known.length > 0 ? known.map(printable).join(', ') : '(none)'}`);
    this.name = 'UnknownClaimError';
  }
}

/** Turns ajv's errors into readable problems, each pointing at the offending place. */
export function ajvProblems(file: string, errors: ErrorObject[] | null | undefined, prefix = ''): SpecProblem[] {
  // An `if` failure only says which branch failed; that branch's own errors say what to fix.
  return withoutRejectedBranches((errors ?? []).filter((e) => e.keyword !== 'if')).map((e) => {
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

/**
 * A `oneOf` whose branches are told apart by a constant field (a model's `kind`) reports
 * every branch's errors: one bad `hidden` item of an MLP came out as six lines about cnn,
 * resnet and fastnet. When exactly one branch accepts the constant, only its errors count.
 */
function withoutRejectedBranches(errors: ErrorObject[]): ErrorObject[] {
  let out = errors;
  for (const one of errors.filter((e) => e.keyword === 'oneOf')) {
    const inside = (e: ErrorObject) => e.schemaPath.startsWith(`${one.schemaPath}/`) && (e.instancePath === one.instancePath || e.instancePath.startsWith(`${one.instancePath}/`));
    const branchOf = (e: ErrorObject) => e.schemaPath.slice(one.schemaPath.length + 1).split('/')[0];
    const branches = new Map<string, ErrorObject[]>();
    for (const e of out.filter(inside)) branches.set(branchOf(e), [...(branches.get(branchOf(e)) ?? []), e]);
    // A const on a direct field of the object (kind: "cnn") that the value does not have.
    const rejected = (es: ErrorObject[]) => es.some((e) => e.keyword === 'const' && e.instancePath.slice(one.instancePath.length).split('/').length === 2);
    const kept = [...branches.values()].filter((es) => !rejected(es));
    if (kept.length !== 1 || kept[0].length === 0) continue;
    out = out.filter((e) => e === one ? false : !inside(e) || kept[0].includes(e));
  }
  return out;
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
