import { join } from 'node:path';
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
    for (const p of ps) {
      const file = join(outDir, PLOT_DIR, p.name);
      writeFileAtomic(file, p.svg);
      plotFiles.push(file);
    }
  }
  const reportFile = join(outDir, 'report.md');
  writeFileAtomic(reportFile, `${renderReport({ results, plots, plotDir: PLOT_DIR, sources: resultDirs, generatedAt: now })}\n`);
  return { reportFile, plotFiles, results };
}
