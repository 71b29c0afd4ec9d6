import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assess } from '../../src/claims/assess.ts';
import { backfillData, compareWithCommitted, dataDiffers, formatMismatch } from '../../src/results/oracle.ts';
import { readRecord, type DataUsed, type ResultRecord } from '../../src/results/record.ts';

/** The committed fast-tier records: the oracle's real inputs. */
const DIR = 'docs/results/records/fast';
const committed: ResultRecord[] = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => readRecord(join(DIR, f)));

const someData = (digest: string): DataUsed[] => [
  { dataset: 'cifar10', provenance: 'unofficial-copy', source: { kind: 'data-dir', where: 'cifar-10-batches-bin' }, files: [{ name: 'test_batch.bin', file: 'test_batch.bin', bytes: 1, sha256: digest }], digest },
];
/** A committed record as a run on known data has it: its own data field where it has one, else a stand-in one. */
const withData = (r: ResultRecord): ResultRecord => ({ ...r, data: r.data ?? someData('a'.repeat(64)) });
/** A fresh run's record: the same, deep-copied, so edits do not reach the committed one. */
const rerun = (r: ResultRecord): ResultRecord => structuredClone(withData(r));
const mnist = committed.find((r) => r.claim.id === 'mnist-no-leaking')!;

describe('committed records as an oracle', () => {
  it('a record equal to the committed one: applies, every per-seed metric compared, nothing differs', () => {
    for (const r of committed) {
      const o = compareWithCommitted(rerun(r), withData(r));
      expect(o.applies, r.claim.id).toBe(true);
      if (!o.applies) continue;
      expect(o.mismatches).toEqual([]);
      expect(o.seeds).toEqual(r.outcomes.map((x) => x.seed).sort((a, b) => a - b));
      expect(o.compared).toBe(r.outcomes.reduce((n, x) => n + Object.keys(x.metrics).length, 0));
    }
  });

  it('a metric that changed in its last digit is named with its seed and both values', () => {
    const fresh = rerun(mnist);
    const was = mnist.outcomes[1].metrics.adv_loss_fgsm;
    const now = was * (1 + Number.EPSILON * 4);
    expect(now).not.toBe(was);
    fresh.outcomes[1].metrics.adv_loss_fgsm = now;
    const o = compareWithCommitted(fresh, withData(mnist));
    expect(o.applies && o.mismatches).toEqual([{ claim: 'mnist-no-leaking', seed: mnist.outcomes[1].seed, metric: 'adv_loss_fgsm', committed: was, fresh: now }]);
    expect(o.applies && formatMismatch(o.mismatches[0])).toBe(`mnist-no-leaking seed ${mnist.outcomes[1].seed} adv_loss_fgsm: committed ${was}, now ${now}`);
  });

  it('a metric one record lacks, and a seed that failed in the new run, are mismatches too', () => {
    const fresh = rerun(mnist);
    delete fresh.outcomes[0].metrics.clean_loss;
    fresh.outcomes[2] = { ...fresh.outcomes[2], status: 'error', metrics: {}, error: { name: 'NonFiniteError', message: 'loss NaN' } };
    const o = compareWithCommitted(fresh, withData(mnist));
    if (!o.applies) throw new Error(o.why);
    const lines = o.mismatches.map(formatMismatch);
    expect(lines).toContain(`mnist-no-leaking seed 1 clean_loss: committed ${mnist.outcomes[0].metrics.clean_loss}, now absent`);
    expect(lines).toContain('mnist-no-leaking seed 3 status: committed ok, now error (NonFiniteError: loss NaN)');
    expect(lines.filter((l) => l.startsWith('mnist-no-leaking seed 3 '))).toHaveLength(1 + Object.keys(mnist.outcomes[2].metrics).length);
  });

  it('a metric only the new record has is named as added, never a mismatch', () => {
    const fresh = rerun(mnist);
    for (const o of fresh.outcomes) o.metrics.a_metric_added_since = 1.5;
    const o = compareWithCommitted(fresh, withData(mnist));
    if (!o.applies) throw new Error(o.why);
    expect(o.mismatches).toEqual([]);
    expect(o.added).toEqual(['a_metric_added_since']);
  });

  it('does not apply across spec versions, params, backends, thread counts or data files, and says why', () => {
    // Data of its own here, so the messages below do not depend on what the committed record names.
    const base: ResultRecord = { ...structuredClone(mnist), data: someData('a'.repeat(64)) };
    const v = mnist.claim.version;
    const { name: bn, version: bv, threads: bt } = mnist.backend;
    const th = (n: number) => `${n} thread${n === 1 ? '' : 's'}`;
    const seeds = mnist.outcomes.map((x) => x.seed);
    const cases: [string, (r: ResultRecord) => void, string][] = [
      ['version', (r) => (r.claim.version += 1), `spec version ${v + 1} now, ${v} in the committed record`],
      ['params', (r) => (r.paramsHash = '0123456789abcdef'), `params hash 0123456789abcdef now, ${mnist.paramsHash} in the committed record`],
      ['backend', (r) => (r.backend = { ...r.backend, name: 'webgpu' }), `backend webgpu ${bv}, ${th(bt)} now, ${bn} ${bv}, ${th(bt)} in the committed record`],
      ['backend version', (r) => (r.backend = { ...r.backend, version: '9.9.9' }), `backend ${bn} 9.9.9, ${th(bt)} now, ${bn} ${bv}, ${th(bt)} in the committed record`],
      ['threads', (r) => (r.backend = { ...r.backend, threads: bt + 1 }), `backend ${bn} ${bv}, ${th(bt + 1)} now, ${bn} ${bv}, ${th(bt)} in the committed record`],
      ['data', (r) => (r.data = someData('b'.repeat(64))), `other data files: cifar10: digest ${'a'.repeat(12)} (unofficial copy) in the committed record, ${'b'.repeat(12)} (unofficial copy) now`],
      ['dataset', (r) => (r.data = []), 'other data files: cifar10: only in the committed record'],
      ['seeds', (r) => r.outcomes.forEach((x) => (x.seed += 100)), `no seed in common (committed ${seeds.join(', ')}, now ${seeds.map((s) => s + 100).join(', ')})`],
    ];
    for (const [what, edit, why] of cases) {
      const fresh = structuredClone(base);
      edit(fresh);
      // Even with every metric changed, a record made otherwise is not judged by this one.
      fresh.outcomes.forEach((x) => (x.metrics.clean_acc = -1));
      const o = compareWithCommitted(fresh, base);
      expect(o.applies, what).toBe(false);
      if (!o.applies) expect(o.why, what).toBe(why);
    }
  });

  it('a committed record without data digests cannot judge, and says so', () => {
    const old = structuredClone(mnist);
    delete old.data;
    const o = compareWithCommitted(rerun(mnist), old);
    expect(o).toEqual({ applies: false, why: expect.stringMatching(/^the committed record names no data files \(made before records carried data digests\)/) });
    const noData = rerun(mnist);
    delete noData.data;
    expect(compareWithCommitted(noData, withData(mnist))).toEqual({ applies: false, why: expect.stringMatching(/^the new record names no data files/) });
  });

  it('data digests: equal sets agree; any difference is named', () => {
    expect(dataDiffers(someData('a'.repeat(64)), someData('a'.repeat(64)))).toBeUndefined();
    expect(dataDiffers([], someData('c'.repeat(64)))).toBe('cifar10: only in the new record');
  });
});

/**
 * Fault replay (issue 23): the committed records with simulated faults, as a broken harness
 * would have written them. Such faults mostly leave the verdict at `expected` (broken code
 * tends to refute); the oracle turns each into a failing claim test, naming the metrics.
 */
const faults: Record<string, (metrics: Record<string, number>) => void> = {
  // FGSM a no-op: every adversarial metric equals its clean counterpart, no gap.
  'FGSM a no-op': (m) => {
    for (const k of Object.keys(m)) {
      const clean = k.replace(/^adv_(acc|loss)_fgsm/, 'clean_$1');
      if (clean !== k && clean in m) m[k] = m[clean];
      if (/^leak_gap_fgsm/.test(k)) m[k] = 0;
    }
  },
  // A model that learned nothing: every accuracy at chance (10 classes).
  'a model at chance': (m) => {
    for (const k of Object.keys(m)) if (/acc/.test(k)) m[k] = 0.1;
  },
  // The leak gap's sign flipped (the mutation issue 23 found no test for).
  'a sign-flipped leak gap': (m) => {
    for (const k of Object.keys(m)) if (/gap/.test(k)) m[k] = -m[k];
  },
};

describe('fault replay through the oracle', () => {
  for (const [name, fault] of Object.entries(faults)) {
    it(`${name}: every committed record it touches fails the oracle, naming each changed metric with both values`, () => {
      let touched = 0;
      const sameVerdict: string[] = [];
      for (const r of committed) {
        const fresh = rerun(r);
        fresh.outcomes.forEach((o) => fault(o.metrics));
        const changed = fresh.outcomes.flatMap((o, i) => Object.keys(o.metrics).filter((k) => o.metrics[k] !== r.outcomes[i].metrics[k]).map((k) => `${r.claim.id} seed ${o.seed} ${k}: committed ${r.outcomes[i].metrics[k]}, now ${o.metrics[k]}`));
        if (changed.length === 0) continue;
        touched++;
        if (assess(r.claim.assertions, fresh.outcomes).verdict === r.expected) sameVerdict.push(r.claim.id);
        const o = compareWithCommitted(fresh, withData(r));
        if (!o.applies) throw new Error(`${r.claim.id}: ${o.why}`);
        expect(o.mismatches.map(formatMismatch).sort(), r.claim.id).toEqual(changed.sort());
      }
      // The fault reaches most records, and (for the record) how many verdicts it would have left alone.
      expect(touched).toBeGreaterThanOrEqual(Math.ceil(committed.length / 2));
      console.error(`${name}: ${touched} of ${committed.length} committed records changed; the verdict stayed at expected in ${sameVerdict.length} (${sameVerdict.join(', ') || 'none'}); the oracle fails all ${touched}`);
    });
  }
});

describe('backfilling a committed record\'s data from a fresh run', () => {
  const old = (): ResultRecord => {
    const r = structuredClone(mnist);
    delete r.data;
    return r;
  };
  const fresh = (): ResultRecord => ({ ...structuredClone(mnist), data: someData('d'.repeat(64)), finishedAt: '2030-01-01T00:00:00Z' });

  it('a fresh run that reproduced every per-seed metric gives its data, placed after environment; nothing else changes', () => {
    const r = backfillData(old(), fresh());
    if ('why' in r) throw new Error(r.why);
    expect(r.record.data).toEqual(someData('d'.repeat(64)));
    const keys = Object.keys(r.record);
    expect(keys[keys.indexOf('environment') + 1]).toBe('data');
    const { data: _, ...rest } = r.record;
    expect(rest).toEqual(old());
  });

  it('anything short of that leaves the record alone, saying why', () => {
    const changed = fresh();
    changed.outcomes[0].metrics.clean_acc += 1e-12;
    expect(backfillData(old(), changed)).toEqual({ why: expect.stringMatching(/^1 of \d+ per-seed values differ, e\.g\. mnist-no-leaking seed 1 clean_acc: committed /) });
    const fewer = fresh();
    fewer.outcomes = fewer.outcomes.slice(0, 2);
    expect(backfillData(old(), fewer)).toEqual({ why: `the fresh run lacks seeds ${mnist.outcomes[2].seed}` });
    const other = fresh();
    other.backend = { ...other.backend, threads: other.backend.threads + 1 };
    expect(backfillData(old(), other)).toEqual({ why: expect.stringMatching(/^backend .* now, .* in the committed record$/) });
    const noData = fresh();
    delete noData.data;
    expect(backfillData(old(), noData)).toEqual({ why: 'the fresh record names no data either' });
    expect(backfillData({ ...old(), data: [] }, fresh())).toEqual({ why: 'already names its data' });
  });
});
