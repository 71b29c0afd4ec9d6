import { dirname, normalize, resolve } from './path.ts';

/**
 * node:fs for the page: one in-memory tree, filled by the page with the claim specs and the
 * dataset files it fetched from `label-leak serve`. The src/ modules (spec loading, data
 * loading, checkpoints, record writing) then run unchanged on it. Only what they call is here;
 * a missing path throws Node's ENOENT so their own error messages apply.
 */

const files = new Map<string, Uint8Array>();
const dirs = new Set<string>(['/']);

/** Told of every file the tree gains, changes or loses (null), as it happens: the page mirrors its results into IndexedDB so. */
type TreeListener = (path: string, data: Uint8Array | null) => void;
const listeners: TreeListener[] = [];
export function onFileChange(fn: TreeListener): void {
  listeners.push(fn);
}
function setFile(path: string, data: Uint8Array): void {
  files.set(path, data);
  for (const fn of listeners) fn(path, data);
}
function deleteFile(path: string): boolean {
  if (!files.delete(path)) return false;
  for (const fn of listeners) fn(path, null);
  return true;
}

/** Puts files back into the tree (what an earlier tab left in IndexedDB), their folders made, no listener told. */
export function restoreFiles(entries: Iterable<[string, Uint8Array]>): void {
  for (const [path, data] of entries) {
    const a = abs(path);
    mkdirSync(dirname(a), { recursive: true });
    files.set(a, data);
  }
}

function errno(code: string, syscall: string, path: string): Error {
  const e = new Error(`${code}: ${syscall} '${path}'`) as Error & { code: string; syscall: string; path: string };
  e.code = code;
  e.syscall = syscall;
  e.path = path;
  return e;
}

const abs = (p: string | URL): string => resolve(normalize(String(p)));
const encoder = new TextEncoder();
const decoder = new TextDecoder();

type Encoding = string | { encoding?: string | null } | undefined | null;
const encodingOf = (o: Encoding): string | undefined => (typeof o === 'string' ? o : (o?.encoding ?? undefined));

function toBytes(data: string | Uint8Array | ArrayBufferView): Uint8Array {
  if (typeof data === 'string') return encoder.encode(data);
  if (data instanceof Uint8Array) return data.slice();
  return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
}

class Stats {
  constructor(
    private readonly dir: boolean,
    readonly size: number,
  ) {}
  readonly mtimeMs = 0;
  readonly mtime = new Date(0);
  isDirectory(): boolean {
    return this.dir;
  }
  isFile(): boolean {
    return !this.dir;
  }
  isSymbolicLink(): boolean {
    return false;
  }
  // The in-memory tree holds only files and folders: never a FIFO, socket or device.
  isFIFO(): boolean {
    return false;
  }
  isSocket(): boolean {
    return false;
  }
  isCharacterDevice(): boolean {
    return false;
  }
  isBlockDevice(): boolean {
    return false;
  }
}

class Dirent {
  constructor(
    readonly name: string,
    private readonly dir: boolean,
  ) {}
  isDirectory(): boolean {
    return this.dir;
  }
  isFile(): boolean {
    return !this.dir;
  }
}

// O_NONBLOCK has nothing to do here (no FIFO can exist in the tree); Linux's values, for util/regular-file.ts.
export const constants = { F_OK: 0, R_OK: 4, W_OK: 2, X_OK: 1, O_RDONLY: 0, O_NONBLOCK: 0o4000 };

export function existsSync(p: string): boolean {
  const a = abs(p);
  return files.has(a) || dirs.has(a);
}

export function statSync(p: string): Stats {
  const a = abs(p);
  if (dirs.has(a)) return new Stats(true, 0);
  const f = files.get(a);
  if (!f) throw errno('ENOENT', 'stat', a);
  return new Stats(false, f.byteLength);
}

export const lstatSync = statSync;

export function accessSync(p: string): void {
  statSync(p);
}

export function mkdirSync(p: string, opts?: { recursive?: boolean }): void {
  const a = abs(p);
  if (dirs.has(a)) {
    if (opts?.recursive) return;
    throw errno('EEXIST', 'mkdir', a);
  }
  if (files.has(a)) throw errno('EEXIST', 'mkdir', a);
  const parent = dirname(a);
  if (!dirs.has(parent)) {
    if (!opts?.recursive) throw errno('ENOENT', 'mkdir', a);
    mkdirSync(parent, opts);
  }
  dirs.add(a);
}

export function readFileSync(p: string, opts?: Encoding): Uint8Array | string {
  const a = abs(p);
  if (dirs.has(a)) throw errno('EISDIR', 'read', a);
  const f = files.get(a);
  if (!f) throw errno('ENOENT', 'open', a);
  return encodingOf(opts) ? decoder.decode(f) : f.slice();
}

export function writeFileSync(p: string, data: string | Uint8Array): void {
  const a = abs(p);
  if (!dirs.has(dirname(a))) throw errno('ENOENT', 'open', a);
  if (dirs.has(a)) throw errno('EISDIR', 'open', a);
  setFile(a, toBytes(data));
}

export function renameSync(from: string, to: string): void {
  const a = abs(from);
  const b = abs(to);
  const f = files.get(a);
  if (!f) throw errno('ENOENT', 'rename', a);
  if (!dirs.has(dirname(b))) throw errno('ENOENT', 'rename', b);
  deleteFile(a);
  setFile(b, f);
}

export function rmSync(p: string, opts?: { recursive?: boolean; force?: boolean }): void {
  const a = abs(p);
  if (deleteFile(a)) return;
  if (!dirs.has(a)) {
    if (opts?.force) return;
    throw errno('ENOENT', 'rm', a);
  }
  const inside = (k: string) => k.startsWith(`${a}/`);
  if (!opts?.recursive && ([...files.keys()].some(inside) || [...dirs].some(inside))) throw errno('ENOTEMPTY', 'rm', a);
  for (const k of [...files.keys()]) if (inside(k)) deleteFile(k);
  for (const k of [...dirs]) if (inside(k)) dirs.delete(k);
  if (a !== '/') dirs.delete(a);
}

/** Node's rmdir: only an empty folder goes (ENOTEMPTY otherwise), as the runner's clean-up relies on. */
export function rmdirSync(p: string): void {
  const a = abs(p);
  if (!dirs.has(a)) throw errno(files.has(a) ? 'ENOTDIR' : 'ENOENT', 'rmdir', a);
  const inside = (k: string) => k.startsWith(`${a}/`);
  if ([...files.keys()].some(inside) || [...dirs].some(inside)) throw errno('ENOTEMPTY', 'rmdir', a);
  if (a !== '/') dirs.delete(a);
}

export function readdirSync(p: string, opts?: { withFileTypes?: boolean }): (string | Dirent)[] {
  const a = abs(p);
  if (!dirs.has(a)) throw errno(files.has(a) ? 'ENOTDIR' : 'ENOENT', 'scandir', a);
  const prefix = a === '/' ? '/' : `${a}/`;
  const direct = (k: string) => k.startsWith(prefix) && k !== a && !k.slice(prefix.length).includes('/');
  const entries = [
    ...[...dirs].filter(direct).map((k) => new Dirent(k.slice(prefix.length), true)),
    ...[...files.keys()].filter(direct).map((k) => new Dirent(k.slice(prefix.length), false)),
  ].sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  return opts?.withFileTypes ? entries : entries.map((e) => e.name);
}

let tempCounter = 0;
export function mkdtempSync(prefix: string): string {
  const p = `${prefix}${(++tempCounter).toString(36).padStart(6, '0')}`;
  mkdirSync(p, { recursive: true });
  return p;
}

// File descriptors: writeFileAtomic opens a temp file, writes, fsyncs and renames it.
const open = new Map<number, { path: string; chunks: Uint8Array[] | null }>();
let nextFd = 3;

export function openSync(p: string, flags: string | number = 'r'): number {
  const a = abs(p);
  // Numeric flags (util/regular-file.ts: O_RDONLY | O_NONBLOCK) only ever read here.
  if (typeof flags === 'string' && flags.startsWith('w')) {
    if (flags.includes('x') && existsSync(a)) throw errno('EEXIST', 'open', a);
    writeFileSync(a, new Uint8Array(0));
    open.set(nextFd, { path: a, chunks: [] });
  } else {
    statSync(a);
    open.set(nextFd, { path: a, chunks: null });
  }
  return nextFd++;
}

export function writeSync(fd: number, data: Uint8Array, offset = 0, length = data.byteLength - offset): number {
  const h = open.get(fd);
  if (!h?.chunks) throw errno('EBADF', 'write', String(fd));
  h.chunks.push(data.slice(offset, offset + length));
  return length;
}

export function fsyncSync(fd: number): void {
  const h = open.get(fd);
  if (!h) throw errno('EBADF', 'fsync', String(fd));
  if (h.chunks) {
    const size = h.chunks.reduce((n, c) => n + c.byteLength, 0);
    const all = new Uint8Array(size);
    let at = 0;
    for (const c of h.chunks) {
      all.set(c, at);
      at += c.byteLength;
    }
    setFile(h.path, all);
  }
}

export function closeSync(fd: number): void {
  fsyncSync(fd);
  open.delete(fd);
}

export function fstatSync(fd: number): Stats {
  const h = open.get(fd);
  if (!h) throw errno('EBADF', 'fstat', String(fd));
  return statSync(h.path);
}

export function readSync(fd: number, buf: Uint8Array, offset: number, length: number, position: number): number {
  const h = open.get(fd);
  if (!h || h.chunks) throw errno('EBADF', 'read', String(fd));
  const part = (files.get(h.path) ?? new Uint8Array(0)).subarray(position, position + length);
  buf.set(part, offset);
  return part.byteLength;
}

export function createWriteStream(p: string): never {
  throw errno('ENOSYS', 'createWriteStream', abs(p));
}

export function createReadStream(p: string): never {
  throw errno('ENOSYS', 'createReadStream', abs(p));
}

/** node:fs/promises over the same tree. */
export const promises = {
  async readFile(p: string, opts?: Encoding) {
    return readFileSync(p, opts);
  },
  async stat(p: string) {
    return statSync(p);
  },
  async open(p: string) {
    const a = abs(p);
    const data = files.get(a);
    if (!data) throw errno(dirs.has(a) ? 'EISDIR' : 'ENOENT', 'open', a);
    return {
      async read(buf: Uint8Array, offset: number, length: number, position: number) {
        const part = data.subarray(position, position + length);
        buf.set(part, offset);
        return { bytesRead: part.byteLength, buffer: buf };
      },
      async stat() {
        return new Stats(false, data.byteLength);
      },
      async readFile() {
        return data.slice();
      },
      async close() {},
    };
  },
  async mkdir(p: string, opts?: { recursive?: boolean }) {
    mkdirSync(p, opts);
  },
  async writeFile(p: string, data: string | Uint8Array) {
    writeFileSync(p, data);
  },
  async rm(p: string, opts?: { recursive?: boolean; force?: boolean }) {
    rmSync(p, opts);
  },
  async readdir(p: string, opts?: { withFileTypes?: boolean }) {
    return readdirSync(p, opts);
  },
  async access(p: string) {
    accessSync(p);
  },
  async mkdtemp(prefix: string) {
    return mkdtempSync(prefix);
  },
  async rename(from: string, to: string) {
    renameSync(from, to);
  },
};

export default { constants, existsSync, statSync, lstatSync, accessSync, mkdirSync, readFileSync, writeFileSync, renameSync, rmSync, rmdirSync, readdirSync, mkdtempSync, openSync, writeSync, fsyncSync, closeSync, fstatSync, readSync, createReadStream, createWriteStream, promises };
