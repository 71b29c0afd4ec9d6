import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { networkInterfaces } from 'node:os';
import { describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.ts';

/** `label-leak serve` as a user starts it: it bundles the page, prints its URL on 127.0.0.1, answers, and exits 2 on bad input. */

describe('label-leak serve (the command)', () => {
  it('listens on 127.0.0.1 only, prints the URL, serves the page and the claims', async (ctx) => {
    const child = spawn('node', ['bin/label-leak.mjs', 'serve', '--port', '0'], { env: { ...process.env, LABEL_LEAK_OFFLINE: '1' } });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          const m = /label-leak serve: (http:\/\/[^ ]+\/)/.exec(out);
          if (m) resolve(m[1]);
        });
        child.on('exit', (code) => reject(new Error(`exited ${code} before printing its URL`)));
      });
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<script type="module" src="/page.js">');
      const js = await fetch(`${url}page.js`);
      expect(js.headers.get('content-type')).toContain('javascript');
      const claims = (await (await fetch(`${url}api/claims`)).json()) as { id: string }[];
      expect(claims.map((c) => c.id)).toContain('mnist-no-leaking');
      // Bound to the loopback address only: the machine's other addresses do not answer.
      const port = new URL(url).port;
      const external = Object.values(networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal);
      if (external) {
        const answer = await fetch(`http://${external.address}:${port}/`).then((r) => r.status, (e: Error) => (e.cause as NodeJS.ErrnoException)?.code);
        expect(answer).toBe('ECONNREFUSED');
      } else ctx.annotate('this machine has no non-loopback IPv4 address: the bind address was checked from the URL only');
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('a port in use is named, with the fix, and exits 2', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = await cli(['serve', '--port', String(port)]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`cannot listen on 127.0.0.1:${port}: port ${port} is in use; pick another with --port N`);
    } finally {
      blocker.close();
    }
  });

  it('a claims folder that is not there exits 2 with its name, before anything is bundled', async () => {
    const r = await cli(['serve', '--claims', '/nonexistent-claims']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('/nonexistent-claims');
    expect(r.stderr).not.toContain('bundling');
  });
});
