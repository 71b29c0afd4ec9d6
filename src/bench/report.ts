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
  const backends = [...new Set(record.results.map((r) => r.backend))];
  const cases = [...new Set(record.results.map((r) => r.case))];
  const anchorName = anchor ? `PyTorch ${anchor.version} (${anchor.threads} thr)` : undefined;
  const header = ['case', 'batch', ...backends.map((b) => `${b} img/s [range]`)];
  if (anchor) header.push(`${anchorName} img/s`, ...backends.map((b) => `${b} ÷ PyTorch`));
  const rows = cases.map((id) => {
    const batch = record.results.find((r) => r.case === id)?.batch ?? 0;
    const cells = backends.map((b) => {
      const r = record.results.find((x) => x.case === id && x.backend === b);
      if (!r) return '—';
      const slow = (r.batch * 1000) / r.timing.maxMs;
      const fast = (r.batch * 1000) / r.timing.minMs;
      return `${fmt(r.imagesPerSecond)} [${fmt(slow)}–${fmt(fast)}]`;
    });
    const row = [id, String(batch), ...cells];
    if (anchor) {
      const a = anchor.results.find((x) => x.case === id)?.imagesPerSecond;
      row.push(a === undefined ? '—' : fmt(a));
      for (const b of backends) {
        const r = record.results.find((x) => x.case === id && x.backend === b);
        row.push(a === undefined || !r ? '—' : `${(r.imagesPerSecond / a).toFixed(2)}×`);
      }
    }
    return row;
  });
  const skipped = record.backends.filter((b) => b.error !== undefined).map((b) => `  ${b.name}: ${b.error}`);
  const m = record.machine;
  return [
    table([header, ...rows]),
    '',
    `machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, Node ${m.node}; load average ${m.loadBefore.toFixed(2)} before, ${m.loadAfter.toFixed(2)} after`,
    `timing: ${record.timing.warmup} warm-up run(s) excluded, median of up to ${record.timing.repeats}` +
      (record.timing.budgetMs ? ` (or ${record.timing.budgetMs / 1000} s of timed runs)` : ''),
    ...(skipped.length > 0 ? ['not started:', ...skipped] : []),
  ].join('\n');
}
