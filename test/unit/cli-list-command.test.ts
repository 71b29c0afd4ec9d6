import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { listCommand } from '../../src/cli/list-command.ts';
import { standInRegistry } from '../fixtures-specs/stand-in-kind.ts';

let out: string[];
let err: string[];
beforeEach(() => {
  out = [];
  err = [];
  vi.spyOn(console, 'log').mockImplementation((s: string) => void out.push(s));
  vi.spyOn(console, 'error').mockImplementation((s: string) => void err.push(s));
  process.exitCode = undefined;
});
afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
});

const list = (...args: string[]) => listCommand(standInRegistry).parseAsync(['--claims', 'test/fixtures-specs', ...args], { from: 'user' });

describe('label-leak list', () => {
  it('prints id, experiment kind, expected verdict per tier and title', async () => {
    await list();
    const lines = out.join('\n').split('\n');
    expect(lines[0]).toMatch(/^id\s+experiment\s+fast\s+gpu\s+full\s+title$/);
    // Neither stand-in has a gpu tier: a dash in its column.
    expect(lines[1]).toMatch(/^stand-in-leak\s+stand-in\s+reproduced\s+—\s+reproduced\s+A stand-in claim whose/);
    expect(lines[2]).toMatch(/^stand-in-no-gap\s+stand-in\s+refuted\s+—\s+inconclusive\s+/);
  });

  describe('a claim with the optional gpu tier', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'label-leak-gpu-tier-'));
      const spec = JSON.parse(readFileSync('test/fixtures-specs/stand-in-leak.json', 'utf8'));
      spec.tiers.gpu = { seeds: [7, 8], params: { clean: 0.9, gap: 0.02, noise: 0.002 }, expected: 'inconclusive', rationale: 'a gpu tier' };
      writeFileSync(join(dir, 'stand-in-leak.json'), JSON.stringify(spec));
      writeFileSync(join(dir, 'stand-in-no-gap.json'), readFileSync('test/fixtures-specs/stand-in-no-gap.json'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));
    const listIn = (...args: string[]) => listCommand(standInRegistry).parseAsync(['--claims', dir, ...args], { from: 'user' });

    it('shows its expected verdict in the gpu column, and a dash for the claim without one', async () => {
      await listIn();
      const lines = out.join('\n').split('\n');
      expect(lines[1]).toMatch(/^stand-in-leak\s+stand-in\s+reproduced\s+inconclusive\s+reproduced\s+/);
      expect(lines[2]).toMatch(/^stand-in-no-gap\s+stand-in\s+refuted\s+—\s+inconclusive\s+/);
    });

    it('--json lists the tiers each claim has; --matrix gpu gives jobs only for claims with the tier', async () => {
      await listIn('--json', '--matrix', 'gpu');
      const j = JSON.parse(out.join('\n'));
      expect(Object.keys(j.claims[0].tiers)).toEqual(['fast', 'gpu', 'full']);
      expect(Object.keys(j.claims[1].tiers)).toEqual(['fast', 'full']);
      expect(j.matrix.include).toEqual([7, 8].map((seed) => ({ claim: 'stand-in-leak', tier: 'gpu', seed })));
    });

    it('an assertion limited to a tier the spec does not have is refused, naming the tiers it has', async () => {
      const spec = JSON.parse(readFileSync('test/fixtures-specs/stand-in-no-gap.json', 'utf8'));
      spec.assertions[0].tiers = ['gpu'];
      writeFileSync(join(dir, 'stand-in-no-gap.json'), JSON.stringify(spec));
      await listIn();
      expect(process.exitCode).toBe(2);
      expect(err.join('\n')).toMatch(/stand-in-no-gap\.json.*\/assertions\/0\/tiers.*names tier gpu, which the spec does not have \(it has: fast, full\)/s);
    });
  });

  it('--json --matrix full gives the claims and one job per (claim, seed)', async () => {
    await list('--json', '--matrix', 'full');
    const j = JSON.parse(out.join('\n'));
    expect(j.claims.map((c: { id: string }) => c.id)).toEqual(['stand-in-leak', 'stand-in-no-gap']);
    expect(j.claims[0].tiers.fast).toEqual({
      expected: 'reproduced',
      seeds: [1, 2, 3],
      timeoutMinutes: 1,
      metrics: expect.arrayContaining(['clean_acc', 'adv_acc_fgsm']),
    });
    expect(j.matrix.tier).toBe('full');
    expect(j.matrix.include).toEqual([
      ...[1, 2, 3, 4, 5].map((seed) => ({ claim: 'stand-in-leak', tier: 'full', seed })),
      { claim: 'stand-in-no-gap', tier: 'full', seed: 1 },
    ]);
  });

  it('a malformed spec exits 2 with file, pointer and reason', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'll-list-'));
    try {
      writeFileSync(join(dir, 'broken.json'), JSON.stringify({ id: 'broken' }));
      await listCommand(standInRegistry).parseAsync(['--claims', dir], { from: 'user' });
      expect(process.exitCode).toBe(2);
      expect(err.join('\n')).toContain(`${join(dir, 'broken.json')}: /version: required field is missing`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('one malformed spec beside good ones: the good ones are listed, the bad one named, exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'll-list-'));
    try {
      writeFileSync(join(dir, 'stand-in-leak.json'), readFileSync('test/fixtures-specs/stand-in-leak.json'));
      writeFileSync(join(dir, 'broken.json'), JSON.stringify({ id: 'broken' }));
      await listCommand(standInRegistry).parseAsync(['--claims', dir], { from: 'user' });
      expect(process.exitCode).toBe(2);
      expect(err.join('\n')).toContain(`${join(dir, 'broken.json')}: /version: required field is missing`);
      expect(out.join('\n')).toMatch(/^stand-in-leak /m);
      expect(out.join('\n')).not.toContain('broken');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
