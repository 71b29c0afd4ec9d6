import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli as runCli } from '../helpers/cli.ts';

const tmp = mkdtempSync(join(tmpdir(), 'llk-cli-audit-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const cli = (args: string[]) => runCli(args, { env: { XDG_CACHE_HOME: join(tmp, 'cache') } });

const models = join(tmp, 'models');
/** model.json folders under DIR/<tier>/<claim>/seed-<n>/. */
const savedModels = (seedDir: string) => (existsSync(seedDir) ? readdirSync(seedDir).sort() : []);

describe('label-leak run --save-models, then label-leak audit', () => {
  let saved: string[] = [];
  beforeAll(async () => {
    const r = await cli([
      'run', 'tiny-mnist-fgsm', '--claims', 'test/fixtures-specs/real-kinds', '--backend', 'wasm', '--seed', '1',
      '--results', join(tmp, 'results'), '--save-models', models,
    ]);
    expect(r.code, r.stderr).toBe(0);
    saved = savedModels(join(models, 'fast', 'tiny-mnist-fgsm', 'seed-1'));
  });

  it('saves every model the seed trains (the adversarial one and its control) as model.json + weights.bin with what it was trained on', () => {
    expect(saved.map((s) => s.replace(/-[0-9a-f]{16}$/, ''))).toEqual(['adversarial', 'control']);
    const dir = join(models, 'fast', 'tiny-mnist-fgsm', 'seed-1', saved[0]);
    expect(readdirSync(dir).sort()).toEqual(['model.json', 'weights.bin']);
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    expect(json.format).toBe('layers-model');
    expect(json.userDefinedMetadata.labelLeak).toMatchObject({ claim: 'tiny-mnist-fgsm', tier: 'fast', seed: 1, role: 'adversarial', dataset: 'mnist', model: { kind: 'mlp', hidden: [32] } });
  });

  it('says so when --resume re-uses a finished seed, whose models it then cannot save', async () => {
    const again = join(tmp, 'models-again');
    const r = await cli([
      'run', 'tiny-mnist-fgsm', '--claims', 'test/fixtures-specs/real-kinds', '--backend', 'wasm', '--seed', '1',
      '--results', join(tmp, 'results'), '--save-models', again, '--resume',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('tiny-mnist-fgsm [fast] seed 1 (1/1): re-used, finished ');
    expect(r.stderr).toContain('no model of it is saved — run it without --resume to save its models');
    expect(existsSync(again)).toBe(false);
  });

  it('audits a saved model: the report with every measure and both flags, exit 0', async () => {
    const dir = join(models, 'fast', 'tiny-mnist-fgsm', 'seed-1', saved[0]);
    const out = join(tmp, 'audit.json');
    const r = await cli(['audit', dir, '--backend', 'wasm', '--seeds', '1,2', '--test-images', '100', '--probe-images', '100', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`# label-leak audit: ${join(dir, 'model.json')}`);
    expect(r.stdout).toContain('trained by label-leak: tiny-mnist-fgsm [fast] seed 1, adversarial model');
    for (const row of ['clean accuracy', 'FGSM accuracy (ε = 6)', 'BIM accuracy (ε = 6)', 'leak gap', 'gradient-sign probe accuracy', 'Loss along sign']) {
      expect(r.stdout).toContain(row);
    }
    expect(r.stdout).toMatch(/- label leaking: (YES|no|undecided)/);
    expect(r.stdout).toMatch(/- gradient masking: (SUSPECTED|no|undecided)/);
    const doc = JSON.parse(readFileSync(out, 'utf8'));
    expect(doc.seeds).toEqual([1, 2]);
    expect(doc.outcomes.map((o: { metrics: Record<string, number> }) => Object.keys(o.metrics))).toEqual([expect.arrayContaining(['clean_acc', 'adv_acc_fgsm', 'loss_drop', 'probe_acc_true']), expect.anything()]);
  });

  const broken = (name: string, edit: (dir: string) => void) => {
    const from = join(models, 'fast', 'tiny-mnist-fgsm', 'seed-1', saved[0]);
    const dir = join(tmp, name);
    mkdirSync(dir, { recursive: true });
    for (const f of ['model.json', 'weights.bin']) writeFileSync(join(dir, f), readFileSync(join(from, f)));
    edit(dir);
    return dir;
  };

  it('a malformed model.json exits 2 with one line naming the file', async () => {
    const dir = broken('bad-json', (d) => writeFileSync(join(d, 'model.json'), '{"modelTopology": {"class_name": '));
    const r = await cli(['audit', join(dir, 'model.json'), '--backend', 'wasm']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`label-leak: ${join(dir, 'model.json')}: not valid JSON`);
    expect(r.stdout).toBe('');
  });

  it('a truncated weights file exits 2 naming the weights file', async () => {
    const dir = broken('short-weights', (d) => truncateSync(join(d, 'weights.bin'), 64));
    const r = await cli(['audit', dir, '--backend', 'wasm']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${join(dir, 'weights.bin')}: holds 64 bytes`);
  });

  it('a model that does not say what data it takes, without --dataset, exits 2 saying so', async () => {
    const dir = broken('no-metadata', (d) => {
      const j = JSON.parse(readFileSync(join(d, 'model.json'), 'utf8'));
      delete j.userDefinedMetadata;
      writeFileSync(join(d, 'model.json'), JSON.stringify(j));
    });
    const r = await cli(['audit', dir, '--backend', 'wasm']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/does not say which data it was trained on; give --dataset/);
  });
});
