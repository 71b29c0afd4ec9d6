import { describe, expect, it } from 'vitest';
import { datasetsOf, missingDatasets } from '../../src/claims/datasets.ts';
import { loadSpecFile } from '../../src/claims/spec-files.ts';
import type { LocateResult } from '../../src/data/locate.ts';
import { standInRegistry } from '../fixtures-specs/stand-in-kind.ts';

describe('datasets a spec needs', () => {
  it('are the `dataset` fields at any depth of the params', () => {
    expect(datasetsOf({ dataset: 'cifar10', model: { kind: 'resnet' } })).toEqual(['cifar10']);
    expect(datasetsOf({ datasets: [{ dataset: 'mnist' }, { dataset: 'fashion-mnist' }, { dataset: 'mnist' }] })).toEqual(['mnist', 'fashion-mnist']);
    expect(datasetsOf({ dataset: 'imagenet', name: 'mnist' })).toEqual([]);
  });

  it('a missing or incomplete dataset is reported with where it was looked for', () => {
    const spec = loadSpecFile('test/fixtures-specs/stand-in-leak.json', standInRegistry);
    const withData = { ...spec, tiers: { ...spec.tiers, fast: { ...spec.tiers.fast, params: { dataset: 'cifar10', other: { dataset: 'mnist' } } } } };
    const locate = (name: string): LocateResult =>
      ({
        dataDir: { dir: '/data', source: 'env' },
        lookedAt: [{ dir: `/data/${name}`, why: 'data directory' }],
        found: name === 'mnist' ? { dir: '/data/mnist', why: 'x', paths: {}, missing: ['t10k-labels-idx1-ubyte'] } : null,
      }) as LocateResult;
    expect(missingDatasets(withData, 'fast', undefined, locate)).toEqual([
      { dataset: 'cifar10', reason: 'dataset cifar10 not found (looked in /data/cifar10)' },
      { dataset: 'mnist', reason: 'dataset mnist incomplete in /data/mnist (lacks t10k-labels-idx1-ubyte)' },
    ]);
    expect(missingDatasets(spec, 'fast', undefined, locate)).toEqual([]);
  });
});
