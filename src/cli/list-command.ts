import { Command, Option } from 'commander';
import { pathOption } from './path-option.ts';
import { SpecError, UnknownClaimError } from '../claims/errors.ts';
import { listing, seedMatrix, table } from '../claims/listing.ts';
import { loadSpecDirEach } from '../claims/spec-dir-each.ts';
import { TIERS, type Tier } from '../spec/names.ts';
import type { Registry } from '../claims/spec.ts';

/** `registry` is for tests; the CLI loads the project's experiment kinds. */
export function listCommand(registry?: Registry): Command {
  return new Command('list')
    .description('list the claim specs: id, experiment kind, expected verdict per tier, title')
    .option('--claims <dir>', 'folder of claim specs', pathOption, 'claims')
    .option('--json', 'machine-readable output', false)
    .addOption(new Option('--matrix <tier>', 'also give one (claim, seed) job per seed of that tier, for a CI job matrix').choices(TIERS))
    .action(async (o: { claims: string; json: boolean; matrix?: Tier }) => {
      try {
        const reg = registry ?? (await import('../experiments/registry.ts')).experiments;
        // A malformed spec is named (and exits 2), not allowed to hide the others.
        const { specs, problems } = loadSpecDirEach(o.claims, reg);
        if (problems.length > 0) {
          console.error(`label-leak list: ${new SpecError(problems).message}`);
          process.exitCode = 2;
          if (specs.length === 0) return;
        }
        const claims = listing(specs);
        const include = o.matrix ? seedMatrix(specs, o.matrix) : undefined;
        if (o.json) {
          console.log(JSON.stringify({ claims, ...(include ? { matrix: { tier: o.matrix, include } } : {}) }, null, 2));
          return;
        }
        if (include) {
          console.log(table([['claim', 'tier', 'seed'], ...include.map((m) => [m.claim, m.tier, String(m.seed)])]));
          return;
        }
        if (claims.length === 0) {
          console.log(`no claim specs in ${o.claims}/`);
          return;
        }
        console.log(
          table([
            ['id', 'experiment', ...TIERS, 'title'],
            // `—`: the claim has no such tier (gpu is only for the CIFAR-10 claims). A positive
            // control follows its claim, marked `↳`; `*`: not in npm test's claim suite.
            ...claims.map((c) => [
              c.controlOf ? `  ↳ ${c.id}` : c.id,
              c.experiment,
              ...TIERS.map((t) => (c.tiers[t] ? `${c.tiers[t].expected}${c.tiers[t].suite ? '*' : ''}` : '—')),
              c.controlOf ? `positive control of ${c.controlOf}: ${c.title}` : c.title,
            ]),
          ]),
        );
        if (claims.some((c) => TIERS.some((t) => c.tiers[t]?.suite))) console.log('\n* claims-only: run by `label-leak run` (npm run claims), not by npm test; a unit test checks its committed record');
      } catch (e) {
        if (e instanceof SpecError || e instanceof UnknownClaimError) {
          console.error(`label-leak list: ${e.message}`);
          process.exitCode = 2;
          return;
        }
        throw e;
      }
    });
}
