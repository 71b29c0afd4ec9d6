import type * as tf from '@tensorflow/tfjs';
import type { Classifier } from '../models/types.ts';
import { ATTACK_NAMES, type AttackName } from '../spec/names.ts';
import type { Rng } from '../util/rng.ts';
import type { Epsilon } from './epsilon.ts';
import type { AttackOptions } from './gradient.ts';
import { bim, iterLL, pgd } from './iterative.ts';
import { fgsm, fgsmPred, stepLL, stepRand } from './one-step.ts';


export interface DispatchOptions extends AttackOptions {
  /** Required by step-rand and pgd (its random start). */
  rng?: Rng;
  /** Iterative attacks only. */
  steps?: number;
  stepSize?: number;
}

function scalarEps(name: AttackName, eps: Epsilon): number {
  if (typeof eps !== 'number') {
    throw new TypeError(`attack '${name}' takes one ε for the whole batch (a number), not a per-example tensor`);
  }
  return eps;
}

function needRng(name: AttackName, rng: Rng | undefined, what: string): Rng {
  if (rng === undefined) throw new Error(`attack '${name}' needs opts.rng to draw ${what}`);
  return rng;
}

/** One entry point so claim specs can name an attack; `y` is ignored by the label-free ones. */
export function attack(
  name: AttackName,
  model: Classifier,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  eps: Epsilon,
  opts: DispatchOptions = {},
): tf.Tensor4D {
  const { rng, steps, stepSize, ...common } = opts;
  switch (name) {
    case 'fgsm':
      return fgsm(model, x, y, eps, common);
    case 'fgsm-pred':
      return fgsmPred(model, x, eps, common);
    case 'step-ll':
      return stepLL(model, x, eps, common);
    case 'step-rand':
      return stepRand(model, x, eps, needRng(name, rng, 'its random labels'), common);
    case 'bim':
      return bim(model, x, y, { ...common, eps: scalarEps(name, eps), steps, stepSize });
    case 'iter-ll':
      return iterLL(model, x, { ...common, eps: scalarEps(name, eps), steps, stepSize });
    case 'pgd':
      return pgd(model, x, y, { ...common, eps, steps, stepSize, rng: needRng(name, rng, 'its random start') });
    default: {
      // A name added to ATTACK_NAMES without a case here fails to compile.
      const unknown: never = name;
      throw new Error(`unknown attack '${String(unknown)}'; known: ${ATTACK_NAMES.join(', ')}`);
    }
  }
}
