import { describe, expect, it } from 'vitest';
import { dawnFlags } from '../../src/backend/webgpu.ts';

describe('LABEL_LEAK_WEBGPU_FLAGS', () => {
  it('is split on whitespace into dawn.node create() options; absent or blank gives none', () => {
    expect(dawnFlags({})).toEqual([]);
    expect(dawnFlags({ LABEL_LEAK_WEBGPU_FLAGS: '  ' })).toEqual([]);
    expect(dawnFlags({ LABEL_LEAK_WEBGPU_FLAGS: ' enable-dawn-features=skip_validation,disable_robustness  adapter=foo ' })).toEqual([
      'enable-dawn-features=skip_validation,disable_robustness',
      'adapter=foo',
    ]);
  });
});
