import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi, type Mock } from 'vitest';

// proper-lockfile's lock, wrapped so one call can first do what another process's clean-up
// does (remove the emptied checkpoint folders) at the worst moment: after withLock's mkdir.
vi.mock('proper-lockfile', async (original) => {
  const real = ((await original()) as { default: Record<string, unknown> }).default;
  return { default: { ...real, lock: vi.fn(real.lock as (...a: unknown[]) => unknown) } };
});
const lockfile = (await import('proper-lockfile')).default as unknown as { lock: Mock };
const { withLock } = await import('../../src/util/lock.ts');

describe('withLock', () => {
  it('makes the folder again when another process removed it between the mkdir and the lock, and takes the lock', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llk-lock-'));
    const target = join(dir, 'checkpoints', 'fast', 'claim', 'seed-1');
    const real = lockfile.lock.getMockImplementation()!;
    lockfile.lock.mockImplementationOnce(async (...args: unknown[]) => {
      rmSync(join(dir, 'checkpoints'), { recursive: true, force: true });
      return real(...args);
    });
    const waits: string[] = [];
    const out = await withLock(target, () => (existsSync(`${target}.lock`) ? 'held' : 'not held'), { onWait: (l) => waits.push(l) });
    expect(out).toBe('held');
    expect(lockfile.lock).toHaveBeenCalledTimes(2);
    expect(waits).toEqual([]);
    expect(existsSync(`${target}.lock`)).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  });
});
