// Child process for the atomic-write test: rewrites one big JSON file until it is killed,
// announcing each write on stdout so the parent can kill it mid-write. `naive` (truncate,
// then write in 1 MiB pieces, as a stream would) shows the test catches a writer that is not atomic.
import { closeSync, openSync, writeSync } from 'node:fs';
import { writeFileAtomic } from '../../src/util/atomic-write.ts';

const [target, mode, megabytes = '16'] = process.argv.slice(2);
function naive(file: string, bytes: Uint8Array): void {
  const fd = openSync(file, 'w');
  for (let off = 0; off < bytes.length; off += 1 << 20) writeSync(fd, bytes, off, Math.min(1 << 20, bytes.length - off));
  closeSync(fd);
}
const write = mode === 'naive' ? naive : writeFileAtomic;
const filler = 'x'.repeat(1 << 20);
// Encoded once, so the time between announcements is spent writing.
const bodies = [0, 1].map((i) => Buffer.from(JSON.stringify({ i, chunks: Array.from({ length: Number(megabytes) }, () => filler) })));
for (let i = 0; ; i++) {
  process.stdout.write(`writing ${i}\n`);
  write(target, bodies[i % 2]);
}
