import { describe, expect, it } from 'vitest';
import { DataFileError } from '../../src/data/errors.ts';
import { OFFICIAL_SOURCES } from '../../src/data/manifest.ts';
import { isOffline, sourceFor } from '../../src/data/mirror.ts';

const SUMS = '/mirror/SHA256SUMS';
const hex = (c: string) => c.repeat(64);
const reading = (files: Record<string, string>) => (f: string) => {
  if (!(f in files)) throw new Error(`ENOENT: no such file, open '${f}'`);
  return files[f];
};

describe('offline switch', () => {
  it('is on for LABEL_LEAK_OFFLINE=1, true, yes or on (any case)', () => {
    for (const v of ['1', 'true', 'yes', 'YES', ' on ']) expect(isOffline({ LABEL_LEAK_OFFLINE: v }), v).toBe(true);
  });

  it('is off when unset, empty, 0, false, no or off: `no` means downloads are allowed', () => {
    for (const v of [undefined, '', '0', 'false', 'FALSE', 'no', 'No', 'off']) expect(isOffline({ LABEL_LEAK_OFFLINE: v }), String(v)).toBe(false);
  });

  it('refuses any other value, naming the variable and the values it takes', () => {
    for (const v of ['maybe', '2', 'nope']) {
      expect(() => isOffline({ LABEL_LEAK_OFFLINE: v })).toThrow(DataFileError);
      expect(() => isOffline({ LABEL_LEAK_OFFLINE: v })).toThrow(new RegExp(`^LABEL_LEAK_OFFLINE: "${v}" is not a yes/no value; set it to 1 .* or 0 `));
    }
  });
});

describe('where a dataset is downloaded from', () => {
  it('is the official source without a mirror', () => {
    expect(sourceFor('cifar10', {})).toBe(OFFICIAL_SOURCES.cifar10);
  });

  it('is <mirror>/<dataset>/ with a mirror, keeping the official digests', () => {
    const s = sourceFor('fashion-mnist', { LABEL_LEAK_DATA_MIRROR: 'http://127.0.0.1:8000/sets' });
    expect(s.baseUrl).toBe('http://127.0.0.1:8000/sets/fashion-mnist/');
    expect(s.archives).toEqual(OFFICIAL_SOURCES['fashion-mnist'].archives);
    expect(s.files).toEqual(OFFICIAL_SOURCES['fashion-mnist'].files);
  });

  it('takes a digest list for the archives it names only; their sizes and unpacked files are then unknown', () => {
    const env = { LABEL_LEAK_DATA_MIRROR: 'http://m/', LABEL_LEAK_DATA_SHA256SUMS: SUMS };
    const read = reading({ [SUMS]: `${hex('a')}  cifar10/cifar-10-binary.tar.gz\n${hex('b')}  fashion-mnist/t10k-labels-idx1-ubyte.gz\n` });
    const cifar = sourceFor('cifar10', env, read);
    expect(cifar.archives).toEqual([{ ...OFFICIAL_SOURCES.cifar10.archives[0], sha256: hex('a'), bytes: undefined }]);
    expect(cifar.files.every((f) => f.bytes === undefined && f.digest === undefined)).toBe(true);
    const fashion = sourceFor('fashion-mnist', env, read);
    expect(fashion.archives.map((a) => a.sha256)).toEqual([...OFFICIAL_SOURCES['fashion-mnist'].archives.slice(0, 3).map((a) => a.sha256), hex('b')]);
    // MNIST's archives share Fashion-MNIST's names: the dataset folder keeps them apart.
    expect(sourceFor('mnist', env, read).archives).toEqual(OFFICIAL_SOURCES.mnist.archives);
  });

  it('a mirror that is not an http(s) URL is a one-line error naming the variable', () => {
    for (const bad of ['127.0.0.1:8000', 'file:///srv/mirror']) {
      expect(() => sourceFor('cifar10', { LABEL_LEAK_DATA_MIRROR: bad })).toThrow(DataFileError);
      expect(() => sourceFor('cifar10', { LABEL_LEAK_DATA_MIRROR: bad })).toThrow(/^LABEL_LEAK_DATA_MIRROR: ".*" is not an http\(s\) URL/);
    }
  });

  it('a digest list that cannot be read or parsed is a one-line error naming the file (and line)', () => {
    const env = { LABEL_LEAK_DATA_SHA256SUMS: SUMS };
    expect(() => sourceFor('cifar10', env, reading({}))).toThrow(DataFileError);
    expect(() => sourceFor('cifar10', env, reading({}))).toThrow(/^\/mirror\/SHA256SUMS: cannot read the digest list named by LABEL_LEAK_DATA_SHA256SUMS/);
    expect(() => sourceFor('cifar10', env, reading({ [SUMS]: 'not a checksum line\n' }))).toThrow(/^\/mirror\/SHA256SUMS: line 1 is not "<sha256>  <file name>"/);
  });
});
