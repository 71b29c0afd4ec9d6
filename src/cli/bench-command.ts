import { Command, InvalidArgumentError } from 'commander';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { releaseBackend } from '../backend/select.ts';
import { CONCRETE_BACKEND_NAMES, isConcreteBackend, type ConcreteBackend } from '../spec/names.ts';
import { benchCases, caseIds } from '../bench/cases.ts';
import { isAnchorRecord, type AnchorRecord } from '../bench/record.ts';
import { benchTable } from '../bench/report.ts';
import { kernelTable } from '../bench/profile.ts';
import { runBench } from '../bench/run.ts';
import { pathOption } from './path-option.ts';

function backendList(value: string): ConcreteBackend[] {
  const names = value.split(',').map((s) => s.trim());
  for (const n of names) {
    if (!isConcreteBackend(n)) throw new InvalidArgumentError(`unknown backend '${n}' (${CONCRETE_BACKEND_NAMES.join(', ')})`);
  }
  return names as ConcreteBackend[];
}

function caseList(value: string): string[] {
  const ids = value.split(',').map((s) => s.trim());
  const known = caseIds();
  const unknown = ids.filter((id) => !known.includes(id));
  if (unknown.length > 0) throw new InvalidArgumentError(`unknown case ${unknown.join(', ')} (known: ${known.join(', ')})`);
  return ids;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected a whole number ≥ 0, got '${value}'`);
  return n;
}

function readAnchor(path: string): AnchorRecord {
  const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
  if (!isAnchorRecord(parsed)) throw new InvalidArgumentError(`${path} is not a record written by bench/pytorch_anchor.py`);
  return parsed;
}

interface BenchFlags {
  backends?: ConcreteBackend[];
  only?: string[];
  warmup: number;
  repeats: number;
  budget: number;
  threads?: number;
  anchor?: AnchorRecord;
  out: string;
  json: boolean;
  profile: boolean;
  count: boolean;
  countBatch: number;
}

/** `bench --count` counts at this batch: small enough for SwiftShader to run ResNet-20 in seconds. */
const COUNT_BATCH = 4;

export function benchCommand(): Command {
  return new Command('bench')
    .description(
      'training throughput (images/second) of the MLP, the small CNN and ResNet-20 with FGSM batches, ' +
        'and of FGSM and BIM alone, on every backend that starts (workloads: bench/cases.json)',
    )
    .option('--backends <list>', 'comma-separated backends to measure (default: every one that starts)', backendList)
    .option('--only <ids>', `comma-separated case ids (${caseIds().join(', ')})`, caseList)
    .option('--warmup <n>', 'untimed runs before timing', positiveInt, benchCases.timing.warmup)
    .option('--repeats <n>', 'timed runs (the median is reported)', positiveInt, benchCases.timing.repeats)
    .option('--budget <seconds>', 'stop warming up / repeating a case after this long (slow backends)', positiveInt, 60)
    .option('--threads <n>', 'wasm threads (experimental above 1: see docs)', positiveInt)
    .option('--anchor <file>', 'a PyTorch record from bench/pytorch_anchor.py, shown beside with ratios', readAnchor)
    .option('--out <dir>', 'folder for the JSON record', pathOption, join('results', 'bench'))
    .option('--json', 'print the JSON record instead of the table', false)
    .option('--profile', 'also time one more run of each case by kernel (printed and kept in the record)', false)
    .option(
      '--count',
      'webgpu only, no timing: count dispatches, uploads, buffer creations and read-backs per step at a small batch ' +
        '(they do not depend on the adapter: SwiftShader counts what a GPU runs)',
      false,
    )
    .option('--count-batch <n>', 'batch size for --count', positiveInt, COUNT_BATCH)
    .action(async (o: BenchFlags) => {
      const record = await runBench({
        // Only webgpu has dispatches to count.
        backends: o.backends ?? (o.count ? ['webgpu'] : undefined),
        only: o.only,
        threads: o.threads,
        profile: o.profile,
        countBatch: o.count ? Math.max(2, o.countBatch) : undefined,
        timing: { warmup: o.warmup, repeats: o.repeats, budgetMs: o.budget * 1000 },
        onStart: (b, id) => process.stderr.write(`bench: ${b} ${id} …`),
        onResult: (r) => {
          const rate = r.imagesPerSecond === undefined ? '' : ` ${r.imagesPerSecond.toFixed(1)} img/s`;
          const calls = r.dispatchesPerStep === undefined ? '' : ` ${r.dispatchesPerStep} dispatches/step`;
          process.stderr.write(`${rate}${calls}\n`);
          if (r.kernels) process.stderr.write(`${kernelTable(r.kernels)}\n\n`);
        },
      });
      mkdirSync(o.out, { recursive: true });
      const file = join(o.out, `${record.date.replace(/[:.]/g, '-')}.json`);
      writeFileSync(file, `${JSON.stringify({ ...record, ...(o.anchor ? { anchor: o.anchor } : {}) }, null, 2)}\n`);
      if (o.json) console.log(JSON.stringify(record, null, 2));
      else console.log(benchTable(record, o.anchor));
      console.error(`bench: wrote ${file}`);
      const gpu = record.backends.find((b) => b.name === 'webgpu');
      if (o.count && gpu?.error !== undefined) {
        console.error(`bench --count: webgpu did not start: ${gpu.error}`);
        process.exitCode = 2;
      }
      // Ends the threaded wasm build's workers, which would keep Node running.
      releaseBackend();
    });
}
