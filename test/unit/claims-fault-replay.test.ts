import { renderName } from '../../src/spec/name-template.ts';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { assess, expandPreconditions } from '../../src/claims/assess.ts';
import { loadSpecDir } from '../../src/claims/spec-files.ts';
import { experiments } from '../../src/experiments/registry.ts';
import type { ResultRecord, SeedResult } from '../../src/results/record-types.ts';
import { assertionsFor } from '../../src/spec/claim.ts';

/**
 * Fault replay: the committed fast records, with faults a broken harness would cause
 * simulated on their metrics, go through `assess` with each spec's preconditions. A broken
 * harness tends to produce "refuted" (or, for an absence claim, "reproduced"), so the
 * assertions alone let most faults through with the expected verdict; the preconditions must
 * turn every one into `error`.
 *
 * The npm-test claims' records predate the metrics some preconditions read (`loss_eps_1`,
 * `adv_linf_*`, the difficulty sweep's per-dataset losses). Those come from a fresh run of the
 * same seeds (test/fixtures-records/fast-metrics.json, its command inside); the first test
 * pins that run to the committed records, every committed metric to the last digit. The
 * claims-only records (the positive controls, leak-regime) were made under their
 * preconditions and are replayed from their own metrics.
 */

const RECORDS = new URL('../../docs/results/records/fast/', import.meta.url).pathname;
const FRESH = JSON.parse(readFileSync(new URL('../fixtures-records/fast-metrics.json', import.meta.url), 'utf8')) as {
  source: string;
  claims: Record<string, Record<string, Record<string, number>>>;
};
/**
 * Records the fresh run did not make: each was itself made under its spec's preconditions, so it
 * carries every metric they read, and its own per-seed metrics are what is replayed.
 */
const fromOwnRecord = (r: ResultRecord) => FRESH.claims[r.claim.id] === undefined;

const specs = loadSpecDir(new URL('../../claims/', import.meta.url).pathname, experiments);
const records: ResultRecord[] = readdirSync(RECORDS)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(RECORDS + f, 'utf8')));

const specOf = (r: ResultRecord) => specs.find((s) => s.id === r.claim.id)!;
const preconditionsOf = (r: ResultRecord) => {
  const spec = specOf(r);
  // Named as the runner names them: from the params they test ({threshold|%} → 15%).
  return expandPreconditions(assertionsFor(spec.preconditions ?? [], 'fast'), spec.kind.metricNames(r.params)).map((p) => ({ ...p, name: renderName(p.name, r.params, p) }));
};

/** The committed outcomes with the metrics to replay: the fresh run's (a superset of the committed ones), or the record's own. */
const healthy = (r: ResultRecord): SeedResult[] =>
  r.outcomes.map((o) => ({ ...o, metrics: { ...(fromOwnRecord(r) ? o.metrics : FRESH.claims[r.claim.id]![String(o.seed)]) } }));

// A metric name is [part.][control_]base[_dataset][{cell}]: one model's metrics share everything but the base.
const NAME = /^((?:[a-z][a-z0-9-]*\.)?)(control_)?(.*?)((?:_(?:fashion_mnist|mnist|cifar10))?)((?:\{[^{}]*\})?)$/;
type Model = Map<string, string>; // base → full metric name

function modelsOf(metrics: Record<string, number>): Model[] {
  const byModel = new Map<string, Model>();
  for (const name of Object.keys(metrics)) {
    const m = NAME.exec(name)!;
    const key = `${m[1]}${m[2] ?? ''}|${m[4]}|${m[5]}`;
    if (!byModel.has(key)) byModel.set(key, new Map());
    byModel.get(key)!.set(m[3], name);
  }
  return [...byModel.values()];
}

type Fault = (base: string, get: (base: string) => number | undefined) => number | undefined;

/** Every model's metrics rewritten by `fault` (undefined: unchanged); the loss curve's summary recomputed from its points. */
function simulate(metrics: Record<string, number>, fault: Fault): Record<string, number> {
  const out = { ...metrics };
  for (const model of modelsOf(metrics)) {
    const get = (base: string) => (model.has(base) ? metrics[model.get(base)!] : undefined);
    for (const [base, name] of model) {
      const v = fault(base, get);
      if (v !== undefined) out[name] = v;
    }
    const curve = [...model.keys()].filter((b) => /^loss_eps_/.test(b)).map((b) => ({ eps: Number(b.slice('loss_eps_'.length)), loss: out[model.get(b)!] }));
    if (model.has('loss_peak') && curve.length > 0) {
      curve.sort((a, b) => a.eps - b.eps);
      const peak = curve.reduce((best, p) => (p.loss > best.loss ? p : best));
      out[model.get('loss_peak')!] = peak.loss;
      out[model.get('loss_peak_eps')!] = peak.eps;
      out[model.get('loss_rise')!] = peak.loss - curve[0].loss;
      out[model.get('loss_fall')!] = peak.loss - curve[curve.length - 1].loss;
    }
  }
  return out;
}

const isGap = (b: string) => b === 'leak_gap_fgsm' || b === 'gap';

const FAULTS: Record<string, Fault> = {
  // The attack returns its input: adversarial numbers equal clean ones, the loss along the sign is flat, nothing moves.
  'FGSM a no-op': (b, get) => {
    if (/^adv_acc_|^acc_eps_/.test(b)) return get('clean_acc');
    if (/^adv_loss_|^loss_eps_/.test(b)) return get('clean_loss');
    if (/^adv_linf_/.test(b) || isGap(b)) return 0;
    return undefined;
  },
  // Training did nothing: every accuracy at chance, every loss ln 10.
  'a model at chance': (b) => {
    if (/(^|_)acc(_|$)/.test(b)) return 0.1;
    if (/^(clean_loss|adv_loss_.*|loss_eps_.*)$/.test(b)) return Math.log(10);
    if (isGap(b)) return 0;
    return undefined;
  },
  // The attack steps against the gradient: the leak gap's sign flips, and the loss falls along the sign (mirrored about ε = 0).
  'the leak gap and the attack direction flipped': (b, get) => {
    const flip = (v: number | undefined, about: number | undefined) => (v === undefined || about === undefined ? undefined : 2 * about - v);
    if (isGap(b)) return -get(b)!;
    if (/^adv_acc_|^acc_eps_/.test(b)) return Math.min(1, Math.max(0, flip(get(b), get('clean_acc'))!));
    if (/^adv_loss_|^loss_eps_/.test(b)) return Math.max(0, flip(get(b), get('clean_loss'))!);
    return undefined;
  },
};

describe('the fresh run behind the fixture is the committed records’ run', () => {
  it(`names ${FRESH.source.slice(0, 60)}…`, () => expect(FRESH.source).toMatch(/label-leak run .* --tier fast/));

  for (const r of records.filter((x) => !fromOwnRecord(x))) {
    it(`${r.claim.id}: every committed per-seed metric equals the fresh run’s to the last digit`, () => {
      for (const o of r.outcomes) {
        const fresh = FRESH.claims[r.claim.id]?.[String(o.seed)];
        expect(fresh, `${r.claim.id} seed ${o.seed} is in the fixture`).toBeDefined();
        for (const [k, v] of Object.entries(o.metrics)) expect(fresh[k], `${r.claim.id} seed ${o.seed} ${k}`).toBe(v);
      }
    });
  }
  for (const r of records.filter(fromOwnRecord)) {
    it(`${r.claim.id}: not in the fresh run; made under its preconditions, its own record has every metric they read`, () => {
      expect(r.preconditions?.length).toBeGreaterThan(0);
      const read = preconditionsOf(r).flatMap((p) => [p.metric, ...(p.minus ? [p.minus] : [])]);
      expect(read.length).toBeGreaterThan(0);
      for (const o of r.outcomes) for (const m of read) expect(o.metrics[m], `${r.claim.id} seed ${o.seed} ${m}`).toBeTypeOf('number');
    });
  }
});

describe('healthy replay: the committed outcomes meet their spec’s preconditions and keep their verdict', () => {
  for (const r of records) {
    it(`${r.claim.id} → ${r.expected}, every precondition holding`, () => {
      const pre = preconditionsOf(r);
      expect(pre.length).toBeGreaterThan(0);
      const a = assess(r.claim.assertions, healthy(r), pre);
      expect(a.preconditions!.filter((p) => !p.holds).map((p) => p.summary)).toEqual([]);
      expect(a.verdict).toBe(r.expected);
    });
  }
});

describe('fault replay: every simulated fault ends as error, never as the expected verdict', () => {
  for (const r of records) {
    for (const [fault, f] of Object.entries(FAULTS)) {
      const before = healthy(r);
      const after = before.map((o) => ({ ...o, metrics: simulate(o.metrics, f) }));
      const changed = after.some((o, i) => JSON.stringify(o.metrics) !== JSON.stringify(before[i].metrics));
      if (!changed) {
        it(`${r.claim.id}, ${fault}: does not apply (the claim has no metric this fault touches)`, () => {
          expect(modelsOf(before[0].metrics).some((m) => [...m.keys()].some((b) => /^adv_|^loss_eps_|gap/.test(b)))).toBe(false);
        });
        continue;
      }
      it(`${r.claim.id}, ${fault} → error (expected: ${r.expected})`, () => {
        const a = assess(r.claim.assertions, after, preconditionsOf(r));
        expect(a.verdict, a.preconditions!.map((p) => p.summary).join('\n')).toBe('error');
      });
    }
  }

  it('without the preconditions, faulted replays keep the expected verdict: the assertions alone cannot tell a broken harness', () => {
    const passing: string[] = [];
    for (const r of records) {
      for (const [fault, f] of Object.entries(FAULTS)) {
        const before = healthy(r);
        const after = before.map((o) => ({ ...o, metrics: simulate(o.metrics, f) }));
        const applies = after.some((o, i) => JSON.stringify(o.metrics) !== JSON.stringify(before[i].metrics));
        if (applies && assess(r.claim.assertions, after).verdict === r.expected) passing.push(`${r.claim.id}, ${fault}`);
      }
    }
    console.log(`without preconditions, ${passing.length} faulted replays keep the expected verdict:\n  ${passing.join('\n  ')}`);
    expect(passing.length).toBeGreaterThan(0);
  });

  it('an errored seed makes the verdict error in every claim, whatever the other seeds show', () => {
    for (const r of records) {
      // As the runner keeps a seed with a non-finite metric: its finite metrics stay, its status is error.
      const outcomes = healthy(r).map((o, i) => (i === 1 ? { ...o, status: 'error' as const, error: { name: 'NonFiniteError', message: 'simulated' } } : o));
      expect(assess(r.claim.assertions, outcomes, preconditionsOf(r)).verdict, r.claim.id).toBe('error');
    }
  });
});
