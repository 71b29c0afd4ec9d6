import type { ExperimentKind } from './types.ts';

/** Finds an inner kind by name for a kind made of others (composite, sweep); `who` names the caller in the error. */
export function kindLookup(kinds: ExperimentKind<any>[], who: string): (name: string) => ExperimentKind<any> {
  const byName = new Map(kinds.map((k) => [k.name, k]));
  return (name) => {
    const k = byName.get(name);
    if (!k) throw new Error(`${who}: unknown experiment kind '${name}' (known: ${[...byName.keys()].join(', ')})`);
    return k;
  };
}
