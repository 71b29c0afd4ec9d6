import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkpointDir } from '../../src/claims/runner.ts';
import { recordPath } from '../../src/results/record.ts';

// `run` must end: after its verdict (whatever keeps the event loop alive), at the first
// signal even while it waits for a lock, and with a message when a lock cannot be had.
// Each case runs the real CLI as a child process and waits a bounded time for it: a child
// still running at the bound is killed and the case fails with what it printed.

const tmp = mkdtempSync(join(tmpdir(), 'llk-run-exits-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const fresh = (name: string) => join(tmp, `${name}-${n++}`);

const RUN = ['run', 'tiny-mnist-fgsm', '--claims', 'test/fixtures-specs/real-kinds', '--backend', 'wasm', '--seed', '1', '--set', 'training.epochs=1'];

interface Child {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Still running at the bound: killed by the test. */
  hung: boolean;
}

/**
 * Runs the CLI; `when(stderr, stdout)` returning a signal sends it once. The child gets
 * `boundMs` after its start (`afterSignalMs` after the signal once sent) to exit, else it is killed.
 */
function runChild(args: string[], opts: { boundMs: number; afterSignalMs?: number; when?: (stderr: string, stdout: string) => NodeJS.Signals | undefined }): Promise<Child> {
  return new Promise((resolve) => {
    const child = spawn('node', ['bin/label-leak.mjs', ...args], { env: { ...process.env, LABEL_LEAK_DATA_DIR: '', LABEL_LEAK_OFFLINE: '1' } });
    let stdout = '';
    let stderr = '';
    let hung = false;
    let sent = false;
    let timer = setTimeout(() => kill(), opts.boundMs);
    const kill = () => {
      hung = true;
      child.kill('SIGKILL');
    };
    const check = () => {
      const sig = !sent ? opts.when?.(stderr, stdout) : undefined;
      if (!sig) return;
      sent = true;
      child.kill(sig);
      clearTimeout(timer);
      timer = setTimeout(() => kill(), opts.afterSignalMs ?? opts.boundMs);
    };
    child.stdout.on('data', (d: Buffer) => ((stdout += d.toString()), check()));
    child.stderr.on('data', (d: Buffer) => ((stderr += d.toString()), check()));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, hung });
    });
  });
}

/** A lock folder as proper-lockfile makes it, last refreshed `ageMs` ago. */
function lockFolder(path: string, ageMs: number): void {
  mkdirSync(`${path}.lock`, { recursive: true });
  const t = new Date(Date.now() - ageMs);
  utimesSync(`${path}.lock`, t, t);
}

/** A live holder: the lock folder refreshed every second, as proper-lockfile's holder does, until `stop()`. */
function liveLock(path: string): { stop(): void } {
  lockFolder(path, 0);
  const timer = setInterval(() => lockFolder(path, 0), 1000);
  return { stop: () => clearInterval(timer) };
}

describe('run --threads N exits with its verdict\'s code (issue 26, item 5)', () => {
  it('--threads 2: the process ends after printing the verdict', { timeout: 240_000 }, async () => {
    // The bound is the run's whole life: one epoch of a tiny MLP, but a loaded machine.
    const r = await runChild([...RUN, '--threads', '2', '--results', fresh('r')], { boundMs: 180_000 });
    expect(r.stdout).toMatch(/tiny-mnist-fgsm \[fast(, --set [^\]]+)?\]: (\w+ \(expected reproduced|seed 1 ran)/);
    expect(r.hung, `still running after its verdict:\n${r.stderr}`).toBe(false);
    expect(r.code, r.stderr).toBe(0);
  });
});

describe('locks that cannot be had (issue 26, items 7, 9 and 15)', () => {
  it('a <record>.lock that is a regular file: exit 2 at once, naming it and the fix', { timeout: 120_000 }, async () => {
    const results = fresh('r');
    const record = recordPath(results, 'fast', 'tiny-mnist-fgsm');
    mkdirSync(join(results, 'fast'), { recursive: true });
    writeFileSync(`${record}.lock`, 'not a lock\n');
    const r = await runChild([...RUN, '--results', results], { boundMs: 90_000 });
    expect(r.hung, r.stderr).toBe(false);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`${record}.lock`);
    expect(r.stderr).toMatch(/is a file, not a lock/);
    expect(r.stderr).toMatch(/delete it/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it.each(['SIGINT', 'SIGTERM'] as const)('%s while waiting for a seed held by a live process: stops at once, exit 130', { timeout: 120_000 }, async (sig) => {
    const results = fresh('r');
    // A live holder that never lets go: only the signal can end the wait.
    const holder = liveLock(checkpointDir(results, 'fast', 'tiny-mnist-fgsm', 1));
    const r = await runChild([...RUN, '--results', results], { boundMs: 60_000, afterSignalMs: 30_000, when: (stderr) => (/waiting/.test(stderr) ? sig : undefined) }).finally(() => holder.stop());
    expect(r.hung, `did not stop on ${sig}:\n${r.stderr}`).toBe(false);
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(new RegExp(`${sig}`));
    expect(r.stdout).not.toMatch(/expected reproduced/);
  });

  it('a live holder is named as one; a lock nobody refreshes is reported as left behind, with when it will be taken over', { timeout: 120_000 }, async () => {
    const live = fresh('r');
    const holder = liveLock(checkpointDir(live, 'fast', 'tiny-mnist-fgsm', 1));
    const a = await runChild([...RUN, '--results', live], { boundMs: 60_000, afterSignalMs: 30_000, when: (stderr) => (/waiting/.test(stderr) ? 'SIGINT' : undefined) }).finally(() => holder.stop());
    expect(a.stderr).toMatch(/seed 1: another process is running it/);

    // Unrefreshed for 45 s of the seed lock's 60: its holder stopped (killed?) — not "running it".
    const dead = fresh('r');
    lockFolder(checkpointDir(dead, 'fast', 'tiny-mnist-fgsm', 1), 45_000);
    const b = await runChild([...RUN, '--results', dead], { boundMs: 60_000, afterSignalMs: 30_000, when: (stderr) => (/waiting/.test(stderr) ? 'SIGINT' : undefined) });
    expect(b.stderr).not.toMatch(/another process is running it/);
    expect(b.stderr).toMatch(/left by a process that stopped refreshing it \d+ s ago/);
    expect(b.stderr).toMatch(/taken over in about \d+ s/);
  });

  it('a stale record lock is reported at once, not after 30 s of silence, and then taken over', { timeout: 120_000 }, async () => {
    const results = fresh('r');
    const record = recordPath(results, 'fast', 'tiny-mnist-fgsm');
    // The record lock goes stale after 30 s; this one was last refreshed 25 s ago (so the
    // run finds it left behind, waited out or, on a slow start, already stale).
    lockFolder(record, 25_000);
    const r = await runChild([...RUN, '--results', results], { boundMs: 90_000 });
    expect(r.hung, r.stderr).toBe(false);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr.split('\n');
    const waiting = lines.findIndex((l) => l.includes(`${record}.lock`) && /left by a process that stopped refreshing it/.test(l));
    expect(waiting, r.stderr).toBeGreaterThanOrEqual(0);
    // Said before anything trained.
    expect(waiting).toBeLessThan(lines.findIndex((l) => /started \(\d+ steps\)/.test(l)));
  });
});
