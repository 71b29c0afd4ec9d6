import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataCommand, type DataCommandIo } from '../../src/cli/data-command.ts';
import { DATA_DIR_ENV } from '../../src/data/data-dir.ts';
import type { DatasetSource } from '../../src/data/manifest.ts';
import type { VerifyReport } from '../../src/data/verify.ts';

const ROOT = join(import.meta.dirname, '..', '..', 'fixtures');
let sources: Record<string, DatasetSource>;
let server: Server;
let base: string;
let tmp: string;

beforeAll(async () => {
  sources = JSON.parse(await readFile(join(ROOT, 'fetch', 'sources.json'), 'utf8'));
  tmp = await mkdtemp(join(tmpdir(), 'label-leak-datacmd-'));
  server = createServer(async (req, res) => {
    try {
      const body = await readFile(join(ROOT, req.url ?? ''));
      res.writeHead(200, { 'content-length': body.length });
      res.end(body);
    } catch {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  await rm(tmp, { recursive: true, force: true });
});

/** Runs `label-leak data …` with captured output; commander errors throw instead of exiting. */
async function run(args: string[], env: Record<string, string | undefined> = {}) {
  return runWith({ env }, args);
}

async function runWith(extra: Partial<DataCommandIo>, args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  let exitCode = 0;
  const io: DataCommandIo = {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    setExitCode: (c) => {
      exitCode = c;
    },
    env: {},
    // Fixture sizes and checksums stand in for the official ones.
    sources: { cifar10: sources.cifar10, 'fashion-mnist': sources['fashion-mnist'] },
    ...extra,
    progress: false,
  };
  const data = dataCommand(io);
  for (const c of [data, ...data.commands]) {
    c.exitOverride();
    c.configureOutput({ writeErr: (t) => err.push(t), writeOut: (t) => out.push(t) });
  }
  const program = new Command('label-leak').exitOverride().addCommand(data);
  await program.parseAsync(['data', ...args], { from: 'user' });
  return { out: out.join('\n'), err: err.join('\n'), exitCode };
}

describe('label-leak data verify', () => {
  it('prints one JSON report per named set, and exits 0 when they are all there', async () => {
    const { out, exitCode } = await run(['verify', 'fashion-mnist', '--json'], { [DATA_DIR_ENV]: join(ROOT, 'data') });
    const reports = JSON.parse(out) as VerifyReport[];
    expect(reports.map((r) => [r.dataset, r.status])).toEqual([['fashion-mnist', 'ok']]);
    expect(reports[0].dataDir).toEqual({ dir: join(ROOT, 'data'), source: 'env' });
    expect(exitCode).toBe(0);
  });

  it('exits 1 and explains the fix when a set is missing', async () => {
    const { out, exitCode } = await run(['verify', 'cifar10', '--data-dir', join(tmp, 'empty')]);
    expect(exitCode).toBe(1);
    expect(out).toMatch(/^cifar10: MISSING — Dataset cifar10 not found\./);
    expect(out).toContain('label-leak data fetch cifar10');
  });

  it('rejects an unknown dataset name as a usage error, listing the valid ones', async () => {
    const e = await run(['verify', 'imagenet']).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CommanderError);
    expect((e as Error).message).toContain('unknown dataset "imagenet"; choose from mnist, fashion-mnist, cifar10');
  });
});

describe('label-leak data fetch', () => {
  it('downloads into the data directory and says where', async () => {
    const dataDir = join(tmp, 'fetched');
    const { err, exitCode } = await run(['fetch', 'cifar10', '--data-dir', dataDir, '--base-url', `${base}/fetch/`]);
    expect(exitCode).toBe(0);
    expect(err).toBe(`cifar10: fetched into ${join(dataDir, 'cifar-10-batches-bin')}`);
    expect(await readdir(join(dataDir, 'cifar-10-batches-bin'))).toContain('test_batch.bin');
    const verify = await run(['verify', 'cifar10', '--data-dir', dataDir, '--json']);
    expect((JSON.parse(verify.out) as VerifyReport[])[0].status).toBe('ok');
  });

  it('reports a failed download in JSON and exits 2, as run does for data it cannot have', async () => {
    const { out, exitCode } = await run(['fetch', 'cifar10', '--data-dir', join(tmp, 'failed'), '--base-url', `${base}/missing/`, '--json']);
    expect(exitCode).toBe(2);
    expect(JSON.parse(out)).toEqual([{ dataset: 'cifar10', error: `${base}/missing/cifar-10-binary.tar.gz: download failed: HTTP 404 Not Found`, fix: expect.stringMatching(/^the server no longer has the file \(HTTP 404\): set LABEL_LEAK_DATA_MIRROR to a mirror that has it/) }]);
  });
});

describe('label-leak data fetch, failed, on screen', () => {
  it('names the fix on the same line, and exits 2', async () => {
    const { err, exitCode } = await run(['fetch', 'cifar10', '--data-dir', join(tmp, 'failed-plain'), '--base-url', `${base}/missing/`]);
    expect(exitCode).toBe(2);
    expect(err).toMatch(/^cifar10: fetch failed — .*HTTP 404 Not Found; to fix: the server no longer has the file \(HTTP 404\): set LABEL_LEAK_DATA_MIRROR/m);
  });
});

describe('label-leak data load', () => {
  it('loads every image of a set and reports the bytes held, the time and memory', async () => {
    let calls = 0;
    // `load` checks sizes against the source: here the fixture folder's own.
    const dir = join(ROOT, 'data', 'cifar-10-batches-bin');
    const own = await Promise.all(sources.cifar10.files.map(async (f) => ({ name: f.name, bytes: (await readFile(join(dir, f.name))).length })));
    const memory = () => ({ rss: 2 ** 20 * (100 + 10 * calls++), peakRss: 2 ** 20 * 150 });
    const { out, exitCode } = await runWith({ memory, sources: { cifar10: { ...sources.cifar10, files: own } } }, [
      'load', 'cifar10', '--data-dir', join(ROOT, 'data'), '--json',
    ]);
    const r = JSON.parse(out);
    // The fixture's batch files: six of them, each records × (1 label + 3072 pixel bytes).
    const files = (await readdir(join(ROOT, 'data', 'cifar-10-batches-bin'))).filter((f) => f.endsWith('.bin'));
    const bytes = (await Promise.all(files.map((f) => readFile(join(ROOT, 'data', 'cifar-10-batches-bin', f))))).reduce((a, b) => a + b.length, 0);
    expect(r.train + r.test).toBe(bytes / 3073);
    expect(r.datasetMB).toBe(Number((bytes / 2 ** 20).toFixed(1)));
    expect([r.rssBeforeMB, r.rssAfterMB, r.peakRssMB]).toEqual([100, 110, 150]);
    expect(r.seconds).toBeGreaterThanOrEqual(0);
    expect(exitCode).toBe(0);
  });

  it('says how to get a set that is missing', async () => {
    const e = await run(['load', 'cifar10', '--data-dir', join(tmp, 'empty')]).catch((x: unknown) => x);
    expect((e as Error).message).toContain('label-leak data fetch cifar10');
  });
});
