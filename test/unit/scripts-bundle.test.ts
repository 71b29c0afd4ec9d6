// The bundle route (docs/gpu.md): scripts/bundle.mjs must give a folder that runs on a
// machine with Node.js and nothing else. Each bundle is built into a temp folder outside the
// repository and run there, with NODE_PATH cleared, so no node_modules can be reached.
import { execFileSync, type ExecFileSyncOptions } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, parse, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const cliEntry = join(root, 'src', 'cli.ts');
const probeEntry = join(root, 'test', 'unit', 'fixtures', 'bundle-probe.ts');

const isolatedEnv = (): NodeJS.ProcessEnv => {
  const env = { ...process.env };
  delete env.NODE_PATH;
  delete env.NODE_OPTIONS; // vitest/tsx loaders must not help the bundle
  delete env.LABEL_LEAK_WASM_DIR;
  return env;
};

/** Builds `entry` with the real script into a fresh temp folder; returns that folder. */
function buildBundle(entry: string): { dir: string; log: string; inputs: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'label-leak-bundle-'));
  const meta = join(dir, 'meta.json');
  const log = execFileSync(
    process.execPath,
    [join(root, 'scripts', 'bundle.mjs'), '--entry', entry, '--outdir', dir, '--metafile', meta],
    { cwd: root, encoding: 'utf8' },
  );
  const inputs = Object.keys((JSON.parse(readFileSync(meta, 'utf8')) as { inputs: object }).inputs);
  rmSync(meta);
  return { dir, log, inputs };
}

function runBundle(dir: string, args: string[], opts: ExecFileSyncOptions = {}): string {
  return execFileSync(process.execPath, [join(dir, 'label-leak.mjs'), ...args], {
    cwd: dir,
    env: isolatedEnv(),
    encoding: 'utf8',
    timeout: 60_000,
    ...opts,
  }) as string;
}

/** Every node_modules folder Node could search from `dir` upwards. */
function reachableNodeModules(dir: string): string[] {
  const found: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, 'node_modules'))) found.push(join(d, 'node_modules'));
    if (d === parse(d).root) return found;
  }
}

describe('bundle of a probe entry (CJS deps, wasm binaries, webgpu)', () => {
  let dir = '';
  let log = '';
  beforeAll(() => {
    ({ dir, log } = buildBundle(probeEntry));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('sits where no node_modules but its own webgpu copy is reachable', () => {
    expect(dir.startsWith(root)).toBe(false);
    expect(reachableNodeModules(dir)).toEqual([join(dir, 'node_modules')]);
    expect(readdirSync(join(dir, 'node_modules'))).toEqual(['webgpu']);
  });

  it('lays out the bundle, the wasm binaries and dawn.node, and prints the size', () => {
    expect(statSync(join(dir, 'label-leak.mjs')).size).toBeGreaterThan(1_000_000);
    expect(readdirSync(dir).filter((f) => f.endsWith('.wasm')).sort()).toEqual([
      'tfjs-backend-wasm-simd.wasm',
      'tfjs-backend-wasm-threaded-simd.wasm',
      'tfjs-backend-wasm.wasm',
    ]);
    expect(existsSync(join(dir, 'node_modules', 'webgpu', 'dist', 'linux-x64', 'dawn.node'))).toBe(true);
    expect(existsSync(join(dir, 'node_modules', 'webgpu', 'index.js'))).toBe(true);
    expect(log).toMatch(/^bundle\s+\S+label-leak\.mjs\s+\d+\.\d MiB$/m);
  });

  it('runs --help', () => {
    expect(runBundle(dir, ['--help'])).toContain('Usage: bundle-probe');
  });

  it('starts the wasm backend from the .wasm files beside it', () => {
    const out = runBundle(dir, ['--wasm']);
    expect(out).toContain('wasm-sum=6');
    expect(out).toContain('require=function');
  });

  it('fails to start wasm when the binaries are removed (so the test above can fail)', () => {
    const bare = mkdtempSync(join(tmpdir(), 'label-leak-bundle-bare-'));
    try {
      execFileSync('cp', [join(dir, 'label-leak.mjs'), bare]);
      let stderr = '';
      try {
        runBundle(bare, ['--wasm'], { stdio: 'pipe' });
      } catch (e) {
        stderr = String((e as { stderr?: unknown }).stderr);
      }
      expect(stderr).toMatch(/ENOENT[^\n]*tfjs-backend-wasm[\w-]*\.wasm/);
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
  });

  it.skipIf(process.platform !== 'linux' || process.arch !== 'x64')(
    'resolves the webgpu package from its own node_modules (linux-x64 only: the one dawn.node copied)',
    () => {
      expect(runBundle(dir, ['--webgpu'])).toContain('webgpu-create=function');
    },
  );
});

describe('bundle of the real CLI (src/cli.ts)', () => {
  let built: ReturnType<typeof buildBundle> | undefined;
  const build = () => (built ??= buildBundle(cliEntry));
  afterAll(() => {
    if (built) rmSync(built.dir, { recursive: true, force: true });
  });

  it('bundles, and runs `--help` with no node_modules reachable, listing the subcommands', () => {
    const { dir } = build();
    expect(reachableNodeModules(dir)).toEqual([join(dir, 'node_modules')]);
    const help = runBundle(dir, ['--help']);
    for (const cmd of ['run', 'list', 'report', 'data']) expect(help).toMatch(new RegExp(`^\\s+${cmd}\\b`, 'm'));
  });

  // src/backend imports tfjs-backend-webgpu only once an adapter exists (it registers
  // itself at import time). An import esbuild cannot see stays a run-time lookup, which
  // finds nothing beside the bundle, or a second tfjs-core that the bundle's tf never sees.
  it('carries tfjs-backend-webgpu inside it, so --backend webgpu can work from the bundle', () => {
    const { inputs } = build();
    expect(inputs.filter((f) => f.includes('node_modules/@tensorflow/tfjs-backend-webgpu/')).length).toBeGreaterThan(0);
  });
});
