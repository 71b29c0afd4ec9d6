import { lstatSync, mkdirSync } from 'node:fs';
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
  /** What the lock guards, for the waiting line, e.g. "mnist-no-leaking [fast] seed 1". */
  what?: string;
  /** What a live holder is doing to it, e.g. "another process is running it". */
  busy?: string;
  /** The waiting line (once, when the lock is held by another process); default: stderr. */
  onWait?: (line: string) => void;
  /** Called if the lock was lost while held (e.g. the event loop stalled past staleMs). */
  onCompromised?: (err: Error) => void;
  /** Stops the wait: withLock then throws LockWaitAborted without running `fn`. */
  signal?: AbortSignal;
}

const LOCK_SUFFIX = '.lock';

/** A `<path>.lock` that is not a lock folder: no process of ours made it, and none will remove it. The CLI exits 2 on it. */
export class LockFileError extends Error {
  constructor(readonly lockPath: string) {
    super(`${lockPath} is a file, not a lock (a lock is a folder that label-leak creates and removes); nothing will remove it, so the run could never go on — delete it (rm ${lockPath}) and run again`);
    this.name = 'LockFileError';
  }
}

/** The wait for a lock was stopped (the run was interrupted); `fn` never ran. */
export class LockWaitAborted extends Error {
  constructor(readonly lockPath: string) {
    super(`interrupted while waiting for ${lockPath}; nothing of this run was lost (finished seeds are in the record)`);
    this.name = 'LockWaitAborted';
  }
}

/**
 * Throws LockFileError when `<path>.lock` exists and is not a folder: proper-lockfile would
 * retry it forever, since its stale check removes lock folders only.
 */
export function checkLockPath(path: string): void {
  const lockPath = `${path}${LOCK_SUFFIX}`;
  let folder = true;
  try {
    folder = lstatSync(lockPath).isDirectory();
  } catch {
    // Absent: nothing in the way.
  }
  if (!folder) throw new LockFileError(lockPath);
}

/** The holder refreshes every third of staleMs; two missed refreshes and it has most likely stopped. */
const refreshEvery = (staleMs: number) => Math.max(1000, Math.floor(staleMs / 3));

/** The waiting line: a live holder, or a lock left behind (and when it will be taken over). */
function waitLine(lockPath: string, staleMs: number, opts: LockOptions): string {
  let ageMs = 0;
  try {
    ageMs = Math.max(0, Date.now() - lstatSync(lockPath).mtimeMs);
  } catch {
    // Released meanwhile: the next attempt takes it.
  }
  const what = opts.what ?? lockPath;
  const s = (ms: number) => Math.max(0, Math.round(ms / 1000));
  if (ageMs < 2 * refreshEvery(staleMs)) return `${what}: ${opts.busy ?? 'another process holds it'} (lock ${lockPath}); waiting for it to finish`;
  if (ageMs >= staleMs) return `${what}: its lock ${lockPath} was left by a process that stopped refreshing it ${s(ageMs)} s ago (killed?); taking it over`;
  return `${what}: its lock ${lockPath} was left by a process that stopped refreshing it ${s(ageMs)} s ago (killed?); waiting — it is taken over in about ${s(staleMs - ageMs)} s`;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

export async function withLock<T>(path: string, fn: () => Promise<T> | T, opts: LockOptions = {}): Promise<T> {
  mkdirSync(dirname(path), { recursive: true });
  const lockPath = `${path}${LOCK_SUFFIX}`;
  const stale = opts.staleMs ?? 30_000;
  const base = {
    stale,
    update: refreshEvery(stale),
    realpath: false,
    retries: 0,
    onCompromised: opts.onCompromised ?? ((err: Error) => process.stderr.write(`warning: lock on ${path} lost (${err.message}); another process may write it too\n`)),
  };
  let release: (() => Promise<void>) | undefined;
  let waited = false;
  const say = opts.onWait ?? ((line: string) => process.stderr.write(`${line}\n`));
  checkLockPath(path);
  // A stale lock is taken over by the first attempt; say so, since it means a run was killed.
  try {
    if (Date.now() - lstatSync(lockPath).mtimeMs >= stale) say(waitLine(lockPath, stale, opts));
  } catch {
    // No lock there.
  }
  // Our own retry loop, not proper-lockfile's: it stops at the signal, and ends on any error but "held".
  for (let delay = 100; release === undefined; delay = Math.min(2000, Math.round(delay * 1.5))) {
    checkLockPath(path);
    try {
      release = await lockfile.lock(path, base);
    } catch (e) {
      // Another process's clean-up may remove the (then empty) folder between our mkdir and
      // the lock's: make it again and retry at once.
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        mkdirSync(dirname(path), { recursive: true });
        delay = 100;
        continue;
      }
      if ((e as NodeJS.ErrnoException).code !== 'ELOCKED') throw e;
      // Checked only when the lock is held: an interrupted run still takes a free lock to save.
      if (opts.signal?.aborted) throw new LockWaitAborted(lockPath);
      if (!waited) say(waitLine(lockPath, stale, opts));
      waited = true;
      await sleep(delay, opts.signal);
    }
  }
  try {
    return await fn();
  } finally {
    await release().catch(() => {
      // Already released as compromised: nothing left to undo.
    });
  }
}
