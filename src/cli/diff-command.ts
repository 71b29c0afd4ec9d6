import { Argument, Command } from 'commander';
import { pathOption } from './path-option.ts';
import { changedOnly, diffHeadline } from './diff-summary.ts';
import { diffResults, renderDiff } from '../report/diff.ts';
import { mergeRecords, readResultDirs } from '../report/merge.ts';

export function diffCommand(): Command {
  return new Command('diff')
    .description('two results folders (runs, commits, backends) side by side per claim and metric: the change, and whether the verdict moved')
    .addArgument(new Argument('<a>', 'results folder A (holding <tier>/<claim>.json records), e.g. docs/results/records').argParser(pathOption))
    .addArgument(new Argument('<b>', 'results folder B').argParser(pathOption))
    .option('--force', 'compare records even when they come from different spec versions', false)
    .option('--asserted', 'show only the quantities the claims assert', false)
    .option('--changed', 'show only the claims and quantities that changed', false)
    .option('--json', 'print the comparison as JSON', false)
    .action((a: string, b: string, o: { force: boolean; asserted: boolean; changed: boolean; json: boolean }) => {
      const ra = mergeRecords(readResultDirs([a]));
      const rb = mergeRecords(readResultDirs([b]));
      const full = diffResults(ra, rb, { force: o.force });
      const diff = o.changed ? changedOnly(full) : full;
      if (o.json) console.log(JSON.stringify(diff, null, 2));
      else {
        console.log(renderDiff(diff, { dir: a, records: ra.map((c) => c.record) }, { dir: b, records: rb.map((c) => c.record) }, { asserted: o.asserted }));
        // The headline last, on stderr: what a terminal shows at the end, and out of a redirected report.
        console.error(diffHeadline(full));
      }
    });
}
