/**
 * The data sets of `drift-parity.test.ts`: rows with gaps (null, NaN, absent keys, a key that
 * appears late, keys in another order, an array value), integer codes, categories, booleans, and
 * the same data as plain and typed columns. Seeded, so the fixture can pin every value.
 */
import { seededRandom } from '../../src/evaluate/bootstrap';
import type { Columns, Row } from '../../src/evaluate/types';

export function parityRows(n: number, seed: number, shift: number): Row[] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, (_, i) => {
    const row: Row = {
      x: i % 37 === 0 ? null : random() * 10 + shift,
      code: i % 53 === 0 ? Number.NaN : Math.floor(random() * 4),
      tiny: (random() - 0.5) * 1e-3 - (i % 11 === 0 ? 0 : shift * 1e-4),
      country: ['FR', 'DE', 'ES'][Math.floor(random() * 3)]!,
      member: random() < 0.3 + shift / 10,
      wide: (random() - 0.5) * 1e6 + (i % 5 === 0 ? -0 : 0),
    };
    if (i % 97 === 0) delete row.wide;
    if (i > n / 3) row.late = random() + shift;
    if (i % 13 === 0) return { late: row.late, wide: row.wide, ...row };
    return row;
  });
}

export function parityColumns(rows: Row[], typed: boolean): Columns {
  const names = ['x', 'code', 'tiny', 'country', 'member', 'wide'];
  const cols: Columns = Object.fromEntries(names.map((k) => [k, rows.map((r) => r[k])]));
  if (typed) {
    cols.tiny = Float64Array.from(rows, (r) => r.tiny as number);
    cols.x = Float64Array.from(rows, (r) => (r.x === null ? Number.NaN : (r.x as number)));
  }
  return cols;
}
