import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
    expect(lines[0]).toMatch(/^id\s+experiment\s+fast\s+full\s+title$/);
    expect(lines[1]).toMatch(/^stand-in-leak\s+stand-in\s+reproduced\s+reproduced\s+A stand-in claim whose/);
    expect(lines[2]).toMatch(/^stand-in-no-gap\s+stand-in\s+refuted\s+inconclusive\s+/);
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
});
