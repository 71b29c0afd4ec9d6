/**
 * Every list of names a user can type (in a spec, on the command line) or that a schema
 * admits, each written once. Schemas, CLI choices, type unions and guards derive from
 * these; adding a name is one line here, and the compiler then points at every table
 * (dispatch switches, layouts) that must learn it.
 */

/**
 * Spec tiers: the same claim at increasing scale. `fast`: a 2-core CPU in minutes (npm test);
 * `gpu`: the write-up's protocol on a fast-training network, every claim of a run in ~10
 * minutes of one GPU; `full`: the write-up's scale. Every spec has the required tiers; `gpu`
 * only where it applies (the CIFAR-10 claims).
 */
export const TIERS = ['fast', 'gpu', 'full'] as const;
export type Tier = (typeof TIERS)[number];
export const REQUIRED_TIERS = ['fast', 'full'] as const satisfies readonly Tier[];
export type RequiredTier = (typeof REQUIRED_TIERS)[number];

/** Datasets the data layer can load (layouts, manifests and loaders are keyed by these). */
export const DATASET_NAMES = ['mnist', 'fashion-mnist', 'cifar10'] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];

/** Attacks that take one ε per example, so adversarial training (ε drawn per example) can use them. */
export const TRAINING_ATTACK_NAMES = ['fgsm', 'fgsm-pred', 'step-ll', 'step-rand', 'pgd'] as const;
export type TrainingAttackName = (typeof TRAINING_ATTACK_NAMES)[number];
/** Attacks that take one ε for the whole batch: evaluation only. */
const EVALUATION_ONLY_ATTACK_NAMES = ['bim', 'iter-ll'] as const;
export const ATTACK_NAMES = [...TRAINING_ATTACK_NAMES, ...EVALUATION_ONLY_ATTACK_NAMES] as const;
export type AttackName = (typeof ATTACK_NAMES)[number];

/** tfjs backends `--backend` accepts; `auto` picks the best that starts. */
export const CONCRETE_BACKEND_NAMES = ['wasm', 'cpu', 'webgpu', 'tensorflow'] as const;
export type ConcreteBackend = (typeof CONCRETE_BACKEND_NAMES)[number];
export const BACKEND_NAMES = ['auto', ...CONCRETE_BACKEND_NAMES] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/** A type guard for one of the lists above. */
function isOneOf<T extends string>(names: readonly T[]) {
  return (s: unknown): s is T => typeof s === 'string' && (names as readonly string[]).includes(s);
}

export const isTier = isOneOf(TIERS);
export const isDatasetName = isOneOf(DATASET_NAMES);
const isAttackName = isOneOf(ATTACK_NAMES);
export const isBackendName = isOneOf(BACKEND_NAMES);
export const isConcreteBackend = isOneOf(CONCRETE_BACKEND_NAMES);

/** The JSON Schema that admits exactly the names of a list (a fresh array: ajv may not share it). */
export const enumOf = <T extends string>(names: readonly T[]) => ({ enum: [...names] });
