import { Command, InvalidArgumentError, Option } from 'commander';
import { startBackend } from '../backend/select.ts';
import { checkClaimData, ensureDatasets, skippedSummary } from '../claims/datasets.ts';
import { findSpecs, loadAllSpecs } from '../claims/load.ts';
import { applyOverrides, parseOverride, type Override } from '../claims/overrides.ts';
import { checkpointDir, runClaim } from '../claims/runner.ts';
import { BACKEND_NAMES, TIERS, type Tier } from '../spec/names.ts';
import { checkCheckpoints } from '../train/checkpoint.ts';
import { createProgress } from './progress.ts';
import { downloadProgress } from './download-progress.ts';
import { Interrupted } from '../train/errors.ts';
import { oneSeed, seedList } from './seed-options.ts';
import { saveModelsTo } from './save-models.ts';

function collectOverride(value: string, previous: Override[]): Override[] {
  try {
    return [...previous, parseOverride(value)];
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a positive integer');
  return n;
}

export function runCommand(): Command {
  return new Command('run')
    .description('run claims (all when none is named) and compare each verdict with the spec\'s expected one')
    .argument('[claims...]', 'claim ids (see `label-leak list`)')
    .addOption(new Option('--tier <tier>', 'spec parameters to use').choices(TIERS).default('fast'))
    .addOption(
      new Option('--backend <name>', 'tfjs backend').choices(BACKEND_NAMES).default('auto'),
    )
    .addOption(new Option('--seeds <list>', 'override the spec\'s seeds, e.g. 1,2,3').argParser(seedList).conflicts('seed'))
    .addOption(new Option('--seed <n>', 'run one seed only (one job of a GPU matrix)').argParser(oneSeed))
    .option('--claims <dir>', 'folder of claim specs', 'claims')
    .option('--data-dir <dir>', 'where datasets live and missing ones are downloaded to (else $LABEL_LEAK_DATA_DIR, else the cache folder)')
    .option('--offline', 'never download: claims whose data is missing are skipped (also LABEL_LEAK_OFFLINE=1)', false)
    .option('--results <dir>', 'where result records and checkpoints go', 'results')
    .option('--resume', 're-use finished seeds and continue interrupted ones from their checkpoints', false)
    .option('--checkpoint-every <steps>', 'training steps between checkpoints', positiveInt, 200)
    .option('--threads <n>', 'wasm threads', positiveInt)
    .option(
      '--set <path=value>',
      'change one tier parameter for this run, e.g. --set training.epochs=5 (repeatable; recorded in the result)',
      collectOverride,
      [] as Override[],
    )
    .option('--save-models <dir>', 'also save every trained model as a tfjs layers model (for `label-leak audit`) under <dir>/<tier>/<claim>/seed-<n>/')
    .option('--json', 'print the result records as JSON instead of a summary', false)
    .action(async (ids: string[], o) => {
      const loaded = ids.length > 0 ? findSpecs(ids, o.claims) : loadAllSpecs(o.claims);
      const specs = loaded.map((s) => applyOverrides(s, o.tier, o.set));
      // Before the backend starts: fetch what is missing (what cannot be had skips its claims
      // only); then fail when data is damaged or too small for a subset asked for, or a
      // checkpoint --resume would load is damaged: each throws the error that names the file
      // or parameter and the fix (exit 2).
      const downloads = downloadProgress(process.stderr);
      const plan = await ensureDatasets(specs, o.tier, {
        dataDir: o.dataDir,
        offline: o.offline,
        log: (line) => console.error(line),
        fetchOptions: { onProgress: downloads.onProgress, onNotice: downloads.onNotice },
        afterEach: () => downloads.stop(),
      });
      const summary = skippedSummary(plan.skipped);
      if (plan.runnable.length === 0) {
        console.error(summary.join('\n'));
        process.exitCode = 2;
        return;
      }
      await checkClaimData(plan.runnable, o.tier, o.dataDir);
      if (o.resume) {
        for (const spec of plan.runnable) for (const seed of o.seed ?? o.seeds ?? spec.tiers[o.tier as Tier].seeds) checkCheckpoints(checkpointDir(o.results, o.tier, spec.id, seed));
      }
      const backend = await startBackend(o.backend, { threads: o.threads });
      if (!o.json) console.error(`backend: ${backend.name} ${backend.version} — ${backend.device} (${backend.reason})`);

      // First signal: finish cleanly with a checkpoint; a second one: leave at once.
      const controller = new AbortController();
      const stop = (sig: string) => {
        if (controller.signal.aborted) process.exit(130);
        console.error(`\n${sig}: writing a checkpoint, then stopping (again to quit at once)`);
        controller.abort();
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));

      const records = [];
      let mismatches = 0;
      for (const spec of plan.runnable) {
        try {
          const record = await runClaim(spec, {
            tier: o.tier,
            seeds: o.seed ?? o.seeds,
            backend,
            dataDir: o.dataDir,
            resultsDir: o.results,
            resume: o.resume,
            checkpointEvery: o.checkpointEvery,
            overrides: o.set.map((s: Override) => s.text),
            progress: createProgress(process.stderr),
            signal: controller.signal,
            onTrained: o.saveModels ? saveModelsTo(o.saveModels, (line) => console.error(line)) : undefined,
          });
          records.push(record);
          // One seed of a job matrix cannot reach a verdict on its own (the report merges the
          // seeds): only an error counts against it.
          const ok = o.seed ? record.verdict !== 'error' : record.verdict === record.expected;
          if (!ok) mismatches++;
          if (!o.json) {
            console.log(`${ok ? '✓' : '✗'} ${spec.id} [${o.tier}]: ${record.verdict} (expected ${record.expected})`);
            for (const a of record.assertions) console.log(`    ${a.name}: ${a.summary}`);
            for (const f of record.outcomes.filter((x) => x.status === 'error')) {
              console.log(`    seed ${f.seed}: error: ${f.error ? `${f.error.name}: ${f.error.message}` : 'no reason recorded'}`);
            }
          }
        } catch (err) {
          if (err instanceof Interrupted) {
            console.error(err.message);
            process.exit(130);
          }
          throw err;
        }
      }
      if (o.json) console.log(JSON.stringify(records, null, 2));
      if (summary.length > 0) console.error(summary.join('\n'));
      // A skipped claim was not checked at all: scripts must notice (2) even when the rest agree.
      process.exitCode = plan.skipped.length > 0 ? 2 : mismatches > 0 ? 1 : 0;
    });
}
