import { join } from 'node:path';
import type { RunClaimOptions } from '../claims/runner.ts';
import { saveClassifier } from '../models/export.ts';

/**
 * `run --save-models DIR`: every model a seed trains goes to
 * DIR/<tier>/<claim>/seed-<n>/<role>-<key>/model.json (+ weights.bin), a tfjs layers model
 * that `label-leak audit` (or tf.loadLayersModel) reads; what it was trained on is in its
 * userDefinedMetadata.labelLeak.
 */
export function saveModelsTo(dir: string, log: (line: string) => void): NonNullable<RunClaimOptions['onTrained']> {
  return async (model, info) => {
    const where = join(dir, info.tier, info.claim, `seed-${info.seed}`, `${info.role}-${info.key}`);
    const file = await saveClassifier(model, info.model, info.input, where, {
      labelLeak: {
        claim: info.claim,
        tier: info.tier,
        seed: info.seed,
        role: info.role,
        dataset: info.dataset,
        classes: info.classes,
        input: info.input,
        model: info.model,
        training: info.training,
      },
    });
    log(`saved ${info.role} model: ${file}`);
  };
}
