import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditAssertions, auditModel, defaultAuditOptions, flagOf, largestDrop, type AuditResult } from '../../src/audit/audit.ts';
import { renderAudit } from '../../src/audit/render.ts';
import { startBackend } from '../../src/backend/select.ts';
import { classifierOf } from '../../src/models/export.ts';
import { loadTfModel, modelFiles } from '../../src/models/model-files.ts';
import { leakyModel, leakyWorld } from '../helpers/leaky-model.ts';

const tmp = mkdtempSync(join(tmpdir(), 'llk-audit-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  await startBackend('wasm');
});

const quiet = { start() {}, tick() {}, stop() {} };
const world = leakyWorld(1);

/** Saves the hand-built model to disk, loads it back as any user's model would be, and audits it. */
async function auditSaved(leaks: boolean): Promise<{ result: AuditResult; tensorsBefore: number }> {
  const dir = join(tmp, leaks ? 'leaking' : 'clean');
  const net = leakyModel(world, leaks);
  await net.save(modelFiles(dir));
  net.dispose();
  const tensorsBefore = tf.memory().numTensors;
  const loaded = await loadTfModel(dir);
  const model = classifierOf(loaded.net, { name: dir, numClasses: 10, outputs: loaded.outputs });
  try {
    const opts = { ...defaultAuditOptions(6), testImages: 200, probeImages: 300 };
    return { result: await auditModel(model, world.data, opts, [1, 2, 3], quiet), tensorsBefore };
  } finally {
    model.dispose();
  }
}

describe('audit of saved models built to leak and not to', () => {
  it('a model whose detector reads the true label from the gradient sign is flagged for label leaking and gradient masking', async () => {
    const { result, tensorsBefore } = await auditSaved(true);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(result.flags).toEqual({ labelLeaking: 'yes', gradientMasking: 'yes' });
    expect(result.attacks).toEqual(['fgsm', 'fgsm-pred', 'pgd', 'bim']);
    // PGD ≪ FGSM-pred and BIM ≪ FGSM each raise the flag on their own; the dip is in every seed
    // (below) but varies too much across three seeds' test images for its interval to clear 0.01.
    const [dip, pgd, bim] = result.assertions.masking.map((a) => a.verdict);
    expect([pgd, bim]).toEqual(['reproduced', 'reproduced']);
    expect(dip).not.toBe('refuted');
    const m = result.outcomes.map((o) => o.metrics);
    for (const s of m) {
      expect(s.adv_acc_fgsm).toBeGreaterThan(s.clean_acc);
      expect(s.leak_gap_fgsm).toBeCloseTo(s.adv_acc_fgsm - s.clean_acc, 12);
      // The bottom half's gradient sign spells the label: a linear probe reads it.
      expect(s.probe_acc_true).toBeGreaterThan(0.9);
      expect(s.loss_drop).toBeGreaterThan(0);
      // Crafted with its own prediction, FGSM cannot spell the true label of a misclassified image.
      expect(s.adv_acc_fgsm_pred).toBeLessThan(s.adv_acc_fgsm);
    }
    const report = renderAudit(result, ['# audit']);
    expect(report).toMatch(/label leaking: YES/);
    expect(report).toMatch(/gradient masking: SUSPECTED/);
    expect(report).toMatch(/not monotone: it drops by/);
  });

  it('the same model without the detector is flagged for neither', async () => {
    const { result, tensorsBefore } = await auditSaved(false);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(result.flags).toEqual({ labelLeaking: 'no', gradientMasking: 'no' });
    for (const o of result.outcomes) {
      expect(o.metrics.adv_acc_fgsm).toBeLessThan(o.metrics.clean_acc);
      expect(o.metrics.loss_drop).toBe(0);
    }
    const report = renderAudit(result, ['# audit']);
    expect(report).toMatch(/label leaking: no/);
    expect(report).toMatch(/gradient masking: no/);
    expect(report).toMatch(/monotone: it never drops/);
  });
});

describe('pieces of the verdict', () => {
  it('the attack bar counts test images batch by batch, not one silent step', async () => {
    const net = leakyModel(world, false);
    const model = classifierOf(net, { name: 'bar', numClasses: 10, outputs: 'logits' });
    const bars: { label: string; total: number; ticks: number[] }[] = [];
    const watching = {
      start: (label: string, total: number) => void bars.push({ label, total, ticks: [] }),
      tick: (done: number) => void bars.at(-1)!.ticks.push(done),
      stop() {},
    };
    try {
      await auditModel(model, world.data, { ...defaultAuditOptions(6), testImages: 200, probeImages: 0, batchSize: 50 }, [1], watching);
    } finally {
      model.dispose();
    }
    const attacks = bars.find((b) => b.label.includes('attacks on'))!;
    expect(attacks.total).toBe(200);
    expect(attacks.ticks).toEqual([50, 100, 150, 200]);
  });

  it('the largest drop of a curve sees a dip that climbs again, and is 0 for a rising curve', () => {
    const curve = (losses: number[]) => losses.map((loss, i) => ({ eps: i * 2, loss }));
    expect(largestDrop(curve([1, 2, 3, 4]))).toEqual({ drop: 0, from: 0, to: 0 });
    expect(largestDrop(curve([1, 3, 2.5, 1.5, 5]))).toEqual({ drop: 1.5, from: 2, to: 6 });
    expect(largestDrop(curve([1, 3, 2, 6, 4]))).toEqual({ drop: 2, from: 6, to: 8 });
  });

  it('a flag is raised by any reproduced assertion, lowered only when all are refuted', () => {
    expect(flagOf(['refuted', 'reproduced'])).toBe('yes');
    expect(flagOf(['refuted', 'refuted'])).toBe('no');
    expect(flagOf(['refuted', 'inconclusive'])).toBe('undecided');
    expect(flagOf([])).toBe('undecided');
  });

  it('the PGD and BIM masking checks appear only when their attacks exist', () => {
    const opts = { maskingGap: 0.2, lossFall: 0.01, epsSweep: [0, 4, 8] };
    const metrics = (attacks: string[]) => auditAssertions(opts, attacks as never).masking.map((a) => `${a.metric} − ${a.minus ?? ''}`);
    expect(metrics(['fgsm', 'bim'])).toEqual(['loss_drop − ', 'adv_acc_fgsm − adv_acc_bim']);
    expect(metrics(['fgsm', 'fgsm-pred', 'pgd', 'bim'])).toEqual(['loss_drop − ', 'adv_acc_fgsm_pred − adv_acc_pgd', 'adv_acc_fgsm − adv_acc_bim']);
    expect(auditAssertions(opts, ['bim'] as never).leaking).toEqual([]);
  });
});
