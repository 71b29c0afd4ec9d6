import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import lockfile from 'proper-lockfile';

/**
 * Cross-process locks on paths of a results folder (proper-lockfile: an atomic mkdir of
 * `<path>.lock`, its mtime refreshed while held). A holder killed with SIGKILL leaves the
 * lock behind; it counts as stale — and is taken over — once not refreshed for `staleMs`.
 * The path itself need not exist.
 */
export interface LockOptions {
  /** Unrefreshed this long, a lock is taken to belong to a dead process. */
  staleMs?: number;
  /** Called once if the lock is held by another process, before waiting for it. */
  onWait?: () => void;
  /** Called if the lock was lost while held (e.g. the event loop stalled past staleMs). */
  onCompromised?: (err: Error) => void;
}

export const LOCK_SUFFIX = '.lock';

export async function withLock<T>(path: string, fn: () => Promise<T> | T, opts: LockOptions = {}): Promise<T> {
  mkdirSync(dirname(path), { recursive: true });
  const stale = opts.staleMs ?? 30_000;
  const base = {
    stale,
    update: Math.max(1000, Math.floor(stale / 3)),
    realpath: false,
    onCompromised: opts.onCompromised ?? ((err: Error) => process.stderr.write(`warning: lock on ${path} lost (${err.message}); another process may write it too\n`)),
  };
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(path, { ...base, retries: 0 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ELOCKED') throw e;
    opts.onWait?.();
    release = await lockfile.lock(path, { ...base, retries: { forever: true, minTimeout: 100, maxTimeout: 2000, factor: 1.5, randomize: true } });
  }
  try {
    return await fn();
  } finally {
    await release().catch(() => {
      // Already released as compromised: nothing left to undo.
    });
  }
}
