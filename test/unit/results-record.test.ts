import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../src/util/atomic-write.ts';
import { collectEnvironment, gitState } from '../../src/results/environment.ts';
import { checkRecord, readRecord, RecordError, writeRecord, type ResultRecord } from '../../src/results/record.ts';
import { runClaim } from '../../src/claims/runner.ts';
import { loadSpecFile } from '../../src/claims/spec-files.ts';
import { standInRegistry } from '../fixtures-specs/stand-in-kind.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'll-rec-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

let made: ResultRecord | undefined;
/** A real record from the stand-in kind, made once (collecting the environment takes a moment). */
async function aRecord(): Promise<ResultRecord> {
  if (made) return structuredClone(made);
  const spec = loadSpecFile('test/fixtures-specs/stand-in-leak.json', standInRegistry);
  return runClaim(spec, {
    tier: 'fast',
    backend: { name: 'cpu', version: '4.22.0', threads: 1, device: 'CPU', reason: 'test' },
    resultsDir: join(dir, 'made'),
    resume: false,
    progress: { start() {}, tick() {}, stop() {} },
  }).then((r) => (made = r));
}

describe('result records', () => {
  it('record what ran: environment, backend, spec version and hash, per-seed curves', async () => {
    const r = await aRecord();
    expect(r.environment.gitCommit).toMatch(/^[0-9a-f]{40}$/);
    expect(r.environment.packages['@tensorflow/tfjs']).toMatch(/^4\./);
    expect(r.environment.node).toBe(process.version);
    expect(r.environment.machine.cpus).toBeGreaterThan(0);
    expect(r.claim).toMatchObject({ id: 'stand-in-leak', version: 1 });
    expect(r.outcomes[0].curves.lossVsEps).toHaveLength(9);
    expect(Date.parse(r.finishedAt)).toBeGreaterThanOrEqual(Date.parse(r.startedAt));
  });

  const breakages: [string, (r: any) => void, RegExp][] = [
    ['a missing verdict', (r) => delete r.verdict, /must have required property 'verdict'/],
    ['an unknown verdict', (r) => (r.verdict = 'passed'), /\/verdict: must be equal to one of the allowed values/],
    ['an errored seed without its error', (r) => (r.outcomes[0].status = 'error'), /\/outcomes\/0/],
    ['an error on a seed that is ok', (r) => (r.outcomes[0].error = { name: 'E', message: 'm' }), /\/outcomes\/0/],
    ['a NaN metric (written as null)', (r) => (r.outcomes[0].metrics.clean_acc = null), /\/outcomes\/0\/metrics\/clean_acc: must be number/],
    ['an unknown field', (r) => (r.extra = 1), /must NOT have additional properties/],
  ];
  for (const [what, breakIt, message] of breakages) {
    it(`are refused on write and on read with ${what}`, async () => {
      const r = structuredClone(await aRecord()) as any;
      breakIt(r);
      const file = join(dir, 'bad.json');
      expect(() => writeRecord(file, r)).toThrowError(message);
      writeFileSync(file, JSON.stringify(r));
      expect(() => readRecord(file)).toThrowError(RecordError);
      expect(() => readRecord(file)).toThrowError(message);
    });
  }

  it('a file that is not JSON is refused, naming the file', () => {
    const file = join(dir, 'x.json');
    writeFileSync(file, '{"format": 1,');
    expect(() => readRecord(file)).toThrowError(new RegExp(`${file}: not valid JSON`));
  });

  it('round-trip through disk unchanged', async () => {
    const r = await aRecord();
    const file = join(dir, 'r.json');
    writeRecord(file, r);
    expect(readRecord(file)).toEqual(checkRecord(r, file));
  });
});

describe('atomic writes', () => {
  it('replace the file and leave no temporary file behind', () => {
    const file = join(dir, 'a.json');
    writeFileAtomic(file, '1');
    writeFileAtomic(file, '2');
    expect(readFileSync(file, 'utf8')).toBe('2');
    expect(readdirSync(dir)).toEqual(['a.json']);
  });

  it('a write that fails removes its temporary file and leaves the target as it was', () => {
    const target = join(dir, 'is-a-dir');
    mkdirSync(join(target, 'inside'), { recursive: true });
    expect(() => writeFileAtomic(target, 'data')).toThrow();
    expect(readdirSync(dir)).toEqual(['is-a-dir']);
    expect(readdirSync(target)).toEqual(['inside']);
  });

  // A process killed while writing must leave either the old file or the new one, whole.
  async function killMidWrite(mode: 'atomic' | 'naive', afterWrites: number, delayMs: number): Promise<string> {
    const target = join(dir, `${mode}-${afterWrites}-${delayMs}.json`);
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures-specs/write-forever.ts', target, mode, '8'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve) => {
      let seen = 0;
      let killing = false;
      child.stdout.on('data', (chunk: Buffer) => {
        seen += chunk.toString().split('\n').filter((l) => l.startsWith('writing')).length;
        if (seen > afterWrites && !killing) {
          killing = true;
          setTimeout(() => child.kill('SIGKILL'), delayMs);
        }
      });
      child.on('exit', () => resolve());
    });
    return target;
  }

  // With `naive` in place of `atomic` this fails most of the time (measured: 2 of 3 kills left a truncated file).
  it('a writer killed mid-write (SIGKILL) leaves a whole JSON file', { timeout: 90_000 }, async () => {
    for (const delay of [2, 8]) {
      const target = await killMidWrite('atomic', 2, delay);
      const text = readFileSync(target, 'utf8');
      expect(() => JSON.parse(text), `after a kill ${delay} ms into a write`).not.toThrow();
    }
  });
});

describe('the environment', () => {
  it('the git commit is "unknown" outside a repository', () => {
    expect(gitState(dir)).toEqual({ gitCommit: 'unknown', gitDirty: null });
  });

  it('inside this repository it is the HEAD commit', async () => {
    const env = await collectEnvironment();
    expect(env.gitCommit).toMatch(/^[0-9a-f]{40}$/);
    expect(typeof env.gitDirty).toBe('boolean');
  });
});
