import { join } from 'node:path';
import { SpecError, type SpecProblem } from './errors.ts';
import { loadSpecDir, loadSpecFile, specIds } from './spec-files.ts';
import type { LoadedSpec, Registry } from './spec.ts';

/**
 * For `label-leak list`: the folder's specs that load, and the problems of those that do not.
 * `run` refuses a folder with any bad spec (loadSpecDir), but one malformed file made `list`
 * show no claim at all; here it costs only its own line.
 */
export function loadSpecDirEach(dir: string, registry: Registry): { specs: LoadedSpec[]; problems: SpecProblem[] } {
  try {
    return { specs: loadSpecDir(dir, registry), problems: [] };
  } catch (e) {
    if (!(e instanceof SpecError)) throw e;
    const specs: LoadedSpec[] = [];
    for (const id of specIds(dir)) {
      try {
        specs.push(loadSpecFile(join(dir, `${id}.json`), registry));
      } catch (inner) {
        if (!(inner instanceof SpecError)) throw inner;
      }
    }
    // Every problem the whole-folder load found (cross-spec ones, like a control naming a broken claim, too).
    return { specs, problems: e.problems };
  }
}
