import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { checkpointDir, checkRecordOnDisk, ResumeError, runClaim, supersededPath, type RunClaimOptions } from '../../src/claims/runner.ts';
import type { RunContext, SeedOutcome } from '../../src/experiments/types.ts';
import { WriteError } from '../../src/util/write-error.ts';
import { withLock } from '../../src/util/lock.ts';
import { loadSpecFile } from '../../src/claims/spec-files.ts';
import type { LoadedSpec } from '../../src/claims/spec.ts';
import type { ProgressSink } from '../../src/train/progress.ts';
import { Interrupted } from '../../src/train/errors.ts';
import { readRecord, recordPath, type Environment } from '../../src/results/record.ts';
import { runs, standInRegistry } from '../fixtures-specs/stand-in-kind.ts';

const environment: Environment = {
  packages: { '@tensorflow/tfjs': '4.22.0' },
  gitCommit: 'unknown',
  gitDirty: null,
  node: process.version,
  machine: { cpuModel: 'test', cpus: 2, os: 'test', memoryGiB: 1 },
};
const backend = { name: 'cpu', version: '4.22.0', threads: 1, device: 'CPU', reason: 'test' };
const silent: ProgressSink = { start() {}, tick() {}, stop() {} };

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'll-run-'));
  runs.length = 0;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function spec(id = 'stand-in-leak', edit?: (s: Record<string, any>) => void): LoadedSpec {
  const json = JSON.parse(readFileSync(`test/fixtures-specs/${id}.json`, 'utf8'));
  edit?.(json);
  const specDir = join(dir, 'specs');
  mkdirSync(specDir, { recursive: true });
  writeFileSync(join(specDir, `${id}.json`), JSON.stringify(json));
  return loadSpecFile(join(specDir, `${id}.json`), standInRegistry);
}

const opts = (over: Partial<RunClaimOptions> = {}): RunClaimOptions => ({
  tier: 'fast',
  backend,
  resultsDir: join(dir, 'results'),
  resume: false,
  progress: silent,
  environment,
  ...over,
});

describe('running a claim', () => {
  it('runs every seed once, writes a valid record and computes the verdict', async () => {
    const record = await runClaim(spec(), opts());
    expect(runs.map((r) => r.seed)).toEqual([1, 2, 3]);
    expect(record.verdict).toBe('reproduced');
    expect(record.expected).toBe('reproduced');
    expect(record.pendingSeeds).toEqual([]);
    expect(record.outcomes.map((o) => o.status)).toEqual(['ok', 'ok', 'ok']);
    expect(record.assertions.map((a) => a.name)).toEqual(['adversarial accuracy above clean', 'clean accuracy is not trivial']);
    const onDisk = readRecord(recordPath(join(dir, 'results'), 'fast', 'stand-in-leak'));
    expect(onDisk).toEqual(record);
  });

  it('keeps --set overrides in the record, which still passes the record schema', async () => {
    const record = await runClaim(spec(), opts({ overrides: ['training.epochs=5'] }));
    expect(record.overrides).toEqual(['training.epochs=5']);
    expect(readRecord(recordPath(join(dir, 'results'), 'fast', 'stand-in-leak')).overrides).toEqual(['training.epochs=5']);
    expect((await runClaim(spec(), opts())).overrides).toBeUndefined();
  });

  it('a run that holds every seed of its record keeps its own seed order', async () => {
    const record = await runClaim(spec(), opts({ seeds: [3, 1, 2] }));
    expect(record.seeds).toEqual([3, 1, 2]);
    expect(record.outcomes.map((o) => o.seed)).toEqual([3, 1, 2]);
  });

  it('a run without --set values, or without preconditions, records none (no empty lists)', async () => {
    for (const overrides of [undefined, []]) {
      const record = await runClaim(spec(), opts({ overrides }));
      expect(record).not.toHaveProperty('overrides');
      expect(record.claim).not.toHaveProperty('preconditions');
      const onDisk = JSON.parse(readFileSync(recordPath(join(dir, 'results'), 'fast', 'stand-in-leak'), 'utf8'));
      expect(onDisk).not.toHaveProperty('overrides');
      expect(onDisk.claim).not.toHaveProperty('preconditions');
    }
  });

  it('only the tier’s assertions count, and a seed override replaces the tier’s seeds', async () => {
    const record = await runClaim(spec(), opts({ tier: 'full', seeds: [7] }));
    expect(runs.map((r) => r.seed)).toEqual([7]);
    expect(record.assertions.map((a) => a.name)).toEqual(['adversarial accuracy above clean']);
    expect(record.verdict).toBe('inconclusive'); // one seed never decides
  });

  it('a precondition the run misses makes the verdict error, named in the record, which passes the record schema', async () => {
    const withPre = (threshold: number) => (s: Record<string, any>) => {
      s.preconditions = [{ name: 'the model learned', metric: 'clean_acc', op: 'above', threshold }];
    };
    const met = await runClaim(spec('stand-in-leak', withPre(0.5)), opts());
    expect(met.verdict).toBe('reproduced');
    expect(met.claim.preconditions).toEqual([{ name: 'the model learned', metric: 'clean_acc', op: 'above', threshold: 0.5, tolerance: 0 }]);
    // The stand-in's clean accuracy is 0.6 ± noise: a bar at 0.7 is missed in every seed.
    const missed = await runClaim(spec('stand-in-leak', withPre(0.7)), opts());
    expect(missed.verdict).toBe('error');
    expect(missed.preconditions?.map((p) => [p.name, p.holds, p.failedSeeds])).toEqual([['the model learned', false, [1, 2, 3]]]);
    expect(readRecord(recordPath(join(dir, 'results'), 'fast', 'stand-in-leak'))).toEqual(missed);
  });

  it('a refuting claim is refuted', async () => {
    expect((await runClaim(spec('stand-in-no-gap'), opts())).verdict).toBe('refuted');
  });

  it('gives each seed its own checkpoint folder under the results folder', async () => {
    await runClaim(spec(), opts());
    expect(runs.map((r) => r.ctx.checkpointDir)).toEqual([1, 2, 3].map((s) => join(dir, 'results', 'checkpoints', 'fast', 'stand-in-leak', `seed-${s}`)));
  });

  it('a seed that throws is kept as an error and makes the verdict error, and the other seeds still run', async () => {
    const record = await runClaim(spec('stand-in-leak', (s) => (s.tiers.fast.params.failSeeds = [2])), opts());
    expect(runs.map((r) => r.seed)).toEqual([1, 2, 3]);
    expect(record.verdict).toBe('error');
    expect(record.outcomes[1]).toMatchObject({ seed: 2, status: 'error', error: { message: 'stand-in failure on seed 2' } });
  });

  it('NaN in a metric is an error, never a pass', async () => {
    const record = await runClaim(spec('stand-in-leak', (s) => (s.tiers.fast.params.nanSeeds = [3])), opts());
    expect(record.verdict).toBe('error');
    expect(record.outcomes[2].error).toEqual({ name: 'NonFiniteError', message: 'non-finite metrics: adv_acc_fgsm=NaN' });
    expect(record.outcomes[2].metrics).not.toHaveProperty('adv_acc_fgsm');
  });

  it('a diverging training run (NonFiniteError) is an error', async () => {
    const s = spec('stand-in-leak', (j) => {
      j.experiment = 'diverging';
      j.tiers.fast.params = {};
      j.tiers.full.params = {};
      delete j.writeUpFigure.values;
      j.assertions = [{ name: 'clean', metric: 'clean_acc', op: 'above', threshold: 0, tolerance: 0 }];
    });
    const record = await runClaim(s, opts());
    expect(record.verdict).toBe('error');
    expect(record.outcomes.every((o) => o.error?.name === 'NonFiniteError')).toBe(true);
  });
});

describe('names from parameters', () => {
  it('the record and its assertion results carry names rendered from the tier\'s params and the check\'s numbers', async () => {
    const named = spec('stand-in-leak', (s) => (s.assertions[0].name = 'adversarial accuracy more than {tolerance|points} above clean, with the gap set to {gap|%}'));
    const record = await runClaim(named, opts());
    const want = 'adversarial accuracy more than 0.5 points above clean, with the gap set to 5%';
    expect(record.claim.assertions[0].name).toBe(want);
    expect(record.assertions[0].name).toBe(want);
  });
});

describe('interruption and --resume', () => {
  it('an interrupted seed re-throws after the finished seeds are saved, and resume runs only what is left', async () => {
    const interrupted = spec('stand-in-leak', (s) => (s.tiers.fast.params.interruptSeeds = [3]));
    await expect(runClaim(interrupted, opts())).rejects.toBeInstanceOf(Interrupted);
    const file = recordPath(join(dir, 'results'), 'fast', 'stand-in-leak');
    const partial = readRecord(file);
    expect(partial.outcomes.map((o) => o.seed)).toEqual([1, 2]);
    expect(partial.pendingSeeds).toEqual([3]);

    // Same version and params (the interrupt list is part of the params, so keep it out of the hash by editing nothing else).
    runs.length = 0;
    const same = spec('stand-in-leak', (s) => (s.tiers.fast.params.interruptSeeds = [3]));
    await expect(runClaim(same, opts({ resume: true }))).rejects.toBeInstanceOf(Interrupted);
    expect(runs.map((r) => r.seed)).toEqual([3]);
  });

  it('an interrupted run writes its record when it stops: the record\'s finish time is the interruption\'s', async () => {
    let stopping = '';
    const s = withRun(async (_p, ctx) => {
      if (ctx.seed === 1) return fine();
      await new Promise((r) => setTimeout(r, 20));
      stopping = new Date().toISOString();
      throw new Interrupted();
    });
    await expect(runClaim(s, opts({ seeds: [1, 2] }))).rejects.toBeInstanceOf(Interrupted);
    const saved = readRecord(recordPath(join(dir, 'results'), 'fast', 'stand-in-leak'));
    expect(saved.pendingSeeds).toEqual([2]);
    expect(saved.finishedAt >= stopping).toBe(true);
  });

  it('resume keeps finished seeds, re-runs failed ones, and keeps checkpoints of the seed in flight', async () => {
    const failing = spec('stand-in-leak', (s) => (s.tiers.fast.params.failSeeds = [2]));
    await runClaim(failing, opts());
    runs.length = 0;
    const ckpt = checkpointDir(join(dir, 'results'), 'fast', 'stand-in-leak', 2);
    mkdirSync(ckpt, { recursive: true });
    writeFileSync(join(ckpt, 'state.json'), '{}');
    const notices: string[] = [];
    const record = await runClaim(failing, opts({ resume: true, notice: (l) => void notices.push(l) }));
    expect(runs.map((r) => r.seed)).toEqual([2]);
    // The seeds it did not train are named, with when they finished.
    expect(notices.filter((l) => l.includes(': re-used, finished ')).map((l) => l.replace(/ \(\d\/3\).*/, ''))).toEqual([
      'stand-in-leak [fast] seed 1',
      'stand-in-leak [fast] seed 3',
    ]);
    expect(record.outcomes.map((o) => o.status)).toEqual(['ok', 'error', 'ok']);
    expect(existsSync(join(ckpt, 'state.json'))).toBe(true); // failed seeds keep their checkpoint
  });

  it('a fresh run (no resume) clears stale checkpoints and finished seeds remove theirs', async () => {
    const ckpt = checkpointDir(join(dir, 'results'), 'fast', 'stand-in-leak', 1);
    mkdirSync(ckpt, { recursive: true });
    writeFileSync(join(ckpt, 'stale.json'), '{}');
    await runClaim(spec(), opts());
    expect(existsSync(ckpt)).toBe(false);
    // No empty folders left either: checkpoints/fast/stand-in-leak, checkpoints/fast, checkpoints.
    expect(existsSync(join(dir, 'results', 'checkpoints'))).toBe(false);
  });

  it('a fresh run hands each seed an empty checkpoint folder; --resume hands it what an earlier run left', async () => {
    const ckpt = checkpointDir(join(dir, 'results'), 'fast', 'stand-in-leak', 1);
    const seen: boolean[] = [];
    const s = withRun(async (_p, ctx) => {
      seen.push(existsSync(join(ctx.checkpointDir!, 'left.json')));
      throw new Error('stop here, keeping the checkpoint');
    });
    for (const resume of [false, true]) {
      mkdirSync(ckpt, { recursive: true });
      writeFileSync(join(ckpt, 'left.json'), '{}');
      await runClaim(s, opts({ seeds: [1], resume }));
    }
    expect(seen).toEqual([false, true]);
  });

  it('a seed that finishes removes the checkpoints it wrote; one that fails keeps them', async () => {
    const s = withRun(async (_p, ctx) => {
      const sub = join(ctx.checkpointDir!, 'adversarial-0123456789abcdef');
      mkdirSync(sub, { recursive: true });
      writeFileSync(join(sub, 'checkpoint.json'), '{}');
      if (ctx.seed === 2) throw new Error('failed after a checkpoint');
      return fine();
    });
    const record = await runClaim(s, opts({ seeds: [1, 2] }));
    expect(record.outcomes.map((o) => o.status)).toEqual(['ok', 'error']);
    expect(existsSync(checkpointDir(join(dir, 'results'), 'fast', 'stand-in-leak', 1))).toBe(false);
    expect(existsSync(join(checkpointDir(join(dir, 'results'), 'fast', 'stand-in-leak', 2), 'adversarial-0123456789abcdef', 'checkpoint.json'))).toBe(true);
  });

  it('a finished run leaves another claim\'s checkpoints, and a failed seed\'s, where they are', async () => {
    const other = join(dir, 'results', 'checkpoints', 'fast', 'another-claim', 'seed-1');
    mkdirSync(other, { recursive: true });
    writeFileSync(join(other, 'state.json'), '{}');
    await runClaim(spec(), opts());
    expect(existsSync(join(other, 'state.json'))).toBe(true);
    expect(existsSync(join(dir, 'results', 'checkpoints', 'fast', 'stand-in-leak'))).toBe(false);
  });

  it('refuses to resume from a record of another spec version, and says what to do', async () => {
    await runClaim(spec(), opts());
    const bumped = spec('stand-in-leak', (s) => (s.version = 2));
    await expect(runClaim(bumped, opts({ resume: true }))).rejects.toThrowError(ResumeError);
    await expect(runClaim(bumped, opts({ resume: true }))).rejects.toThrowError(/version 1 of spec stand-in-leak, which is now version 2.*without --resume/);
  });

  it('refuses to resume when the params changed under the same version', async () => {
    await runClaim(spec(), opts());
    const changed = spec('stand-in-leak', (s) => (s.tiers.fast.params.gap = 0.1));
    await expect(runClaim(changed, opts({ resume: true }))).rejects.toThrowError(/different fast params.*bump the spec's version/);
  });

  it('a record merges seeds across runs: --resume with another seed list never drops a finished seed', async () => {
    const file = recordPath(join(dir, 'results'), 'fast', 'stand-in-leak');
    await runClaim(spec(), opts({ seeds: [1, 2] }));
    runs.length = 0;
    const record = await runClaim(spec(), opts({ seeds: [3], resume: true }));
    expect(runs.map((r) => r.seed)).toEqual([3]);
    expect(record.outcomes.map((o) => [o.seed, o.status])).toEqual([[1, 'ok'], [2, 'ok'], [3, 'ok']]);
    expect(record.seeds).toEqual([1, 2, 3]);
    expect(record.assertions[0].n).toBe(3);
    expect(readRecord(file)).toEqual(record);
    // A fresh run of one seed re-runs that seed only, and keeps the others too.
    runs.length = 0;
    const again = await runClaim(spec(), opts({ seeds: [2] }));
    expect(runs.map((r) => r.seed)).toEqual([2]);
    expect(again.outcomes.map((o) => o.seed)).toEqual([1, 2, 3]);
  });

  it('a fresh run with other params sets the old record aside (finished seeds kept), never deletes it', async () => {
    await runClaim(spec(), opts({ seeds: [1, 2] }));
    const notices: string[] = [];
    const changed = spec('stand-in-leak', (s) => (s.tiers.fast.params.gap = 0.1));
    const record = await runClaim(changed, opts({ seeds: [3], notice: (l) => notices.push(l) }));
    expect(record.outcomes.map((o) => o.seed)).toEqual([3]);
    const aside = join(dir, 'results', 'fast', 'superseded');
    const [name] = readdirSync(aside);
    expect(readRecord(join(aside, name)).outcomes.map((o) => o.seed)).toEqual([1, 2]);
    expect(notices.join('\n')).toMatch(/finished seeds \(1, 2\) were moved to .*superseded/);
  });

  it('records set aside one after another are all kept in superseded/', async () => {
    for (const version of [1, 2, 3]) await runClaim(spec('stand-in-leak', (s) => (s.version = version)), opts({ seeds: [1], now: clock(`2026-12-0${version}T01:00:00.000Z`, 1000) }));
    const aside = join(dir, 'results', 'fast', 'superseded');
    expect(readdirSync(aside).map((f) => readRecord(join(aside, f)).claim.version).sort()).toEqual([1, 2]);
    expect(readRecord(recordPath(join(dir, 'results'), 'fast', 'stand-in-leak')).claim.version).toBe(3);
  });

  it('refusing --resume after a changed --set names the --set values, not the spec version', async () => {
    const withSet = spec('stand-in-leak', (s) => (s.tiers.fast.params.gap = 0.1));
    await runClaim(withSet, opts({ overrides: ['gap=0.1'] }));
    const err = (await runClaim(spec(), opts({ resume: true })).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(ResumeError);
    expect(err.message).toMatch(/was made with --set gap=0\.1, this run has no --set.*repeat the record's --set values, or give this run its own --results folder/);
    expect(err.message).not.toMatch(/bump/);
  });

  it('stops before the next seed when the signal is already aborted, saving what is done', async () => {
    const controller = new AbortController();
    const progress: ProgressSink = { start() {}, tick() {}, stop: () => controller.abort() };
    await expect(runClaim(spec(), opts({ signal: controller.signal, progress }))).rejects.toBeInstanceOf(Interrupted);
    expect(runs.map((r) => r.seed)).toEqual([1]);
    expect(readRecord(recordPath(join(dir, 'results'), 'fast', 'stand-in-leak')).pendingSeeds).toEqual([2, 3]);
  });
});

describe('the data a record names', () => {
  /** A data directory holding four stand-in MNIST files; `variant` changes their bytes. */
  function dataDir(name: string, variant: number): string {
    const root = join(dir, name);
    mkdirSync(join(root, 'mnist'), { recursive: true });
    for (const f of ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) {
      writeFileSync(join(root, 'mnist', f), `${f} ${variant}`);
    }
    return root;
  }
  const mnistSpec = () => spec('stand-in-leak', (s) => (s.tiers.fast.params.dataset = 'mnist'));

  it('names the files of each dataset the params name, with their digests; none for a kind that reads none', async () => {
    const data = dataDir('data-a', 1);
    const record = await runClaim(mnistSpec(), opts({ dataDir: data }));
    const sha = createHash('sha256').update('train-labels-idx1-ubyte 1').digest('hex');
    expect(record.data?.map((d) => [d.dataset, d.source.kind, d.provenance])).toEqual([['mnist', 'data-dir', 'unofficial-copy']]);
    expect(record.data?.[0].files.find((f) => f.name === 'train-labels-idx1-ubyte')?.sha256).toBe(sha);
    expect(readRecord(recordPath(join(dir, 'results'), 'fast', 'stand-in-leak')).data).toEqual(record.data);
    expect((await runClaim(spec('stand-in-no-gap'), opts())).data).toEqual([]);
  });

  it('seeds kept from a record that named no data leave the merged record without data: their files are unknown', async () => {
    const data = dataDir('data-a', 1);
    const file = recordPath(join(dir, 'results'), 'fast', 'stand-in-leak');
    await runClaim(mnistSpec(), opts({ dataDir: data, seeds: [1, 2] }));
    const old = readRecord(file);
    delete old.data;
    writeFileSync(file, JSON.stringify(old));
    expect((await runClaim(mnistSpec(), opts({ dataDir: data, seeds: [3] }))).data).toBeUndefined();
    // Once this run has re-run every seed the record holds, the data are known again.
    expect((await runClaim(mnistSpec(), opts({ dataDir: data, seeds: [1, 2, 3] }))).data?.map((d) => d.dataset)).toEqual(['mnist']);
  });

  it('a record merged with one made on the same data files names them', async () => {
    const data = dataDir('data-a', 1);
    await runClaim(mnistSpec(), opts({ dataDir: data, seeds: [1, 2] }));
    const merged = await runClaim(mnistSpec(), opts({ dataDir: data, seeds: [3] }));
    expect(merged.outcomes.map((o) => o.seed)).toEqual([1, 2, 3]);
    expect(merged.data?.map((d) => d.dataset)).toEqual(['mnist']);
  });

  it('seeds run on other data files are never merged into one record: the old record is set aside, and --resume refuses', async () => {
    await runClaim(mnistSpec(), opts({ dataDir: dataDir('data-a', 1), seeds: [1, 2] }));
    const other = dataDir('data-b', 2);
    await expect(runClaim(mnistSpec(), opts({ dataDir: other, seeds: [3], resume: true }))).rejects.toThrowError(/was made with other data files \(mnist: digest [0-9a-f]{12} \(unofficial copy\) in the record, [0-9a-f]{12} \(unofficial copy\) now\)/);
    const notices: string[] = [];
    const record = await runClaim(mnistSpec(), opts({ dataDir: other, seeds: [3], notice: (l) => notices.push(l) }));
    expect(record.outcomes.map((o) => o.seed)).toEqual([3]);
    expect(notices.join('\n')).toMatch(/other data files.*finished seeds \(1, 2\) were moved to .*superseded/);
  });
});

/** The stand-in spec with its kind's run replaced (the rest of the kind, schema and metric names, kept). */
function withRun(run: (p: any, ctx: RunContext) => Promise<SeedOutcome>, edit?: (s: Record<string, any>) => void): LoadedSpec {
  const s = spec('stand-in-leak', edit);
  return { ...s, kind: { ...s.kind, run: async (p: any, ctx: RunContext) => {
    runs.push({ seed: ctx.seed, ctx });
    return run(p, ctx);
  } } };
}
const fine = (extra: Partial<SeedOutcome> = {}): SeedOutcome => ({ metrics: { clean_acc: 0.6, adv_acc_fgsm: 0.7 }, curves: {}, ...extra });
/** A clock that moves by `stepMs` at each reading, from `start`. */
function clock(start: string, stepMs: number): () => Date {
  let t = Date.parse(start);
  return () => {
    const d = new Date(t);
    t += stepMs;
    return d;
  };
}

/**
 * A lock on `path` held as another process would hold it, until `release` (or 5 s, so a run
 * that never says it waits fails its assertions instead of hanging).
 */
function holdLock(path: string): { taken: Promise<void>; release: () => void; done: Promise<void> } {
  let release = () => {};
  let taken = () => {};
  const takenP = new Promise<void>((r) => (taken = r));
  const done = withLock(path, () => {
    taken();
    return new Promise<void>((r) => {
      const t = setTimeout(r, 5000);
      release = () => {
        clearTimeout(t);
        r();
      };
    });
  });
  return { taken: takenP, release: () => release(), done };
}

describe('what a record holds of each seed', () => {
  it('curves are stored JSON-safe: undefined fields and absent curves left out, non-finite points kept as null', async () => {
    const s = withRun(async () =>
      fine({ curves: { epochs: [{ epoch: 1, cleanAcc: Infinity, advAcc: undefined as unknown as number }, { epoch: 2, cleanAcc: 0.5, advAcc: NaN }], lossVsEps: undefined } }),
    );
    const record = await runClaim(s, opts({ seeds: [1] }));
    expect(record.outcomes[0].curves).toEqual({ epochs: [{ epoch: 1, cleanAcc: null }, { epoch: 2, cleanAcc: 0.5, advAcc: null }] });
  });

  it('an asserted metric the experiment did not report makes the seed an error naming it', async () => {
    const record = await runClaim(withRun(async () => ({ metrics: { clean_acc: 0.6 }, curves: {} })), opts({ seeds: [1] }));
    expect(record.outcomes[0]).toMatchObject({ status: 'error', error: { name: 'MissingMetricError', message: 'the experiment did not report asserted metrics: adv_acc_fgsm' } });
    // A minus metric counts as asserted too.
    const minus = withRun(async () => ({ metrics: { adv_acc_fgsm: 0.7 }, curves: {} }), (j) => {
      j.assertions = [{ name: 'gap', metric: 'adv_acc_fgsm', minus: 'clean_acc', op: 'above', threshold: 0, tolerance: 0 }];
    });
    expect((await runClaim(minus, opts({ seeds: [1] }))).outcomes[0].error?.message).toBe('the experiment did not report asserted metrics: clean_acc');
  });

  it('every non-finite metric is named in the seed\'s error, and every asserted metric it lacks', async () => {
    const nonFinite = await runClaim(withRun(async () => fine({ metrics: { clean_acc: NaN, adv_acc_fgsm: Infinity } })), opts({ seeds: [1] }));
    expect(nonFinite.outcomes[0].error?.name).toBe('NonFiniteError');
    expect(nonFinite.outcomes[0].error?.message).toMatch(/: clean_acc=NaN, adv_acc_fgsm=Infinity$/);
    const none = await runClaim(withRun(async () => fine({ metrics: {} })), opts({ seeds: [1] }));
    expect(none.outcomes[0].error?.name).toBe('MissingMetricError');
    expect(none.outcomes[0].error?.message).toMatch(/: adv_acc_fgsm, clean_acc$/);
  });

  it('a metric asserted on its own (no minus) that the experiment did not report makes the seed an error', async () => {
    const s = withRun(async () => ({ metrics: { adv_acc_fgsm: 0.7 }, curves: {} }), (j) => {
      j.assertions = [{ name: 'clean', metric: 'clean_acc', op: 'above', threshold: 0, tolerance: 0 }];
    });
    const record = await runClaim(s, opts({ seeds: [1] }));
    expect(record.outcomes[0]).toMatchObject({ status: 'error', error: { name: 'MissingMetricError' } });
    expect(record.outcomes[0].error?.message).toMatch(/clean_acc$/);
  });

  it('throughput is kept when finite, left out otherwise; wall times are in seconds', async () => {
    const speeds = [1234, NaN, undefined];
    const s = withRun(async (_p, ctx) => fine({ imagesPerSecond: speeds[ctx.seed - 1] }));
    // Each reading of the clock is 1.5 s after the last: the run's start, the first save, then a
    // seed's start and end (1.5 s apart) and the save after it.
    const record = await runClaim(s, opts({ seeds: [1, 2, 3], now: clock('2026-12-06T01:00:00.000Z', 1500) }));
    expect(record.outcomes.map((o) => o.imagesPerSecond)).toEqual([1234, undefined, undefined]);
    expect(record.outcomes.map((o) => 'imagesPerSecond' in o)).toEqual([true, false, false]);
    expect(record.outcomes.map((o) => o.wallSeconds)).toEqual([1.5, 1.5, 1.5]);
    expect(record.outcomes[0]).toMatchObject({ startedAt: '2026-12-06T01:00:03.000Z', finishedAt: '2026-12-06T01:00:04.500Z' });
    expect(record.startedAt).toBe('2026-12-06T01:00:00.000Z');
    expect(record.environment).toEqual(environment);
  });

  it('a seed that throws keeps the error\'s name and message and its wall time', async () => {
    class Boom extends Error {
      override name = 'Boom';
    }
    const s = withRun(async () => {
      throw new Boom('it broke');
    });
    const record = await runClaim(s, opts({ seeds: [1], now: clock('2026-12-06T01:00:00.000Z', 250) }));
    expect(record.outcomes[0]).toEqual({
      seed: 1,
      status: 'error',
      metrics: {},
      curves: {},
      wallSeconds: 0.25,
      error: { name: 'Boom', message: 'it broke' },
      // Readings: the run's start, the first save, then the seed's start and end.
      startedAt: '2026-12-06T01:00:00.500Z',
      finishedAt: '2026-12-06T01:00:00.750Z',
    });
    // Something thrown that is not an Error is kept as its text.
    const odd = withRun(async () => {
      throw 'plain text';
    });
    expect((await runClaim(odd, opts({ seeds: [1] }))).outcomes[0].error).toEqual({ name: 'Error', message: 'plain text' });
  });

  it('the run\'s wall time is from its start to its last write', async () => {
    const record = await runClaim(withRun(async () => fine()), opts({ seeds: [1], now: clock('2026-12-06T01:00:00.000Z', 2000) }));
    // Readings: start 0 s, first save 2 s, seed 4–6 s, save 8 s, final save 10 s.
    expect(record.wallSeconds).toBe(10);
    expect(record.finishedAt).toBe('2026-12-06T01:00:10.000Z');
  });

  it('repeated seeds run once', async () => {
    await runClaim(withRun(async () => fine()), opts({ seeds: [2, 2, 1] }));
    expect(runs.map((r) => r.seed)).toEqual([2, 1]);
  });
});

describe('what a seed is handed', () => {
  it('its data folder, backend, checkpoint settings and signal; progress labelled with claim, tier, seed and position', async () => {
    const started: string[] = [];
    const ticks: number[] = [];
    let stops = 0;
    const progress: ProgressSink = { start: (l) => void started.push(l), tick: (d) => void ticks.push(d), stop: () => void stops++ };
    const signal = new AbortController().signal;
    await runClaim(spec(), opts({ seeds: [5, 6], dataDir: '/data/here', checkpointEvery: 17, signal, progress }));
    expect(started).toEqual(['stand-in-leak [fast] seed 5 (1/2) stand-in', 'stand-in-leak [fast] seed 6 (2/2) stand-in']);
    expect(ticks).toEqual([1, 2, 1, 2]);
    expect(stops).toBe(2);
    const ctx = runs[0].ctx;
    expect([ctx.dataDir, ctx.backend, ctx.checkpointEvery, ctx.signal]).toEqual(['/data/here', backend, 17, signal]);
  });

  it('onTrained gets each model with the claim, tier and seed it belongs to; without it the seed is handed none', async () => {
    const got: unknown[] = [];
    const model = { marker: 'model' } as never;
    const s = withRun(async (_p, ctx) => {
      await ctx.onTrained?.(model, { role: 'adversarial', key: 'k' } as never);
      return fine();
    });
    await runClaim(s, opts({ seeds: [4], tier: 'fast', onTrained: async (m, info) => void got.push([m, info]) }));
    expect(got).toEqual([[model, { role: 'adversarial', key: 'k', claim: 'stand-in-leak', tier: 'fast', seed: 4 }]]);
    runs.length = 0;
    await runClaim(s, opts({ seeds: [4] }));
    expect(runs[0].ctx.onTrained).toBeUndefined();
  });
});

describe('records on disk that this run must not mix with', () => {
  it('a record of another claim or tier under this claim\'s name is refused, resume or not', async () => {
    const file = recordPath(join(dir, 'results'), 'fast', 'stand-in-leak');
    await runClaim(spec('stand-in-no-gap'), opts());
    mkdirSync(join(dir, 'results', 'fast'), { recursive: true });
    writeFileSync(file, readFileSync(recordPath(join(dir, 'results'), 'fast', 'stand-in-no-gap')));
    for (const resume of [false, true]) {
      const err = (await runClaim(spec(), opts({ resume })).catch((e: unknown) => e)) as Error;
      expect(err).toBeInstanceOf(ResumeError);
      expect(err.name).toBe('ResumeError');
      expect(err.message).toBe(`${file} holds stand-in-no-gap [fast], not stand-in-leak [fast]; move it away`);
    }
    // The same claim at another tier, stored under the fast tier's name.
    await runClaim(spec(), opts({ tier: 'full', seeds: [1] }));
    writeFileSync(file, readFileSync(recordPath(join(dir, 'results'), 'full', 'stand-in-leak')));
    await expect(runClaim(spec(), opts())).rejects.toThrow(`${file} holds stand-in-leak [full], not stand-in-leak [fast]; move it away`);
  });

  it('refusing --resume names both runs\' --set values', async () => {
    await runClaim(spec('stand-in-leak', (s) => (s.tiers.fast.params.gap = 0.1)), opts({ overrides: ['gap=0.1', 'noise=0.01'] }));
    const err = (await runClaim(spec('stand-in-leak', (s) => (s.tiers.fast.params.gap = 0.2)), opts({ resume: true, overrides: ['gap=0.2'] })).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/was made with --set gap=0\.1 --set noise=0\.01, this run has --set gap=0\.2 \(params hash [0-9a-f]{16}, now [0-9a-f]{16}\)/);
  });

  it('a record of other settings with no finished seed is replaced, not set aside', async () => {
    await runClaim(spec('stand-in-leak', (s) => (s.tiers.fast.params.failSeeds = [1, 2, 3])), opts());
    const notices: string[] = [];
    const record = await runClaim(spec(), opts({ seeds: [1], notice: (l) => notices.push(l) }));
    expect(record.outcomes.map((o) => [o.seed, o.status])).toEqual([[1, 'ok']]);
    expect(existsSync(join(dir, 'results', 'fast', 'superseded'))).toBe(false);
    expect(notices).toEqual([]);
  });

  it('a superseded record is named by its claim and finish time, with no colon or dot', () => {
    expect(supersededPath('res', 'fast', 'c', '2026-12-06T04:05:06.789Z')).toBe(join('res', 'fast', 'superseded', 'c.2026-12-06T04-05-06-789Z.json'));
  });

  it('the merged record keeps the earlier start of the record it merges with', async () => {
    await runClaim(spec(), opts({ seeds: [1], now: clock('2026-12-06T01:00:00.000Z', 1000) }));
    const later = await runClaim(spec(), opts({ seeds: [2], now: clock('2026-12-06T03:00:00.000Z', 1000) }));
    expect(later.startedAt).toBe('2026-12-06T01:00:00.000Z');
    const earlier = await runClaim(spec(), opts({ seeds: [3], now: clock('2026-12-06T00:00:00.000Z', 1000) }));
    expect(earlier.startedAt).toBe('2026-12-06T00:00:00.000Z');
  });
});

describe('a seed finished by another process is taken, not trained again', () => {
  it('without --resume, a seed finished since this run began (at the same instant too) is taken; one finished before is re-run', async () => {
    const at = () => new Date('2026-12-06T01:00:00.000Z');
    await runClaim(spec(), opts({ seeds: [1, 2], now: at }));
    runs.length = 0;
    // Every reading of this run's clock is the instant the record's seeds finished.
    const record = await runClaim(spec(), opts({ seeds: [1, 2, 3], now: at }));
    expect(runs.map((r) => r.seed)).toEqual([3]);
    expect(record.outcomes.map((o) => o.seed)).toEqual([1, 2, 3]);
    runs.length = 0;
    await runClaim(spec(), opts({ seeds: [1, 2], now: () => new Date('2026-12-06T01:00:00.001Z') }));
    expect(runs.map((r) => r.seed)).toEqual([1, 2]);
  });

  it('with --resume, a re-used seed is named with when it finished; with onTrained it also says no model of it is saved', async () => {
    await runClaim(spec(), opts({ seeds: [1] }));
    runs.length = 0;
    const notices: string[] = [];
    const file = recordPath(join(dir, 'results'), 'fast', 'stand-in-leak');
    await runClaim(spec(), opts({ seeds: [1, 2], resume: true, onTrained: async () => {}, notice: (l) => notices.push(l) }));
    expect(runs.map((r) => r.seed)).toEqual([2]);
    const when = /re-used, finished (\S+) \(in /.exec(notices[0] ?? '')?.[1];
    expect(Number.isNaN(Date.parse(when ?? ''))).toBe(false);
    expect(notices).toEqual([
      `stand-in-leak [fast] seed 1 (1/2): re-used, finished ${when} (in ${file}), not trained again; no model of it is saved — run it without --resume to save its models`,
    ]);
    // Without onTrained no model would be saved anyway: the notice names the re-use only.
    notices.length = 0;
    runs.length = 0;
    await runClaim(spec(), opts({ seeds: [1, 2], resume: true, notice: (l) => notices.push(l) }));
    expect(runs).toEqual([]);
    expect(notices.filter((l) => /seed 1 .*re-used/.test(l))).toHaveLength(1);
    expect(notices.some((l) => /no model of it is saved/.test(l))).toBe(false);
    expect(notices.find((l) => /seed 1 .*re-used/.test(l))).toMatch(/, not trained again$/);
  });

  it('a seed finished meanwhile by a process running other settings is trained again, not taken; the wait names the seed', async () => {
    // The other process: version 2 of the spec, seed 2 finished (after this run began, below).
    const elsewhere = join(dir, 'elsewhere');
    await runClaim(spec('stand-in-leak', (s) => (s.version = 2)), opts({ seeds: [2], resultsDir: elsewhere }));
    runs.length = 0;
    const results = join(dir, 'results');
    const file = recordPath(results, 'fast', 'stand-in-leak');
    // It holds seed 2's lock while this run waits for it, and writes its record before letting go.
    const held = holdLock(checkpointDir(results, 'fast', 'stand-in-leak', 2));
    await held.taken;
    const notices: string[] = [];
    const notice = (line: string) => {
      notices.push(line);
      if (/seed 2/.test(line) && !/superseded/.test(line)) {
        writeFileSync(file, readFileSync(recordPath(elsewhere, 'fast', 'stand-in-leak')));
        held.release();
      }
    };
    const record = await runClaim(spec(), opts({ seeds: [2], notice, now: () => new Date('2026-01-01T00:00:00.000Z') }));
    await held.done;
    const wait = notices.find((l) => /waiting/.test(l)) ?? '';
    expect(wait).toContain('stand-in-leak [fast] seed 2');
    expect(wait).toContain('another process is running it');
    expect(runs.map((r) => r.seed)).toEqual([2]);
    expect(record.claim.version).toBe(1);
    expect(record.outcomes.map((o) => [o.seed, o.status])).toEqual([[2, 'ok']]);
  });
});

describe('the record is written under a lock', () => {
  it('a run waiting for another process to finish writing the record says so, naming the claim and tier', async () => {
    const file = recordPath(join(dir, 'results'), 'fast', 'stand-in-leak');
    const held = holdLock(file);
    await held.taken;
    const notices: string[] = [];
    const record = await runClaim(spec(), opts({ seeds: [1], notice: (l) => {
      notices.push(l);
      held.release();
    } }));
    await held.done;
    expect(record.outcomes.map((o) => o.seed)).toEqual([1]);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toContain('stand-in-leak [fast] record');
    expect(notices[0]).toContain('another process is writing it');
  });
});

describe('a seed that could not write stops the run', () => {
  it('a WriteError in a seed is recorded, then thrown: the next seeds would fail the same way', async () => {
    const s = withRun(async (_p, ctx) => {
      if (ctx.seed === 1) throw new WriteError('/full/disk', 'no space left on device');
      return fine();
    });
    const err = (await runClaim(s, opts({ seeds: [1, 2] })).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(WriteError);
    expect(err.message).toBe('no space left on device');
    expect(runs.map((r) => r.seed)).toEqual([1]);
    const saved = readRecord(recordPath(join(dir, 'results'), 'fast', 'stand-in-leak'));
    expect(saved.outcomes.map((o) => [o.seed, o.error?.name])).toEqual([[1, 'WriteError']]);
    // Any other error is kept and the run goes on.
    runs.length = 0;
    const other = withRun(async (_p, ctx) => {
      if (ctx.seed === 1) throw new Error('no space left on device');
      return fine();
    });
    await runClaim(other, opts({ seeds: [1, 2] }));
    expect(runs.map((r) => r.seed)).toEqual([1, 2]);
  });
});

describe('notices go to stderr unless a sink is given', () => {
  it('setting a record aside is announced on stderr by default', async () => {
    await runClaim(spec(), opts({ seeds: [1] }));
    const written: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: any) => {
      written.push(String(chunk));
      return true;
    });
    try {
      await runClaim(spec('stand-in-leak', (s) => (s.tiers.fast.params.gap = 0.1)), opts({ seeds: [2] }));
    } finally {
      spy.mockRestore();
    }
    expect(written.join('')).toMatch(/finished seeds \(1\) were moved to .*superseded.*\n$/);
  });
});

describe('checkRecordOnDisk: what runClaim would refuse, checked before anything starts', () => {
  const file = () => recordPath(join(dir, 'results'), 'fast', 'stand-in-leak');
  const check = (s: LoadedSpec, over: Partial<Pick<RunClaimOptions, 'resume' | 'overrides'>> = {}) => () =>
    checkRecordOnDisk(s, { tier: 'fast', resultsDir: join(dir, 'results'), resume: false, ...over });

  it('no record, or one of the same settings: nothing to refuse, resume or not', async () => {
    expect(check(spec(), { resume: true })).not.toThrow();
    await runClaim(spec(), opts({ seeds: [1] }));
    expect(check(spec(), { resume: true })).not.toThrow();
    expect(check(spec())).not.toThrow();
  });

  it('a record of other settings is refused with --resume only, saying why', async () => {
    await runClaim(spec(), opts({ seeds: [1] }));
    const bumped = spec('stand-in-leak', (s) => (s.version = 2));
    expect(check(bumped)).not.toThrow();
    expect(check(bumped, { resume: true })).toThrow(ResumeError);
    expect(check(bumped, { resume: true })).toThrow(
      `${file()} was made by version 1 of spec stand-in-leak, which is now version 2; its seeds cannot be resumed — run without --resume (the old record is then moved to fast/superseded/)`,
    );
  });

  it('a record made with --set is compared with this run\'s --set values', async () => {
    const withSet = spec('stand-in-leak', (s) => (s.tiers.fast.params.gap = 0.1));
    await runClaim(withSet, opts({ seeds: [1], overrides: ['gap=0.1'] }));
    expect(check(withSet, { resume: true, overrides: ['gap=0.1'] })).not.toThrow();
    expect(check(spec(), { resume: true })).toThrow(/^\S+ was made with --set gap=0\.1, this run has no --set \(params hash [0-9a-f]{16}, now [0-9a-f]{16}\); its seeds cannot be resumed — repeat the record's --set values, or give this run its own --results folder$/);
  });

  it('a record of another claim is refused even without --resume', async () => {
    await runClaim(spec('stand-in-no-gap'), opts({ seeds: [1] }));
    mkdirSync(join(dir, 'results', 'fast'), { recursive: true });
    writeFileSync(file(), readFileSync(recordPath(join(dir, 'results'), 'fast', 'stand-in-no-gap')));
    expect(check(spec())).toThrow(`${file()} holds stand-in-no-gap [fast], not stand-in-leak [fast]; move it away`);
  });

  it('a file where the record\'s lock folder goes is refused: no run could ever take that lock', () => {
    mkdirSync(join(dir, 'results', 'fast'), { recursive: true });
    writeFileSync(`${file()}.lock`, '');
    expect(check(spec())).toThrow(/\.lock is a file, not a lock/);
  });
});
