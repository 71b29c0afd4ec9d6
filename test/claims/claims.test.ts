/**
 * The claim suite: one test per spec in claims/, at the tier LABEL_LEAK_TIER (default
 * fast), failing when the verdict differs from the spec's `expected`; and one per spec with
 * a committed record in docs/results/records/<tier>/, failing when a per-seed metric differs
 * from it where the run is comparable (results/oracle.ts). Records go to results/ (or
 * LABEL_LEAK_RESULTS_DIR) so `label-leak report` can be made from the run.
 *
 *   LABEL_LEAK_TIER=fast|gpu|full    LABEL_LEAK_BACKEND=auto|wasm|cpu|webgpu|tensorflow
 *   LABEL_LEAK_DATA_DIR=DIR      LABEL_LEAK_RESULTS_DIR=DIR
 *   LABEL_LEAK_CLAIMS_DIR=DIR    (default claims; for trying out specs elsewhere)
 *   LABEL_LEAK_OFFLINE=1         (never download; CI sets it)
 *   LABEL_LEAK_JOBS=N|auto       (processes at once; default auto: one per core)
 *
 * As `label-leak run` does, a missing dataset is downloaded into the data directory before
 * anything trains; a claim whose data cannot be had is skipped by name, with the reason and
 * the fix.
 *
 * The claims run as `label-leak run` runs them, through the CLI itself: its job plan
 * (claims of one seed that share a trained model together) as child processes, one per
 * core, each on one wasm thread — two single-threaded trainings on a 2-core machine nearly
 * double the throughput. Each test then reads its claim's record.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { isBackendName, isTier, TIERS } from '../../src/spec/names.ts';
import { downloadProgress } from '../../src/cli/download-progress.ts';
import { ensureDatasets, type DatasetPlan } from '../../src/claims/datasets.ts';
import { loadAllSpecs } from '../../src/claims/load.ts';
import type { LoadedSpec } from '../../src/claims/spec.ts';
import { planClaims, type ClaimsPlan, type PlannedClaim } from '../../src/claims/plan.ts';
import { readRecord, recordPath, type ResultRecord } from '../../src/results/record.ts';
import { compareWithCommitted, formatMismatch } from '../../src/results/oracle.ts';
import { inTestSuite } from '../../src/spec/claim.ts';
import { asExpected } from '../../src/results/as-expected.ts';

const tier = process.env.LABEL_LEAK_TIER ?? 'fast';
const backendName = process.env.LABEL_LEAK_BACKEND ?? 'auto';
const dataDir = process.env.LABEL_LEAK_DATA_DIR || undefined;
const resultsDir = process.env.LABEL_LEAK_RESULTS_DIR || 'results';
const CLAIMS_DIR = process.env.LABEL_LEAK_CLAIMS_DIR || 'claims';
const jobs = process.env.LABEL_LEAK_JOBS || 'auto';
/** The records a run on the same backend, threads and data must reproduce to the last digit. */
const COMMITTED_DIR = 'docs/results/records';

// Without a timeoutMinutes a fast claim gets half an hour; a full one is left to run (a week).
// Without a timeoutMinutes a gpu claim gets two hours.
const timeoutMs = (c: PlannedClaim) => (c.tier.timeoutMinutes ?? (tier === 'fast' ? 30 : tier === 'gpu' ? 120 : 7 * 24 * 60)) * 60_000;
/** After the time is up the run gets SIGINT, and this long to write its checkpoints and records. */
const GRACE_MS = 120_000;

/** Everything a reader needs when a claim does not come out as expected. */
function explain(r: ResultRecord, file: string): string {
  const lines = [`${r.claim.id} [${r.tier}]: verdict ${r.verdict}, expected ${r.expected}`];
  for (const a of r.assertions) lines.push(`  ${a.name}: ${a.summary}`);
  for (const p of r.preconditions ?? []) if (!p.holds) lines.push(`  precondition failed: ${p.name}: ${p.summary}`);
  for (const o of r.outcomes) if (o.error) lines.push(`  seed ${o.seed} failed: ${o.error.name}: ${o.error.message}`);
  lines.push(`  record: ${file}`);
  return lines.join('\n');
}

let specs: LoadedSpec[] = [];
let loadError: unknown;
/** The claims at this tier as `label-leak run` plans them (planClaims), and their data. */
let claims: ClaimsPlan | undefined;
let plan: DatasetPlan | undefined;
try {
  specs = loadAllSpecs(CLAIMS_DIR);
  if (isTier(tier)) {
    claims = planClaims(specs, { tier });
    const downloads = downloadProgress(process.stderr);
    plan = await ensureDatasets(claims.claims.map((c) => c.spec), tier, {
      dataDir,
      log: (line) => console.error(`claims: ${line}`),
      fetchOptions: { onProgress: downloads.onProgress, onNotice: downloads.onNotice },
      afterEach: () => downloads.stop(),
    });
  }
} catch (e) {
  loadError = e;
}

/** How the one `label-leak run` of every runnable claim ended. */
interface RunOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stderrTail: string;
  startedAt: string;
}

/**
 * `label-leak run <claims…> --jobs auto` as a user runs it, its progress passed through to
 * this process's stderr. Bounded by the sum of the claims' timeouts (what running them one
 * after another was allowed): then it gets SIGINT, which makes it checkpoint and stop.
 */
function runClaims(ids: string[], limitMs: number): Promise<RunOutcome> {
  const args = ['bin/label-leak.mjs', 'run', ...ids, '--tier', tier, '--backend', backendName, '--claims', CLAIMS_DIR, '--results', resultsDir, '--jobs', jobs];
  if (dataDir) args.push('--data-dir', dataDir);
  const startedAt = new Date().toISOString();
  console.error(`claims: node ${args.join(' ')}`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const keep = (d: Buffer) => {
      tail = (tail + d.toString()).slice(-8_000);
    };
    child.stdout.on('data', (d: Buffer) => {
      keep(d);
      process.stderr.write(d);
    });
    child.stderr.on('data', (d: Buffer) => {
      keep(d);
      process.stderr.write(d);
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGINT');
    }, limitMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, timedOut, stderrTail: tail.trim().split('\n').slice(-15).join('\n'), startedAt });
    });
  });
}

describe(`claims at the ${tier} tier (backend ${backendName}, --jobs ${jobs})`, () => {
  if (loadError) {
    it(`the specs in ${CLAIMS_DIR}/ load`, () => {
      throw loadError;
    });
    return;
  }
  if (specs.length === 0) {
    it.skip(`no claim specs in ${CLAIMS_DIR}/ — nothing to check`, () => {});
    return;
  }

  const planned = (spec: LoadedSpec) => claims?.claims.find((c) => c.spec.id === spec.id);
  const runnable = (claims?.claims ?? []).filter((c) => inTestSuite(c.tier) && !plan?.skipped.some((k) => k.claim === c.spec.id));
  const limitMs = runnable.reduce((sum, c) => sum + timeoutMs(c), 0);
  let run: RunOutcome | undefined;
  beforeAll(
    async () => {
      if (!isTier(tier)) throw new Error(`LABEL_LEAK_TIER must be one of ${TIERS.join(', ')}, got "${tier}"`);
      if (!isBackendName(backendName)) throw new Error(`LABEL_LEAK_BACKEND must be auto, wasm, cpu, webgpu or tensorflow, got "${backendName}"`);
      if (jobs !== 'auto' && !/^[1-9]\d*$/.test(jobs)) throw new Error(`LABEL_LEAK_JOBS must be a positive integer or auto, got "${jobs}"`);
      if (runnable.length > 0) run = await runClaims(runnable.map((c) => c.spec.id), limitMs);
    },
    limitMs + GRACE_MS,
  );

  /** This claim's record as this run wrote it: every seed finished after the run began, else a failure naming what happened. */
  function recordOf({ spec, seeds }: PlannedClaim): { record: ResultRecord; file: string } {
    const file = recordPath(resultsDir, tier, spec.id);
    const why = () =>
      run?.timedOut
        ? `the run took longer than the claims' timeouts together (${limitMs / 60_000} min) and was stopped`
        : `label-leak run exited ${run?.code ?? run?.signal}:\n${run?.stderrTail ?? ''}`;
    if (!existsSync(file)) throw new Error(`${spec.id} [${tier}]: no record at ${file}; ${why()}`);
    const record = readRecord(file);
    const stale = seeds.filter((s) => !record.outcomes.some((o) => o.seed === s && o.finishedAt >= run!.startedAt));
    if (stale.length > 0) throw new Error(`${spec.id} [${tier}]: seeds ${stale.join(', ')} of ${file} were not run by this run; ${why()}`);
    return { record, file };
  }

  for (const spec of specs) {
    const claim = planned(spec);
    if (!claim) {
      it.skip(`${spec.id} [${tier}] skipped: the claim has no ${tier} tier (it has: ${Object.keys(spec.tiers).join(', ')})`, () => {});
      continue;
    }
    if (!inTestSuite(claim.tier)) {
      it.skip(`${spec.id} [${tier}] left to \`npm run claims\`: its tier is "suite": "claims-only" (too slow for npm test); test/unit/claims-only-records.test.ts checks its committed record`, () => {});
      continue;
    }
    const skipped = plan?.skipped.find((s) => s.claim === spec.id);
    if (skipped) {
      const why = skipped.missing.map((m) => `needs ${m.dataset}: ${m.reason} — fix: ${m.fix}`).join('; ');
      it.skip(`${spec.id} [${tier}] skipped: ${why}`, () => {});
      continue;
    }
    it(`${spec.id} [${tier}] is ${claim.tier.expected}`, () => {
      const { record, file } = recordOf(claim);
      expect(record.verdict, explain(record, file)).toBe(record.expected);
      // An expected error counts only as a failed precondition with every seed finished (asExpected).
      expect(asExpected(record), explain(record, file)).toBe(true);
    });

    const committedFile = recordPath(COMMITTED_DIR, tier, spec.id);
    it(`${spec.id} [${tier}] reproduces every per-seed metric of ${committedFile} where run alike`, (ctx) => {
      if (!existsSync(committedFile)) return ctx.skip(`no committed record ${committedFile}`);
      const { record, file } = recordOf(claim);
      const oracle = compareWithCommitted(record, readRecord(committedFile));
      if (!oracle.applies) {
        console.error(`claims: ${spec.id} [${tier}]: the committed record does not apply: ${oracle.why}`);
        return ctx.skip(`the committed record does not apply: ${oracle.why}`);
      }
      if (oracle.added.length > 0) console.error(`claims: ${spec.id} [${tier}]: metrics the committed record does not have yet (not compared): ${oracle.added.join(', ')}`);
      const lines = oracle.mismatches.map(formatMismatch);
      expect(lines, `${lines.length} of ${oracle.compared} per-seed values differ from ${committedFile} (new record: ${file}); a deliberate change is a spec version bump with new records`).toEqual([]);
    });
  }
});
