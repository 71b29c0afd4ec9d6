import { table } from '../claims/listing.ts';
import type { AnchorRecord, BenchRecord } from './record.ts';

function fmt(x: number): string {
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

/**
 * Images/second per case (rows) and backend (columns): the median run, with the slowest and
 * fastest run's rate in brackets. With a PyTorch record, its rate and each backend's ratio
 * to it are added.
 */
export function benchTable(record: BenchRecord, anchor?: AnchorRecord): string {
  const timed = record.results.filter((r) => r.timing !== undefined);
  const counts = countsTable(record);
  if (timed.length === 0 && counts !== undefined) return [counts, '', machineLine(record), ...skippedLines(record)].join('\n');
  const backends = [...new Set(timed.map((r) => r.backend))];
  const cases = [...new Set(timed.map((r) => r.case))];
  const anchorName = anchor ? `PyTorch ${anchor.version} (${anchor.threads} thr)` : undefined;
  const header = ['case', 'batch', ...backends.map((b) => `${b} img/s [range]`)];
  if (anchor) header.push(`${anchorName} img/s`, ...backends.map((b) => `${b} ÷ PyTorch`));
  const rows = cases.map((id) => {
    const batch = record.results.find((r) => r.case === id)?.batch ?? 0;
    const cells = backends.map((b) => {
      const r = timed.find((x) => x.case === id && x.backend === b);
      if (!r?.timing || r.imagesPerSecond === undefined) return '—';
      const slow = (r.batch * 1000) / r.timing.maxMs;
      const fast = (r.batch * 1000) / r.timing.minMs;
      return `${fmt(r.imagesPerSecond)} [${fmt(slow)}–${fmt(fast)}]`;
    });
    const row = [id, String(batch), ...cells];
    if (anchor) {
      const a = anchor.results.find((x) => x.case === id)?.imagesPerSecond;
      row.push(a === undefined ? '—' : fmt(a));
      for (const b of backends) {
        const r = timed.find((x) => x.case === id && x.backend === b);
        row.push(a === undefined || r?.imagesPerSecond === undefined ? '—' : `${(r.imagesPerSecond / a).toFixed(2)}×`);
      }
    }
    return row;
  });
  return [
    table([header, ...rows]),
    ...(counts !== undefined ? ['', counts] : []),
    '',
    machineLine(record),
    `timing: ${record.timing.warmup} warm-up run(s) excluded, median of up to ${record.timing.repeats}` +
      (record.timing.budgetMs ? ` (or ${record.timing.budgetMs / 1000} s of timed runs)` : ''),
    ...skippedLines(record),
  ].join('\n');
}

function machineLine(record: BenchRecord): string {
  const m = record.machine;
  return `machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, Node ${m.node}; load average ${m.loadBefore.toFixed(2)} before, ${m.loadAfter.toFixed(2)} after`;
}

function skippedLines(record: BenchRecord): string[] {
  const skipped = record.backends.filter((b) => b.error !== undefined).map((b) => `  ${b.name}: ${b.error}`);
  return skipped.length > 0 ? ['not started:', ...skipped] : [];
}

/** Host calls per step (webgpu): a table of its own, since they are counts, not rates. */
function countsTable(record: BenchRecord): string | undefined {
  const counted = record.results.filter((r) => r.dispatchesPerStep !== undefined);
  if (counted.length === 0) return undefined;
  const n = (x: number | undefined) => (x === undefined ? '—' : Number.isInteger(x) ? String(x) : x.toFixed(2));
  const rows = counted.map((r) => [
    r.case,
    r.backend,
    String(r.countBatch ?? r.batch),
    n(r.dispatchesPerStep),
    n(r.uploadsPerStep),
    n(r.buffersCreatedPerStep),
    n(r.readbacksPerStep),
    n(r.submitsPerStep),
  ]);
  return [
    'host calls per step (webgpu; a step of a training case, a run of an attack):',
    table([['case', 'backend', 'batch', 'dispatches', 'uploads', 'buffers created', 'read-backs', 'submits'], ...rows]),
  ].join('\n');
}
