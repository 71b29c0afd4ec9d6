import { Command, InvalidArgumentError } from 'commander';
import type { AddressInfo } from 'node:net';
import { loadAllSpecs } from '../claims/load.ts';
import { collectEnvironment } from '../results/environment.ts';
import { buildPage } from './assets.ts';
import { createServeServer } from './server.ts';
import { SETTINGS } from '../util/env.ts';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('a port number, 0 to 65535 (0: any free port)');
  return n;
}

const DEFAULT_PORT = 5178;
const LOOPBACK = '127.0.0.1';

export function serveCommand(): Command {
  return new Command('serve')
    .description('serve a page that runs any claim in a browser tab, on its WebGPU (wasm where it has none), and downloads the record')
    .option('--port <n>', `port to listen on (0: any free one)`, port, DEFAULT_PORT)
    .option('--host [address]', `listen on another address than ${LOOPBACK} (alone: 0.0.0.0, every interface); anyone who reaches it can read the served datasets`)
    .option('--data-dir <dir>', `where datasets live (else $${SETTINGS.dataDir.name}, else the cache folder), as for \`run\``)
    .option('--claims <dir>', 'folder of claim specs', 'claims')
    .action(async (o: { port: number; host?: string | true; dataDir?: string; claims: string }) => {
      // A bad claims folder fails now, with the spec's own message, rather than on the page.
      loadAllSpecs(o.claims);
      const host = o.host === undefined ? LOOPBACK : o.host === true ? '0.0.0.0' : o.host;
      console.error('bundling the page (esbuild)…');
      const built = await buildPage();
      const server = createServeServer({ claimsDir: o.claims, dataDir: o.dataDir, page: built.files, environment: await collectEnvironment(), loopbackOnly: host === LOOPBACK });
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(o.port, host, () => resolve());
        });
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        const why = code === 'EADDRINUSE' ? `port ${o.port} is in use; pick another with --port N (0: any free one)` : code === 'EADDRNOTAVAIL' ? `${host} is not an address of this machine; check --host` : (e as Error).message;
        console.error(`label-leak serve: cannot listen on ${host}:${o.port}: ${why}`);
        process.exitCode = 2;
        return;
      }
      const bound = (server.address() as AddressInfo).port;
      console.log(`label-leak serve: http://${host === '0.0.0.0' ? LOOPBACK : host}:${bound}/  (page ${(built.bundleBytes / 2 ** 20).toFixed(1)} MiB; Ctrl-C stops)`);
      if (host !== LOOPBACK) console.error(`warning: listening on ${host}: every machine that reaches it can use the page and read the served datasets`);
      await new Promise<void>((resolve) => {
        const stop = () => server.close(() => resolve());
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
