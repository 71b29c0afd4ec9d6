import { Command } from 'commander';
import { writeReport } from '../report/write-report.ts';
import { MergeError } from '../report/merge.ts';
import { RecordError } from '../results/record.ts';
import { WriteError } from '../util/write-error.ts';
import { checkWritableDir } from '../util/write-check.ts';
import { printable, printableLines } from '../util/printable.ts';

import { collectPaths, pathOption } from './path-option.ts';

export function reportCommand(): Command {
  return new Command('report')
    .description('write report.md and SVG plots from result records (several --results folders merge by seed)')
    .option('--results <dir>', 'a results folder (repeatable; default: results)', collectPaths)
    .option('--out <dir>', 'where report.md and plots/ go (default: <first results folder>/report)', pathOption)
    .option('--json', 'print the merged results as JSON too', false)
    .action(async (o: { results?: string[]; out?: string; json: boolean }) => {
      const dirs = o.results ?? ['results'];
      const out = o.out ?? `${dirs[0]}/report`;
      try {
        checkWritableDir(out, '--out');
        const { reportFile, plotFiles, results } = await writeReport(dirs, out);
        if (o.json) console.log(JSON.stringify(results.map((c) => ({ ...c.record, files: c.files, warnings: c.warnings })), null, 2));
        else {
          console.log(`${printable(reportFile)}: ${results.length} claim result${results.length === 1 ? '' : 's'}, ${plotFiles.length} plot${plotFiles.length === 1 ? '' : 's'}`);
          for (const c of results) for (const w of c.warnings) console.error(`warning: ${printable(c.record.claim.id)} [${printable(c.record.tier)}]: ${printableLines(w)}`);
        }
      } catch (e) {
        // Records that cannot be read or mixed are bad input, not a crash: exit 2 with the reason.
        if (e instanceof MergeError || e instanceof RecordError || e instanceof WriteError) {
          console.error(`label-leak report: ${printableLines(e.message)}`);
          process.exitCode = 2;
          return;
        }
        throw e;
      }
    });
}
