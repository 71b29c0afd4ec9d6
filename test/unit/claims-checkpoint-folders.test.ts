import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { removeEmptyCheckpointFolders } from '../../src/claims/checkpoint-folders.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'll-ckpt-folders-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const checkpoints = () => join(dir, 'checkpoints');

describe('removing the empty checkpoint folders of a finished claim', () => {
  it('removes the claim\'s folder, then its tier\'s and checkpoints/ when they are left empty', () => {
    mkdirSync(join(checkpoints(), 'fast', 'claim-a'), { recursive: true });
    removeEmptyCheckpointFolders(dir, 'fast', 'claim-a');
    expect(existsSync(checkpoints())).toBe(false);
    expect(existsSync(dir)).toBe(true);
  });

  it('stops at the first folder that is not empty: another claim\'s checkpoints are never touched', () => {
    mkdirSync(join(checkpoints(), 'fast', 'claim-a'), { recursive: true });
    const other = join(checkpoints(), 'fast', 'claim-b', 'seed-1');
    mkdirSync(other, { recursive: true });
    writeFileSync(join(other, 'checkpoint.json'), '{}');
    removeEmptyCheckpointFolders(dir, 'fast', 'claim-a');
    expect(existsSync(join(checkpoints(), 'fast', 'claim-a'))).toBe(false);
    expect(existsSync(join(other, 'checkpoint.json'))).toBe(true);
  });

  it('a claim folder that still holds something (a failed seed\'s checkpoint) is kept, and so is everything above it', () => {
    const seed = join(checkpoints(), 'fast', 'claim-a', 'seed-2');
    mkdirSync(seed, { recursive: true });
    writeFileSync(join(seed, 'checkpoint.json'), '{}');
    removeEmptyCheckpointFolders(dir, 'fast', 'claim-a');
    expect(existsSync(join(seed, 'checkpoint.json'))).toBe(true);
  });

  it('when the claim\'s folder is already gone, the folders above it are left as they are', () => {
    mkdirSync(join(checkpoints(), 'fast'), { recursive: true });
    removeEmptyCheckpointFolders(dir, 'fast', 'claim-a');
    expect(existsSync(join(checkpoints(), 'fast'))).toBe(true);
    // Nor is checkpoints/ removed when the tier's folder is gone.
    rmSync(join(checkpoints(), 'fast'), { recursive: true });
    removeEmptyCheckpointFolders(dir, 'fast', 'claim-a');
    expect(existsSync(checkpoints())).toBe(true);
  });

  it('no checkpoints folder at all: nothing to do, nothing thrown', () => {
    expect(() => removeEmptyCheckpointFolders(dir, 'fast', 'claim-a')).not.toThrow();
    expect(existsSync(dir)).toBe(true);
  });
});
