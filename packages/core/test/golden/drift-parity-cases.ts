/** The cases of drift-parity.golden.json, computed by whichever Profile and detectDrift are given. */
import type { DriftOptions } from '../../src/monitor/drift';
import type { detectDrift as DetectDrift } from '../../src/monitor/drift';
import type { Profile as ProfileClass } from '../../src/monitor/profile';
import { parityColumns, parityRows } from './drift-parity-data';

export function parityCases(Profile: typeof ProfileClass, detectDrift: typeof DetectDrift): unknown {
  const ref = parityRows(4000, 1, 0);
  const cur = parityRows(3000, 2, 0.4);
  const profiles = {
    rows: Profile.fromDataset(ref, { sampleSize: 300, seed: 7 }),
    rowsExclude: Profile.fromDataset(ref, { exclude: ['member', 'late'], sampleSize: 1000 }),
    columns: Profile.fromDataset(parityColumns(ref, false), { sampleSize: 300, seed: 7 }),
    typed: Profile.fromDataset(parityColumns(ref, true), { sampleSize: 300, seed: 7 }),
    schema: Profile.fromDataset(parityColumns(ref, true), { schema: { code: 'categorical' }, seed: 2 }),
    image: Profile.fromDataset(
      ref.map((r, i) => ({ ...r, img: i % 3 === 0 ? [r.tiny, [r.x, 1]] : Float32Array.of(0.5, 1, i) })),
      { sampleSize: 200 },
    ),
  };
  const methods = (numeric: string[]): (DriftOptions | undefined)[] => [
    undefined,
    ...(['ks', 'wasserstein', 'psi', 'jensenshannon'] as const).map((m) => ({
      methods: Object.fromEntries(numeric.map((f) => [f, m])),
    })),
    { methods: { member: 'z', country: 'psi', x: 'z', ...(numeric.includes('code') ? { code: 'chisquare' } : {}) } },
  ];
  const reports: Record<string, unknown> = {};
  for (const [name, p] of Object.entries(profiles))
    for (const [m, options] of methods(
      p.features.filter((f) => f.type === 'numeric').map((f) => f.name),
    ).entries())
      for (const [form, data] of [
        ['rows', cur],
        ['columns', parityColumns(cur, false)],
        ['typed', parityColumns(cur, true)],
      ] as const) {
        if (name === 'image' && form !== 'rows') continue;
        reports[`${name} ${m} ${form}`] = detectDrift(p, data, options);
      }
  return { profiles: Object.fromEntries(Object.entries(profiles).map(([k, p]) => [k, p.toJSON()])), reports };
}
