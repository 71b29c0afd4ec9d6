import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { reportCommand } from '../../src/cli/report-command.ts';
import { runClaim } from '../../src/claims/runner.ts';
import { loadSpecFile } from '../../src/claims/spec-files.ts';
import { mergeRecords, MergeError, readResultDirs } from '../../src/report/merge.ts';
import { recordPath, type Environment } from '../../src/results/record.ts';
import { standInRegistry } from '../fixtures-specs/stand-in-kind.ts';

const environment: Environment = {
  packages: {},
  gitCommit: 'unknown',
  gitDirty: null,
  node: process.version,
  machine: { cpuModel: 'test', cpus: 1, os: 'test', memoryGiB: 1 },
};
const gpu = { name: 'webgpu', version: '4.22.0', threads: 1, device: 'NVIDIA H100', reason: 'test' };
const cpu = { name: 'wasm', version: '4.22.0', threads: 2, device: 'CPU', reason: 'test' };

let root: string;
const spec = loadSpecFile('test/fixtures-specs/stand-in-leak.json', standInRegistry);
const run = (dir: string, seeds: number[], backend = gpu) =>
  runClaim(spec, { tier: 'fast', seeds, backend, resultsDir: join(root, dir), resume: false, progress: { start() {}, tick() {}, stop() {} }, environment });

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'll-merge-'));
  await run('all', [1, 2, 3], cpu);
  await run('job-1', [1]);
  await run('job-2', [2]);
  await run('job-3', [3], cpu);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('merging records', () => {
  it('one-seed records of a job matrix merge into the statistics and verdict of one run of all seeds', () => {
    const [whole] = mergeRecords(readResultDirs([join(root, 'all')]));
    const [merged] = mergeRecords(readResultDirs(['job-1', 'job-2', 'job-3'].map((d) => join(root, d))));
    expect(merged.record.seeds).toEqual([1, 2, 3]);
    expect(merged.record.outcomes.map((o) => o.seed)).toEqual([1, 2, 3]);
    expect(merged.record.assertions.map(({ summary, ...a }) => a)).toEqual(whole.record.assertions.map(({ summary, ...a }) => a));
    expect(merged.record.verdict).toBe(whole.record.verdict);
    // each job saw a single seed, so alone it could not decide
    expect(mergeRecords(readResultDirs([join(root, 'job-1')]))[0].record.verdict).toBe('inconclusive');
    expect(merged.files).toHaveLength(3);
    expect(merged.backends.map((b) => b.name).sort()).toEqual(['wasm', 'webgpu']);
  });

  it('a seed present twice is taken once, the newer copy, with a warning', () => {
    const [merged] = mergeRecords(readResultDirs(['all', 'job-2'].map((d) => join(root, d))));
    expect(merged.record.outcomes.map((o) => o.seed)).toEqual([1, 2, 3]);
    expect(merged.warnings.join('\n')).toMatch(/seed 2 is in .* and .*; using the newer one \(.*job-2/);
  });

  it('records of different spec versions are refused, naming the files and versions', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'll-merge-v-'));
    try {
      const file = recordPath(dir, 'fast', 'stand-in-leak');
      const r = JSON.parse(readFileSync(recordPath(join(root, 'job-1'), 'fast', 'stand-in-leak'), 'utf8'));
      r.claim.version = 2;
      mkdirSync(join(dir, 'fast'), { recursive: true });
      writeFileSync(file, JSON.stringify(r));
      const records = readResultDirs([join(root, 'job-2'), dir]);
      expect(() => mergeRecords(records)).toThrowError(MergeError);
      expect(() => mergeRecords(records)).toThrowError(/different spec versions: .*job-2.*\(version 1\), .*\(version 2\)/);

      // and `label-leak report` exits 2 with that message rather than crashing
      const errors: string[] = [];
      vi.spyOn(console, 'error').mockImplementation((m: string) => void errors.push(m));
      try {
        await reportCommand().parseAsync(['--results', join(root, 'job-2'), '--results', dir, '--out', join(dir, 'report')], { from: 'user' });
        expect(process.exitCode).toBe(2);
        expect(errors.join('\n')).toMatch(/^label-leak report: cannot merge stand-in-leak \[fast\]: records come from different spec versions/);
      } finally {
        vi.restoreAllMocks();
        process.exitCode = undefined;
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('records of different params under one version are refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'll-merge-p-'));
    try {
      const r = JSON.parse(readFileSync(recordPath(join(root, 'job-1'), 'fast', 'stand-in-leak'), 'utf8'));
      r.paramsHash = '0123456789abcdef';
      mkdirSync(join(dir, 'fast'), { recursive: true });
      writeFileSync(recordPath(dir, 'fast', 'stand-in-leak'), JSON.stringify(r));
      expect(() => mergeRecords(readResultDirs([join(root, 'job-2'), dir]))).toThrowError(/different params/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('records checking different preconditions under one version are refused; merged ones are judged by their preconditions', () => {
    const dir = mkdtempSync(join(tmpdir(), 'll-merge-pre-'));
    try {
      const r = JSON.parse(readFileSync(recordPath(join(root, 'job-1'), 'fast', 'stand-in-leak'), 'utf8'));
      r.claim.preconditions = [{ name: 'learned', metric: 'clean_acc', op: 'above', threshold: 0.7, tolerance: 0 }];
      mkdirSync(join(dir, 'fast'), { recursive: true });
      writeFileSync(recordPath(dir, 'fast', 'stand-in-leak'), JSON.stringify(r));
      expect(() => mergeRecords(readResultDirs([join(root, 'job-2'), dir]))).toThrowError(/different preconditions/);
      // Alone, the record is re-assessed with the preconditions it carries: clean accuracy ≈ 0.6 misses 0.7.
      const [alone] = mergeRecords(readResultDirs([dir]));
      expect(alone.record.verdict).toBe('error');
      expect(alone.record.preconditions?.[0].failedSeeds).toEqual([1]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('skips temporary files left by a killed writer, and refuses a folder that does not exist', () => {
    writeFileSync(join(root, 'job-1', 'fast', '.stand-in-leak.json.123.abcd.tmp'), '{"trunc');
    expect(readResultDirs([join(root, 'job-1')])).toHaveLength(1);
    expect(() => readResultDirs([join(root, 'nope')])).toThrowError(/results folder .*nope does not exist/);
  });

  it('refuses a folder without records, a tier subfolder and a regular file, so an empty report never passes', () => {
    const empty = join(root, 'empty');
    mkdirSync(empty, { recursive: true });
    expect(() => readResultDirs([empty])).toThrowError(new RegExp(`no result records in ${empty}`));
    expect(() => readResultDirs([join(root, 'job-1', 'fast')])).toThrowError(new RegExp(`tier subfolder.*--results ${join(root, 'job-1')}`));
    const file = join(root, 'job-1', 'fast', 'stand-in-leak.json');
    expect(() => readResultDirs([file])).toThrowError(/is a file, not a results folder/);
  });
});
