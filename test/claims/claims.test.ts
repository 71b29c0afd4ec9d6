/**
 * The claim suite: one test per spec in claims/, at the tier LABEL_LEAK_TIER (default
 * fast), failing when the verdict differs from the spec's `expected`. Records go to
 * results/ (or LABEL_LEAK_RESULTS_DIR) so `label-leak report` can be made from the run.
 *
 *   LABEL_LEAK_TIER=fast|gpu|full    LABEL_LEAK_BACKEND=auto|wasm|cpu|webgpu|tensorflow
 *   LABEL_LEAK_DATA_DIR=DIR      LABEL_LEAK_RESULTS_DIR=DIR
 *   LABEL_LEAK_CLAIMS_DIR=DIR    (default claims; for trying out specs elsewhere)
 *   LABEL_LEAK_OFFLINE=1         (never download; CI sets it)
 *
 * As `label-leak run` does, a missing dataset is downloaded into the data directory before
 * anything trains; a claim whose data cannot be had is skipped by name, with the reason and
 * the fix.
 *
 * All claims live in this one file so they run one after another in one process (the
 * tfjs backend is process-global, and two trainings at once would only halve each other).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { BackendInfo } from '../../src/backend/info.ts';
import { startBackend } from '../../src/backend/select.ts';
import { isBackendName, isTier, TIERS, type Tier } from '../../src/spec/names.ts';
import { downloadProgress } from '../../src/cli/download-progress.ts';
import { ensureDatasets, type DatasetPlan } from '../../src/claims/datasets.ts';
import { loadAllSpecs } from '../../src/claims/load.ts';
import { runClaim } from '../../src/claims/runner.ts';
import type { LoadedSpec } from '../../src/claims/spec.ts';
import { inTestSuite } from '../../src/spec/claim.ts';
import { createProgress } from '../../src/cli/progress.ts';
import { recordPath, type ResultRecord } from '../../src/results/record.ts';

const tier = process.env.LABEL_LEAK_TIER ?? 'fast';
const backendName = process.env.LABEL_LEAK_BACKEND ?? 'auto';
const dataDir = process.env.LABEL_LEAK_DATA_DIR || undefined;
const resultsDir = process.env.LABEL_LEAK_RESULTS_DIR || 'results';
const CLAIMS_DIR = process.env.LABEL_LEAK_CLAIMS_DIR || 'claims';

// Without a timeoutMinutes a fast claim gets half an hour; a full one is left to run (a week).
// Without a timeoutMinutes a gpu claim gets two hours.
const timeoutMs = (spec: LoadedSpec) => (spec.tiers[tier as Tier]?.timeoutMinutes ?? (tier === 'fast' ? 30 : tier === 'gpu' ? 120 : 7 * 24 * 60)) * 60_000;

/** Everything a reader needs when a claim does not come out as expected. */
function explain(r: ResultRecord, file: string): string {
  const lines = [`${r.claim.id} [${r.tier}]: verdict ${r.verdict}, expected ${r.expected}`];
  for (const a of r.assertions) lines.push(`  ${a.name}: ${a.summary}`);
  for (const o of r.outcomes) if (o.error) lines.push(`  seed ${o.seed} failed: ${o.error.name}: ${o.error.message}`);
  lines.push(`  record: ${file}`);
  return lines.join('\n');
}

let specs: LoadedSpec[] = [];
let loadError: unknown;
let plan: DatasetPlan | undefined;
try {
  specs = loadAllSpecs(CLAIMS_DIR);
  if (isTier(tier)) {
    const downloads = downloadProgress(process.stderr);
    plan = await ensureDatasets(specs.filter((s) => s.tiers[tier]), tier, {
      dataDir,
      log: (line) => console.error(`claims: ${line}`),
      fetchOptions: { onProgress: downloads.onProgress, onNotice: downloads.onNotice },
      afterEach: () => downloads.stop(),
    });
  }
} catch (e) {
  loadError = e;
}

describe(`claims at the ${tier} tier (backend ${backendName})`, () => {
  let backend: BackendInfo;
  beforeAll(async () => {
    if (!isTier(tier)) throw new Error(`LABEL_LEAK_TIER must be one of ${TIERS.join(', ')}, got "${tier}"`);
    if (!isBackendName(backendName)) throw new Error(`LABEL_LEAK_BACKEND must be auto, wasm, cpu, webgpu or tensorflow, got "${backendName}"`);
    backend = await startBackend(backendName);
    console.error(`claims: backend ${backend.name} ${backend.version} — ${backend.device} (${backend.reason})`);
  });

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

  for (const spec of specs) {
    const t = tier as Tier;
    if (!spec.tiers[t]) {
      it.skip(`${spec.id} [${tier}] skipped: the claim has no ${tier} tier (it has: ${Object.keys(spec.tiers).join(', ')})`, () => {});
      continue;
    }
    if (!inTestSuite(spec.tiers[t])) {
      it.skip(`${spec.id} [${tier}] left to \`npm run claims\`: its tier is "suite": "claims-only" (too slow for npm test); test/unit/claims-only-records.test.ts checks its committed record`, () => {});
      continue;
    }
    const skipped = plan?.skipped.find((s) => s.claim === spec.id);
    if (skipped) {
      const why = skipped.missing.map((m) => `needs ${m.dataset}: ${m.reason} — fix: ${m.fix}`).join('; ');
      it.skip(`${spec.id} [${tier}] skipped: ${why}`, () => {});
      continue;
    }
    it(`${spec.id} [${tier}] is ${spec.tiers[t]?.expected ?? '?'}`, { timeout: timeoutMs(spec) }, async () => {
      const record = await runClaim(spec, { tier: t, backend, dataDir, resultsDir, resume: false, progress: createProgress(process.stderr) });
      expect(record.verdict, explain(record, recordPath(resultsDir, t, spec.id))).toBe(record.expected);
    });
  }
});
