import { expandPreconditions } from './assess.ts';
import { expandAssertions } from './cells.ts';
import { assertionsFor, requireTier, type Assertion, type PlainPrecondition } from '../spec/claim.ts';
import { renderName } from '../spec/name-template.ts';
import type { Tier } from '../spec/names.ts';
import type { LoadedSpec } from './spec.ts';

/**
 * What a run of a spec's tier checks, as its record stores them: the tier's assertions and
 * preconditions, cells expanded over the kind's metric names, names rendered from the params.
 * One home, so that a committed record can be compared with what its spec asks today.
 */
export function claimChecks(spec: LoadedSpec, tier: Tier, params = requireTier(spec, tier).params): { assertions: Assertion[]; preconditions: PlainPrecondition[] } {
  const metricNames = spec.kind.metricNames(params);
  // Names follow the parameters they test ({evaluation.eps}, {threshold|points}): a --set ε says its ε.
  const named = <T extends { name: string; threshold: number; tolerance?: number }>(a: T): T => ({ ...a, name: renderName(a.name, params, a) });
  return {
    assertions: expandAssertions(assertionsFor(spec.assertions, tier), metricNames).map(named),
    preconditions: expandPreconditions(assertionsFor(spec.preconditions ?? [], tier), metricNames).map(named),
  };
}
