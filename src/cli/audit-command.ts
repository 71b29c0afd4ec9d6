import { Command, InvalidArgumentError, Option } from 'commander';
import { auditModel, defaultAuditOptions, defaultPgd, type AuditOptions } from '../audit/audit.ts';
import { renderAudit } from '../audit/render.ts';
import { startBackend } from '../backend/select.ts';
import { BACKEND_NAMES } from '../spec/names.ts';
import { DATASET_NAMES, isDatasetName } from '../spec/names.ts';
import { loadDataset } from '../data/registry.ts';
import type { DatasetName } from '../spec/names.ts';
import { classifierOf } from '../models/export.ts';
import { loadTfModel, ModelFileError, readModelFiles } from '../models/model-files.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { checkWritableFile } from '../util/write-check.ts';
import { WriteError } from '../util/write-error.ts';
import { createProgress } from './progress.ts';
import { seedList } from './seed-options.ts';
import { SETTINGS } from '../util/env.ts';

const number = (what: string, min = 0) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) throw new InvalidArgumentError(`${what}: a number ≥ ${min}`);
  return n;
};
const integer = (what: string, min = 0) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${what}: an integer ≥ ${min}`);
  return n;
};
const numberList = (v: string) => {
  const xs = v.split(',').map((s) => Number(s.trim()));
  if (xs.length < 2 || xs.some((x) => !Number.isFinite(x) || x < 0)) throw new InvalidArgumentError('at least two ε values ≥ 0, comma-separated, e.g. 0,4,8,16');
  return [...xs].sort((a, b) => a - b);
};

const datasetName = (v: string) => {
  if (!isDatasetName(v)) throw new InvalidArgumentError(`unknown dataset "${v}"; choose from ${DATASET_NAMES.join(', ')}`);
  return v;
};

/** What `label-leak run --save-models` writes into model.json's userDefinedMetadata. */
interface TrainedByLabelLeak {
  dataset?: string;
  claim?: string;
  tier?: string;
  seed?: number;
  role?: string;
}

export function auditCommand(): Command {
  const d = defaultAuditOptions();
  return new Command('audit')
    .description('audit a saved tfjs model (model.json + weights) for label leaking and gradient masking')
    .argument('<model>', 'model.json of a tfjs layers or graph model, or its folder (images in [0, 1], NHWC)')
    .option('--dataset <name>', `test data: ${DATASET_NAMES.join(', ')} (default: the one a label-leak model was trained on)`, datasetName)
    .option('--eps <pixels>', 'ε of the attacks, in 0–255 pixel units', number('--eps'), d.eps)
    .option('--eps-sweep <list>', 'ε values of the loss curve along the gradient sign', numberList, d.epsSweep)
    .option('--seeds <list>', 'one audit per seed (test subset, PGD start, probe); statistics across them', seedList, [1, 2, 3])
    .option('--test-images <n>', 'test images per seed', integer('--test-images', 1), d.testImages)
    .option('--probe-images <n>', 'training images for the gradient-sign probe (0: no probe)', integer('--probe-images'), d.probeImages)
    .option('--pgd-steps <n>', 'PGD steps (default max(10, BIM\'s count))', integer('--pgd-steps', 1))
    .option('--pgd-step-size <pixels>', 'PGD step (default 2.5ε / steps)', number('--pgd-step-size'))
    .option('--masking-gap <fraction>', 'accuracy by which an iterative attack must beat its one-step twin to flag masking', number('--masking-gap'), d.maskingGap)
    .addOption(new Option('--outputs <kind>', 'what the model outputs').choices(['auto', 'logits', 'probabilities']).default('auto'))
    .addOption(new Option('--backend <name>', 'tfjs backend').choices([...BACKEND_NAMES]).default('auto'))
    .option('--data-dir <dir>', `where datasets live (else $${SETTINGS.dataDir.name}, else the cache folder)`)
    .option('--out <file>', 'also write the audit (every seed\'s metrics, the flags\' statistics) as JSON')
    .option('--json', 'print the audit as JSON instead of the report', false)
    .action(async (path: string, o) => {
      // A bad file, or an --out that cannot be written, is reported before the backend spends seconds starting.
      if (o.out) checkWritableFile(o.out, '--out');
      const files = await readModelFiles(path);
      const backend = await startBackend(o.backend);
      const loaded = await loadTfModel(files);
      const meta = (loaded.metadata.labelLeak ?? {}) as TrainedByLabelLeak;
      const name = o.dataset ?? meta.dataset;
      if (name === undefined || !isDatasetName(name)) {
        loaded.net.dispose();
        throw new ModelFileError(loaded.file, `does not say which data it was trained on; give --dataset (${DATASET_NAMES.join(', ')})`);
      }
      const data = await loadDataset(name as DatasetName, { dataDir: o.dataDir });
      const inputShape = loaded.net.inputs[0]?.shape ?? [];
      const want = [data.test.height, data.test.width, data.test.channels];
      if (inputShape.length !== 4 || inputShape.slice(1).some((s, i) => s !== null && s !== -1 && s !== want[i])) {
        loaded.net.dispose();
        throw new ModelFileError(loaded.file, `takes inputs of shape [${inputShape.join(', ')}], but ${name} images are [batch, ${want.join(', ')}]; choose another --dataset`);
      }
      const outputs = o.outputs === 'auto' ? loaded.outputs : o.outputs;
      const numClasses = data.classes.length;
      const model = classifierOf(loaded.net, { name: loaded.file, numClasses, outputs });
      const opts: AuditOptions = {
        ...d,
        eps: o.eps,
        epsSweep: o.epsSweep,
        testImages: o.testImages,
        probeImages: o.probeImages,
        maskingGap: o.maskingGap,
        pgd: { ...defaultPgd(o.eps), ...(o.pgdSteps ? { steps: o.pgdSteps } : {}) },
      };
      if (o.pgdStepSize !== undefined) opts.pgd.stepSize = o.pgdStepSize;
      else if (o.pgdSteps) opts.pgd.stepSize = (2.5 * o.eps) / o.pgdSteps;
      try {
        const result = await auditModel(model, data, opts, o.seeds, createProgress(process.stderr));
        const origin = meta.claim
          ? `trained by label-leak: ${meta.claim} [${meta.tier}] seed ${meta.seed}, ${meta.role} model`
          : 'not trained by label-leak (no labelLeak metadata)';
        const doc = { model: { file: loaded.file, format: loaded.format, outputs, metadata: loaded.metadata }, dataset: name, backend, ...result };
        if (o.json) console.log(JSON.stringify(doc, null, 2));
        else {
          console.log(
            renderAudit(result, [
              `# label-leak audit: ${loaded.file}`,
              '',
              `A ${loaded.format} (${outputs}), ${origin}. Data: ${name}, ${o.seeds.length} seed${o.seeds.length === 1 ? '' : 's'} × ${opts.testImages} test images` +
                `${opts.probeImages > 0 ? ` (probe trained on ${opts.probeImages} training images)` : ''}; ` +
                `ε = ${opts.eps} of 255; PGD ${opts.pgd.steps} steps of ${Number(opts.pgd.stepSize.toPrecision(3))} from a random start; ` +
                `backend ${backend.name} ${backend.version}.`,
            ]),
          );
        }
        // Printed first: a write that fails now (the disk filled up meanwhile) loses no result.
        if (o.out) {
          try {
            writeFileAtomic(o.out, `${JSON.stringify(doc, null, 2)}\n`);
          } catch (e) {
            if (!(e instanceof WriteError)) throw e;
            throw new WriteError(e.path, `${e.message}; the audit above was printed but not saved (run it again with --json to keep it on stdout)`);
          }
        }
      } finally {
        model.dispose();
      }
    });
}
