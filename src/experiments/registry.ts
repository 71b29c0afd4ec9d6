import { adversarialTraining } from './adversarial-training.ts';
import { compositeKind } from './composite.ts';
import { difficultySweep } from './difficulty-sweep.ts';
import { gradientSignProbe } from './gradient-sign-probe.ts';
import { sweepKind } from './sweep.ts';
import type { ExperimentKind } from './types.ts';

const basic = [gradientSignProbe, adversarialTraining, difficultySweep];
const composite = compositeKind(basic);

/**
 * Every experiment kind a spec can name. A new kind is a module exporting an ExperimentKind
 * (name, params schema, metric names, run) and one entry here; specs of existing kinds need
 * no code at all.
 */
export const experiments: Record<string, ExperimentKind<any>> = Object.fromEntries(
  [...basic, composite, sweepKind([...basic, composite])].map((k) => [k.name, k]),
);
