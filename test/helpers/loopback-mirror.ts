import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import * as tar from 'tar';
import { IDX_FILES } from '../../src/data/layout.ts';

const ROOT = join(import.meta.dirname, '..', '..', 'fixtures');

/** The fixture archives at the paths a mirror holds them (`<dataset>/<official archive name>`). */
export const MIRROR_FILES: Record<string, string> = {
  'cifar10/cifar-10-binary.tar.gz': join(ROOT, 'fetch', 'cifar-10-binary.tar.gz'),
  ...Object.fromEntries(Object.values(IDX_FILES).map((f) => [`fashion-mnist/${f}.gz`, join(ROOT, 'data', 'fashion-mnist', `${f}.gz`)])),
};

/**
 * The miniature tarball holds 2 test images, fewer than a spec may ask for: `big` serves
 * fixtures/data/cifar-10-batches-bin (200 + 100 images) tarred like the official one instead.
 */
export async function bigCifarTarball(dir: string): Promise<string> {
  const file = join(dir, 'cifar-10-binary.tar.gz');
  await tar.c({ gzip: true, file, cwd: join(ROOT, 'data'), portable: true, mtime: new Date(0) }, ['cifar-10-batches-bin']);
  return file;
}

export interface Mirror {
  server: Server;
  /** The value for LABEL_LEAK_DATA_MIRROR. */
  base: string;
  /** Paths asked for, in order. */
  requests: string[];
  close(): Promise<void>;
}

/**
 * A mirror of the fixture archives on 127.0.0.1 (tests never reach outside the machine).
 * Paths in `tampered` come with one byte flipped: same size, another checksum.
 */
export function startMirror(opts: { tampered?: string[]; files?: Record<string, string> } = {}): Promise<Mirror> {
  const files = { ...MIRROR_FILES, ...opts.files };
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').replace(/^\/+/, '');
    requests.push(path);
    const file = files[path];
    if (!file) {
      res.writeHead(404);
      res.end('not found');
      return;
    }
    const body = new Uint8Array(readFileSync(file));
    if (opts.tampered?.includes(path)) body[body.length >> 1] ^= 0xff;
    res.writeHead(200, { 'content-length': body.length });
    res.end(body);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ server, base: `http://127.0.0.1:${port}/`, requests, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}

/** Writes the `sha256sum` list of the mirror's archives (what LABEL_LEAK_DATA_SHA256SUMS names) to `file`. */
export function writeMirrorSums(file: string, files: Record<string, string> = MIRROR_FILES): string {
  const lines = Object.entries(files).map(([path, f]) => `${createHash('sha256').update(readFileSync(f)).digest('hex')}  ${path}`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}
