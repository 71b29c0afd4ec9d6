import { join, resolve, sep } from 'node:path';
import { RecordError } from '../results/record.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { renderReport, resultKey } from './markdown.ts';
import { mergeRecords, readResultDirs, type ClaimResult } from './merge.ts';
import { plotsFor, type Plot } from './plots.ts';

export interface WrittenReport {
  reportFile: string;
  plotFiles: string[];
  results: ClaimResult[];
}

export const PLOT_DIR = 'plots';

/** Reads and merges the records in `resultDirs`, then writes `report.md` and its SVG plots into `outDir`. */
export async function writeReport(resultDirs: string[], outDir: string, now = new Date()): Promise<WrittenReport> {
  const results = mergeRecords(readResultDirs(resultDirs));
  const plots = new Map<string, Plot[]>();
  const plotFiles: string[] = [];
  for (const c of results) {
    const ps = await plotsFor(c.record);
    plots.set(resultKey(c.record), ps);
    const plotDir = resolve(outDir, PLOT_DIR);
    for (const p of ps) {
      const file = join(outDir, PLOT_DIR, p.name);
      // Plot names come from a record (ids, metric and axis names): never a path out of the folder.
      if (!resolve(file).startsWith(plotDir + sep)) throw new RecordError(c.files[0], `its plot ${JSON.stringify(p.name)} would be written outside ${join(outDir, PLOT_DIR)}; the record's names are not file names`);
      writeFileAtomic(file, p.svg);
      plotFiles.push(file);
    }
  }
  const reportFile = join(outDir, 'report.md');
  writeFileAtomic(reportFile, `${renderReport({ results, plots, plotDir: PLOT_DIR, sources: resultDirs, generatedAt: now })}\n`);
  return { reportFile, plotFiles, results };
}
