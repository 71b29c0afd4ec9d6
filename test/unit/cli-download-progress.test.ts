import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { barDownloadProgress, formatBytes, plainDownloadProgress } from '../../src/cli/download-progress.ts';

const MiB = 1024 * 1024;

describe('download progress in a log (no terminal)', () => {
  it('says what starts and its size, then bytes, rate and ETA at most every interval, then the total and rate', () => {
    const lines: string[] = [];
    let t = 0;
    const p = plainDownloadProgress((l) => lines.push(l), { intervalMs: 5000, now: () => t });
    const tick = (at: number, received: number) => {
      t = at;
      p.onProgress({ archive: 'cifar-10-binary.tar.gz', received, total: 100 * MiB, resumedFrom: 0 });
    };
    tick(0, 1 * MiB);
    tick(1000, 10 * MiB); // within the interval: no line
    tick(5000, 25 * MiB);
    tick(10_000, 50 * MiB);
    tick(20_000, 100 * MiB);
    expect(lines).toEqual([
      'downloading cifar-10-binary.tar.gz (100.0 MiB)',
      'cifar-10-binary.tar.gz: 25.0 MiB of 100.0 MiB (25%), 5.0 MiB/s, ETA 15s',
      'cifar-10-binary.tar.gz: 50.0 MiB of 100.0 MiB (50%), 5.0 MiB/s, ETA 10s',
      'cifar-10-binary.tar.gz: 100.0 MiB in 20s (5.0 MiB/s)',
    ]);
  });

  it('counts the rate of a resumed download from the bytes that came over the network only', () => {
    const lines: string[] = [];
    let t = 0;
    const p = plainDownloadProgress((l) => lines.push(l), { intervalMs: 1000, now: () => t });
    p.onProgress({ archive: 'a.gz', received: 60 * MiB, total: 100 * MiB, resumedFrom: 60 * MiB });
    t = 4000;
    p.onProgress({ archive: 'a.gz', received: 80 * MiB, total: 100 * MiB, resumedFrom: 60 * MiB });
    expect(lines).toEqual(['downloading a.gz (100.0 MiB), resuming at 60.0 MiB', 'a.gz: 80.0 MiB of 100.0 MiB (80%), 5.0 MiB/s, ETA 4s']);
  });

  it('formats sizes in B, KiB and MiB', () => {
    expect([formatBytes(512), formatBytes(29_515), formatBytes(170_052_171)]).toEqual(['512 B', '28.8 KiB', '162.2 MiB']);
  });
});

describe('download progress on a terminal', () => {
  it('draws a bar with bytes, rate and ETA', () => {
    const stream = Object.assign(new PassThrough(), { isTTY: true, columns: 200, cursorTo() {}, clearLine() {}, moveCursor() {} });
    let out = '';
    stream.on('data', (d: Buffer) => (out += d.toString()));
    let t = 0;
    const p = barDownloadProgress(stream, { now: () => t });
    p.onProgress({ archive: 'x.tar.gz', received: 0, total: 10 * MiB, resumedFrom: 0 });
    t = 2000;
    p.onProgress({ archive: 'x.tar.gz', received: 4 * MiB, total: 10 * MiB, resumedFrom: 0 });
    p.stop();
    expect(out).toMatch(/x\.tar\.gz \|[█░]+\| 40% 4\.0 MiB of 10\.0 MiB \| 2\.0 MiB\/s \| ETA 3s/);
  });
});
