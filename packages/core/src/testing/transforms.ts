/**
 * Row transforms for metamorphic tests: what should not change a model's answer (a little
 * noise) and what should move it one way (a larger amount, a higher dose).
 */
import { invalidArgument } from '../errors';
import { seededRandom } from '../evaluate/bootstrap';
import type { Row } from '../evaluate/types';

/** Turns the rows of a data set into perturbed rows, one for one. */
export type RowTransform = (rows: readonly Row[]) => Row[];

function numericColumns(
  rows: readonly Row[],
  columns: readonly string[] | undefined,
  exclude: string,
): string[] {
  if (columns !== undefined) return [...columns];
  const first = rows[0] ?? {};
  return Object.keys(first).filter((k) => k !== exclude && typeof first[k] === 'number');
}

/**
 * Adds Gaussian noise to numeric columns: each value moves by N(0, (scale · the column's
 * standard deviation)²). Seeded, so a test sees the same noise every run.
 *
 * @example
 * await expect(model).toBeInvariantTo(addNoise(0.01), holdout, { maxFlipRate: 0.01 });
 */
export function addNoise(
  scale: number,
  options: { columns?: readonly string[]; label?: string; seed?: number } = {},
): RowTransform {
  if (!(typeof scale === 'number' && scale >= 0 && Number.isFinite(scale)))
    throw invalidArgument('addNoise', 'scale must be a non-negative number', scale);
  return (rows) => {
    const columns = numericColumns(rows, options.columns, options.label ?? 'label');
    const random = seededRandom(options.seed ?? 0);
    const gauss = (): number => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    const sd = new Map<string, number>();
    for (const c of columns) {
      let sum = 0;
      let sq = 0;
      for (const r of rows) {
        const v = r[c];
        if (typeof v !== 'number') throw invalidArgument('addNoise', `column '${c}' must hold numbers`, v);
        sum += v;
        sq += v * v;
      }
      const mean = sum / rows.length;
      sd.set(c, Math.sqrt(Math.max(0, sq / rows.length - mean * mean)));
    }
    return rows.map((r) => {
      const out = { ...r };
      for (const c of columns) out[c] = (r[c] as number) + scale * sd.get(c)! * gauss();
      return out;
    });
  };
}

/** Adds `delta` to one numeric column. */
export function shift(column: string, delta: number): RowTransform {
  if (typeof column !== 'string') throw invalidArgument('shift', 'column must be a column name', column);
  if (!Number.isFinite(delta)) throw invalidArgument('shift', 'delta must be a finite number', delta);
  return (rows) => rows.map((r) => ({ ...r, [column]: numberAt(r, column, 'shift') + delta }));
}

/** Multiplies one numeric column by `factor`. */
export function scale(column: string, factor: number): RowTransform {
  if (typeof column !== 'string') throw invalidArgument('scale', 'column must be a column name', column);
  if (!Number.isFinite(factor)) throw invalidArgument('scale', 'factor must be a finite number', factor);
  return (rows) => rows.map((r) => ({ ...r, [column]: numberAt(r, column, 'scale') * factor }));
}

function numberAt(row: Row, column: string, fn: string): number {
  const v = row[column];
  if (typeof v !== 'number') throw invalidArgument(fn, `column '${column}' must hold numbers`, v);
  return v;
}
