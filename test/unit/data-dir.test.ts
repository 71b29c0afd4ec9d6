import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DATA_DIR_ENV, DatasetMissingError, resolveDataDir } from '../../src/data/data-dir.ts';

const pathPart = fc.stringMatching(/^[a-z0-9_-]{1,8}$/);
const maybe = (arb: fc.Arbitrary<string>) => fc.option(arb, { nil: undefined });

describe('resolveDataDir', () => {
  it('takes the flag over the variable over $XDG_CACHE_HOME over ~/.cache, for any combination that is set', () => {
    fc.assert(
      fc.property(maybe(pathPart), maybe(pathPart), maybe(pathPart), pathPart, (flag, envDir, xdg, home) => {
        const env = { [DATA_DIR_ENV]: envDir && `/e/${envDir}`, XDG_CACHE_HOME: xdg && `/x/${xdg}` };
        const r = resolveDataDir({ flag: flag && `/f/${flag}`, env, home: `/h/${home}` });
        if (flag) expect(r).toEqual({ dir: `/f/${flag}`, source: 'flag' });
        else if (envDir) expect(r).toEqual({ dir: `/e/${envDir}`, source: 'env' });
        else if (xdg) expect(r).toEqual({ dir: `/x/${xdg}/label-leak`, source: 'xdg-cache' });
        else expect(r).toEqual({ dir: `/h/${home}/.cache/label-leak`, source: 'home-cache' });
      }),
    );
  });

  it('treats empty values as unset', () => {
    const r = resolveDataDir({ flag: '', env: { [DATA_DIR_ENV]: '', XDG_CACHE_HOME: '' }, home: '/h' });
    expect(r).toEqual({ dir: '/h/.cache/label-leak', source: 'home-cache' });
  });

  it('makes a relative directory absolute, against the working directory', () => {
    expect(resolveDataDir({ flag: 'rel/data', env: {} }).dir).toBe(resolve('rel/data'));
    expect(resolveDataDir({ env: { [DATA_DIR_ENV]: '../x' } }).dir).toBe(resolve('../x'));
  });
});

describe('DatasetMissingError', () => {
  const lookedAt = [{ dir: '/d/cifar-10-batches-bin', why: 'data directory, given by LABEL_LEAK_DATA_DIR' }];

  it('says where it looked, how the directory was chosen, and each fix', () => {
    const e = new DatasetMissingError('cifar10', { dir: '/d', source: 'env' }, lookedAt, 'cifar-10-batches-bin');
    expect(e.message).toContain('/d/cifar-10-batches-bin (data directory, given by LABEL_LEAK_DATA_DIR)');
    expect(e.message).toContain('The data directory is /d: given by LABEL_LEAK_DATA_DIR');
    expect(e.message).toContain('--data-dir DIR');
    expect(e.message).toContain(`${DATA_DIR_ENV}=DIR`);
    expect(e.message).toContain('`label-leak data fetch cifar10`');
    expect(e.message).toContain(join('/d', 'cifar-10-batches-bin'));
    expect(e.message).not.toContain('apt-get');
  });

  it('names the Debian package for Fashion-MNIST only', () => {
    const e = new DatasetMissingError('fashion-mnist', { dir: '/h/.cache/label-leak', source: 'home-cache' }, [], 'fashion-mnist');
    expect(e.message).toContain('apt-get install dataset-fashion-mnist');
    expect(e.message).toContain('the default cache folder ~/.cache/label-leak, since neither --data-dir nor LABEL_LEAK_DATA_DIR was given');
  });
});
