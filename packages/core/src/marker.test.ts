import { describe, expect, it, vi } from 'vitest';
import { ModelshipError } from './errors';
import { Profile } from './monitor/profile';
import { Pipeline } from './pipeline/pipeline';

describe('isInstance across two copies of core', () => {
  it('recognises a Profile, a Pipeline and an error made by another copy, where instanceof does not', async () => {
    vi.resetModules();
    const other = {
      ...(await import('./monitor/profile')),
      ...(await import('./pipeline/pipeline')),
      ...(await import('./errors')),
    };
    expect(other.Profile).not.toBe(Profile);
    const profile = other.Profile.fromDataset([{ a: 1 }, { a: 2 }]);
    const pipeline = other.Pipeline.fit([{ a: 1 }, { a: 3 }], { features: { a: [] } });
    const error = new other.ModelshipError('INVALID_ARGUMENT', 'x');
    expect([
      profile instanceof Profile,
      pipeline instanceof Pipeline,
      error instanceof ModelshipError,
    ]).toEqual([false, false, false]);
    expect([
      Profile.isInstance(profile),
      Pipeline.isInstance(pipeline),
      ModelshipError.isInstance(error),
    ]).toEqual([true, true, true]);
    // Each marker names its own class only.
    expect([Profile.isInstance(pipeline), Pipeline.isInstance(profile), Profile.isInstance(error)]).toEqual([
      false,
      false,
      false,
    ]);
    expect([Profile.isInstance({ rows: 1, features: [] }), Pipeline.isInstance(null)]).toEqual([
      false,
      false,
    ]);
    // The marker is no part of the JSON.
    expect(Object.keys(JSON.parse(JSON.stringify(profile)))).toEqual(['version', 'rows', 'features']);
  });
});
