/**
 * Every `LABEL_LEAK_*` environment variable, in one list: its name, what it does when
 * unset, and one line. Code in src/ names a variable only through this list
 * (test/unit/settings.test.ts fails on a `LABEL_LEAK_` string anywhere else in src/), so a
 * new one cannot be added without saying what it does; docs/settings.md is generated from
 * it (`npm run settings`) and a test fails when that file is stale.
 */

/** Who reads a variable: the CLI itself, the test suites, or the build and CI scripts. */
type SettingScope = 'label-leak' | 'tests' | 'scripts';

export interface Setting {
  name: `LABEL_LEAK_${string}`;
  /** What happens when it is unset (or empty). */
  unset: string;
  /** One line: what it does and what values it takes. */
  description: string;
  scope: SettingScope;
  /** The file that reads it, where not src/ (bin/, a test, a script). */
  readIn?: string;
}

const setting = <S extends Setting>(s: S): S => s;

export const SETTINGS = {
  dataDir: setting({
    name: 'LABEL_LEAK_DATA_DIR',
    unset: '`$XDG_CACHE_HOME/label-leak`, else `~/.cache/label-leak`',
    description: 'where datasets live and missing ones are downloaded to; `--data-dir` wins over it',
    scope: 'label-leak',
  }),
  offline: setting({
    name: 'LABEL_LEAK_OFFLINE',
    unset: 'downloads allowed',
    description: '`1`/`true`/`yes`/`on` forbids every download (as `--offline`); `0`/`false`/`no`/`off` allows them; anything else is refused',
    scope: 'label-leak',
  }),
  dataMirror: setting({
    name: 'LABEL_LEAK_DATA_MIRROR',
    unset: 'the official sources',
    description: 'base URL of a mirror laid out as `<mirror>/<dataset>/<official archive name>`',
    scope: 'label-leak',
  }),
  dataSums: setting({
    name: 'LABEL_LEAK_DATA_SHA256SUMS',
    unset: 'the official archive digests',
    description: 'a `sha256sum` list (`<hex>  <dataset>/<archive>`) trusted instead of the official digests of the archives it names',
    scope: 'label-leak',
  }),
  wasmDir: setting({
    name: 'LABEL_LEAK_WASM_DIR',
    unset: 'the script\'s folder, else the installed `@tensorflow/tfjs-backend-wasm`',
    description: 'folder holding the `tfjs-backend-wasm*.wasm` binaries',
    scope: 'label-leak',
  }),
  swiftshaderDir: setting({
    name: 'LABEL_LEAK_SWIFTSHADER_DIR',
    unset: '`.cache/swiftshader` above the code or the working directory, then Chromium\'s folder',
    description: 'folder holding SwiftShader\'s `vk_swiftshader_icd.json`, the software webgpu adapter tests run on',
    scope: 'label-leak',
  }),
  webgpuFlags: setting({
    name: 'LABEL_LEAK_WEBGPU_FLAGS',
    unset: 'none',
    description: 'space-separated options for dawn.node\'s `create()`, e.g. `enable-dawn-features=skip_validation` or `adapter=NAME`',
    scope: 'label-leak',
  }),
  jobIpc: setting({
    name: 'LABEL_LEAK_JOB_IPC',
    unset: 'progress drawn on stderr',
    description: 'internal: set by `run --jobs` on its children, which then send their progress to the parent',
    scope: 'label-leak',
  }),
  noCompile: setting({
    name: 'LABEL_LEAK_NO_COMPILE',
    unset: 'the CLI is compiled once into `.cache/cli` and run from there',
    description: '`1` runs the TypeScript sources through tsx instead',
    scope: 'label-leak',
    readIn: 'bin/compiled-cli.mjs',
  }),
  tier: setting({
    name: 'LABEL_LEAK_TIER',
    unset: '`fast`',
    description: 'the tier the claim suite runs: `fast`, `gpu` or `full`',
    scope: 'tests',
    readIn: 'test/claims/claims.test.ts',
  }),
  backend: setting({
    name: 'LABEL_LEAK_BACKEND',
    unset: '`auto`',
    description: 'the backend the claim suite runs on: `auto`, `wasm`, `cpu`, `webgpu` or `tensorflow`',
    scope: 'tests',
    readIn: 'test/claims/claims.test.ts',
  }),
  resultsDir: setting({
    name: 'LABEL_LEAK_RESULTS_DIR',
    unset: '`results`',
    description: 'where the claim suite writes its records',
    scope: 'tests',
    readIn: 'test/claims/claims.test.ts',
  }),
  claimsDir: setting({
    name: 'LABEL_LEAK_CLAIMS_DIR',
    unset: '`claims`',
    description: 'the folder of specs the claim suite runs, for trying out specs elsewhere',
    scope: 'tests',
    readIn: 'test/claims/claims.test.ts',
  }),
  jobs: setting({
    name: 'LABEL_LEAK_JOBS',
    unset: '`auto` (one process per core)',
    description: 'the claim suite\'s `run --jobs`: a positive integer or `auto`',
    scope: 'tests',
    readIn: 'test/claims/claims.test.ts',
  }),
  keepE2e: setting({
    name: 'LABEL_LEAK_KEEP_E2E',
    unset: 'nothing printed',
    description: 'any value prints the folder the end-to-end test ran in',
    scope: 'tests',
    readIn: 'test/claims/engine-e2e.test.ts',
  }),
  requireWebgpu: setting({
    name: 'LABEL_LEAK_REQUIRE_WEBGPU',
    unset: 'webgpu tests skip, naming why, where no adapter starts',
    description: '`1` makes a missing webgpu adapter fail those tests (CI sets it)',
    scope: 'tests',
    readIn: 'test/helpers/webgpu.ts',
  }),
  requireBrowser: setting({
    name: 'LABEL_LEAK_REQUIRE_BROWSER',
    unset: 'the browser test skips, naming why, without Chromium',
    description: '`1` makes a missing Chromium fail the browser test (CI sets it)',
    scope: 'tests',
    readIn: 'test/browser/serve.test.ts',
  }),
  chromium: setting({
    name: 'LABEL_LEAK_CHROMIUM',
    unset: '`/usr/bin/chromium`',
    description: 'the Chromium the browser test drives',
    scope: 'tests',
    readIn: 'test/helpers/chromium.ts',
  }),
  chromiumArgs: setting({
    name: 'LABEL_LEAK_CHROMIUM_ARGS',
    unset: 'the browser test\'s arguments (test/helpers/chromium.ts)',
    description: 'space-separated Chromium arguments for `scripts/serve-timing.ts`, to time a variant',
    scope: 'tests',
    readIn: 'scripts/serve-timing.ts',
  }),
  browserWebgpuQuick: setting({
    name: 'LABEL_LEAK_BROWSER_WEBGPU_QUICK',
    unset: 'mnist-no-leaking\'s whole fast tier on WebGPU (about ten minutes on SwiftShader)',
    description: 'set to 1: the browser test\'s WebGPU run is cut down to 1 epoch on 2,048 images, seeds 1 and 2 (a minute), and held against the CLI on wasm with the same overrides',
    scope: 'tests',
    readIn: 'test/browser/serve.test.ts',
  }),
  screenshots: setting({
    name: 'LABEL_LEAK_SCREENSHOTS',
    unset: 'no screenshots',
    description: 'folder where the browser test saves the page after each run as `serve-<backend>.png`',
    scope: 'tests',
    readIn: 'test/browser/serve.test.ts',
  }),
  mutate: setting({
    name: 'LABEL_LEAK_MUTATE',
    unset: '`attacks`',
    description: 'the src/ folder whose tests one StrykerJS run uses (set by `npm run mutation`)',
    scope: 'scripts',
    readIn: 'vitest.stryker.config.ts',
  }),
  mutateTests: setting({
    name: 'LABEL_LEAK_MUTATE_TESTS',
    unset: 'the folder\'s own list of test files',
    description: 'comma-separated test files that replace the folder\'s list for a quick partial StrykerJS run (its score is then a lower bound)',
    scope: 'scripts',
    readIn: 'vitest.stryker.config.ts',
  }),
  stateDir: setting({
    name: 'LABEL_LEAK_STATE_DIR',
    unset: '`~/label-leak-state`',
    description: 'a GitHub repository variable (not an environment variable): the GPU runner\'s folder for datasets, records and checkpoints',
    scope: 'scripts',
    readIn: '.github/workflows/gpu-claims.yml',
  }),
} as const;

/** docs/settings.md: the list above as a table, one per scope. */
export function settingsMarkdown(): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  const heads: Record<SettingScope, string> = {
    'label-leak': 'Read by `label-leak`',
    tests: 'Read by the tests',
    scripts: 'Read by the build and CI scripts',
  };
  const lines = [
    '# Settings',
    '',
    '<!-- Generated from src/util/env.ts by `npm run settings`; test/unit/settings.test.ts fails when this file is stale. Edit that list, not this file. -->',
    '',
    'Every `LABEL_LEAK_*` environment variable. For those `label-leak` reads, an empty value counts as unset.',
  ];
  for (const scope of Object.keys(heads) as SettingScope[]) {
    lines.push('', `## ${heads[scope]}`, '', '| Variable | When unset | What it does |', '|---|---|---|');
    for (const s of Object.values(SETTINGS).filter((x: Setting) => x.scope === scope) as Setting[]) {
      lines.push(`| \`${s.name}\` | ${cell(s.unset)} | ${cell(s.description)}${s.readIn ? ` (read in \`${s.readIn}\`)` : ''} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}
