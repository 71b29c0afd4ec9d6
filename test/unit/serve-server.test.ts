import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServeServer } from '../../src/serve/server.ts';
import type { Environment } from '../../src/results/record-types.ts';

/**
 * `label-leak serve`'s server with a stand-in page: what it serves, what it refuses (path
 * traversal raw and percent-encoded, absolute paths, a dataset file that links out of the
 * data directory, a foreign Host), and the messages for bad input.
 */

const FIXTURE_MNIST = new URL('../../fixtures/data/mnist/', import.meta.url).pathname;
const SECRET = 'secret-outside-the-data-dir';
const environment: Environment = { packages: {}, gitCommit: 'unknown', gitDirty: null, node: 'test', machine: { cpuModel: 'x', cpus: 1, os: 'x', memoryGiB: 1 } };

let root: string;
let server: Server;
let port: number;

interface Answer {
  status: number;
  body: string;
}

/** A request with its target sent exactly as written (no client-side normalisation). */
function get(target: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: target, method, headers: { host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'serve-server-'));
  const data = join(root, 'data');
  mkdirSync(join(data, 'mnist'), { recursive: true });
  for (const f of ['train-images-idx3-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) copyFileSync(join(FIXTURE_MNIST, f), join(data, 'mnist', f));
  writeFileSync(join(root, 'secret.txt'), SECRET);
  // A dataset file that is a link to a file outside the data directory.
  symlinkSync(join(root, 'secret.txt'), join(data, 'mnist', 'train-labels-idx1-ubyte'));
  writeFileSync(join(data, 'secret.txt'), SECRET);
  const page = new Map([
    ['/', { type: 'text/html', body: '<!doctype html><p>page</p>' }],
    ['/page.js', { type: 'text/javascript', body: 'console.log(1)' }],
  ]);
  server = createServeServer({ claimsDir: 'claims', dataDir: data, page, environment, loopbackOnly: true });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(root, { recursive: true, force: true });
});

describe('label-leak serve: what it serves', () => {
  it('the page, the claim listing with tiers, a spec, and a dataset file of the data directory', async () => {
    expect((await get('/')).body).toContain('<p>page</p>');
    expect((await get('/page.js')).status).toBe(200);
    const claims = JSON.parse((await get('/api/claims')).body) as { id: string; tiers: Record<string, { seeds: number[] }> }[];
    expect(claims.map((c) => c.id)).toContain('mnist-no-leaking');
    expect(Object.keys(claims.find((c) => c.id === 'mnist-no-leaking')!.tiers)).toEqual(['fast', 'full']);
    const spec = await get('/claims/mnist-no-leaking.json');
    expect(JSON.parse(spec.body).id).toBe('mnist-no-leaking');
    const file = await get('/data/mnist/t10k-labels-idx1-ubyte');
    expect(file.status).toBe(200);
    expect(file.body.length).toBe(108);
  });

  it('names an unknown claim, a missing tier and bad input with the fix, never a stack trace', async () => {
    const unknown = await get('/api/check?claim=no-such-claim&tier=fast');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatch(/unknown claim "no-such-claim".*known claims: .*mnist-no-leaking/);
    const tier = await get('/api/check?claim=mnist-no-leaking&tier=gpu');
    expect(tier.status).toBe(400);
    expect(tier.body).toContain('claim mnist-no-leaking has no gpu tier; it has fast, full');
    const set = await get(`/api/check?claim=mnist-no-leaking&tier=fast&set=${encodeURIComponent('nonsense')}`);
    expect(set.status).toBe(400);
    expect(set.body).not.toMatch(/\n\s+at /);
  });

  it('a run whose data is missing is refused with the CLI\'s message and fix', async () => {
    const r = await get('/api/check?claim=cifar10-label-leaking&tier=fast');
    expect(r.status).toBe(409);
    expect(r.body).toContain('cifar10');
    expect(r.body).toContain('fix: run `label-leak data fetch cifar10`');
  });
});

describe('label-leak serve: what it refuses', () => {
  const traversals = [
    '/data/mnist/../../secret.txt',
    '/data/mnist/..%2f..%2fsecret.txt',
    '/data/mnist/%2e%2e/%2e%2e/secret.txt',
    '/data/%2e%2e/secret.txt',
    '/data/mnist/%2E%2E%2Fsecret.txt',
    '/data/mnist/..%5csecret.txt',
    '/claims/..%2fpackage.json',
    '/claims/%2e%2e/package.json',
    '/../package.json',
    '/%2e%2e/package.json',
    '//etc/passwd',
    '/data/mnist//etc/passwd',
    '/data/mnist/%2fetc%2fpasswd',
    '/etc/passwd',
    '/data/mnist/secret.txt',
    '/data/secret.txt',
    '/data/mnist/train-images-idx3-ubyte%00.txt',
    '/src/cli.ts',
    '/package.json',
  ];
  for (const target of traversals) {
    it(`GET ${target}: refused, and nothing outside is read`, async () => {
      const r = await get(target);
      expect(r.status === 400 || r.status === 404, `status ${r.status}`).toBe(true);
      expect(r.body).not.toContain(SECRET);
      expect(r.body).not.toContain('"name": "label-leak"');
      expect(r.body).not.toContain('root:');
    });
  }

  it('an absolute-form request target is refused', async () => {
    const r = await get(`http://127.0.0.1:${port}/data/mnist/../../secret.txt`);
    expect(r.status).toBe(400);
    expect(r.body).not.toContain(SECRET);
  });

  it('a dataset file that links out of the data directory is refused, naming the link and the fix', async () => {
    const r = await get('/data/mnist/train-labels-idx1-ubyte');
    expect(r.status).toBe(403);
    expect(r.body).toContain('outside');
    expect(r.body).toContain('copy the file in');
    expect(r.body).not.toContain(SECRET);
  });

  it('a request naming another host (DNS rebinding) is refused', async () => {
    const r = await get('/api/claims', { host: 'attacker.example' });
    expect(r.status).toBe(421);
    expect(r.body).not.toContain('mnist-no-leaking');
  });

  it('only GET and HEAD are served', async () => {
    expect((await get('/api/claims', {}, 'POST')).status).toBe(405);
    expect((await get('/api/claims', {}, 'DELETE')).status).toBe(405);
  });
});
