/**
 * Writes drift-parity.golden.json: profiles and drift reports of `drift-parity-data.ts` as the
 * code computed them before the issue 24 speed work (commit baf1c8c), so `drift-parity.test.ts`
 * holds every later version to the same values, bit for bit. Rerun only to record an intended
 * change of values: `pnpm exec tsx --conditions=@modelship/source packages/core/test/golden/make_drift_parity.ts`.
 */
import { writeFileSync } from 'node:fs';
import { detectDrift } from '../../src/monitor/drift';
import { Profile } from '../../src/monitor/profile';
import { parityCases } from './drift-parity-cases';

writeFileSync(
  new URL('./drift-parity.golden.json', import.meta.url),
  `${JSON.stringify(parityCases(Profile, detectDrift))}\n`,
);
