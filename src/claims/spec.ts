import type { ExperimentKind } from '../experiments/types.ts';
import type { ClaimSpec } from '../spec/claim.ts';

/** A spec as the loader hands it out: checked, with its experiment kind resolved. */
export interface LoadedSpec extends ClaimSpec {
  /** The file it came from. */
  readonly file: string;
  /** Content hash of the spec's JSON (key order and formatting do not matter). */
  readonly hash: string;
  readonly kind: ExperimentKind<any>;
}

export type Registry = Record<string, ExperimentKind<any>>;
