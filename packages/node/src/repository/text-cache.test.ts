/**
 * A poll of an unchanged repository parses nothing: profiles and input screens are built again
 * only when their files' text, the profile they check against or the pipeline's fields change.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Profile } from '@modelship/core';
import { IsolationForest } from '@modelship/core/anomaly';
import { afterEach, describe, expect, it } from 'vitest';
import { FileSystemRepository } from './repository';
import { scanRepository } from './scan';
import { TextCache } from './text-cache';

const rows = Array.from({ length: 60 }, (_, i) => ({ a: Math.sin(i), b: Math.cos(i * 0.7) }));
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function repository(): { root: string; write: (file: string, json: unknown) => void } {
  const root = mkdtempSync(join(tmpdir(), 'modelship-cache-'));
  dirs.push(root);
  mkdirSync(join(root, 'm', 'monitor'), { recursive: true });
  const write = (file: string, json: unknown) => writeFileSync(join(root, 'm', file), JSON.stringify(json));
  write('profile.json', Profile.fromDataset(rows));
  write('monitor/quality.json', { mode: 'flag' });
  write('monitor/outliers.json', IsolationForest.fit(rows, { nEstimators: 5, seed: 1 }));
  return { root, write };
}

describe('TextCache in repository scans', () => {
  it('builds the profile and the screen once while their files stay the same', async () => {
    const { root, write } = repository();
    const cache = new TextCache();
    const first = (await scanRepository(root, { cache })).models[0]!;
    expect(first.screen).toBeDefined();
    expect(cache.builds).toBe(2); // profile.json, then the screen
    for (let i = 0; i < 3; i++) {
      const again = (await scanRepository(root, { cache })).models[0]!;
      expect(again.profile).toBe(first.profile);
      expect(again.screen).toBe(first.screen);
    }
    expect(cache.builds).toBe(2);

    write('monitor/outliers.json', IsolationForest.fit(rows, { nEstimators: 5, seed: 2 }));
    const changed = (await scanRepository(root, { cache })).models[0]!;
    expect(cache.builds).toBe(3); // the screen only
    expect(changed.profile).toBe(first.profile);
    expect(changed.screen).not.toBe(first.screen);

    // a new profile: the screen's checks are built again against it
    write('profile.json', Profile.fromDataset(rows.slice(10)));
    const reprofiled = (await scanRepository(root, { cache })).models[0]!;
    expect(cache.builds).toBe(5);
    expect(reprofiled.screen).not.toBe(changed.screen);
    expect(reprofiled.screen!.quality!.profile).toBe(reprofiled.profile);
  });

  it('keeps a broken file reported on every scan without parsing it again', async () => {
    const { root, write } = repository();
    writeFileSync(join(root, 'm', 'monitor', 'outliers.json'), '{ not json');
    const cache = new TextCache();
    for (let i = 0; i < 3; i++) {
      const { models, problems } = await scanRepository(root, { cache });
      expect(models[0]!.screen).toBeUndefined();
      expect(problems.map((p) => p.reason)).toEqual([expect.stringMatching(/^monitor\/outliers\.json: /)]);
    }
    expect(cache.builds).toBe(2);
    write('monitor/outliers.json', IsolationForest.fit(rows, { nEstimators: 5, seed: 1 }));
    expect((await scanRepository(root, { cache })).models[0]!.screen).toBeDefined();
    expect(cache.builds).toBe(3);
  });

  it('lets FileSystemRepository keep one screen across polls and announce only changes', async () => {
    const { root, write } = repository();
    const repo = new FileSystemRepository(root);
    const changes: string[] = [];
    repo.on('screenChanged', ({ model }) => changes.push(model));
    await repo.sync();
    const screen = repo.screen('m');
    expect(screen).toBeDefined();
    await repo.sync();
    await repo.sync();
    expect(repo.screen('m')).toBe(screen);
    expect(changes).toEqual(['m']);
    write('profile.json', Profile.fromDataset(rows.slice(10)));
    await repo.sync();
    expect(repo.screen('m')).not.toBe(screen);
    expect(changes).toEqual(['m', 'm']);
  });
});
