/**
 * Row transforms for metamorphic tests: what should not change a model's answer (a little
 * noise) and what should move it one way (a larger amount, a higher dose).
 */
import { invalidArgument } from '../errors';
import { seededRandom } from '../evaluate/bootstrap';
import type { Row } from '../evaluate/types';
import { flatValues, isArrayLike, mapValues } from '../monitor/flat-row';

/** Turns the rows of a data set into perturbed rows, one for one. */
export type RowTransform = (rows: readonly Row[]) => Row[];

function numericColumns(
  rows: readonly Row[],
  columns: readonly string[] | undefined,
  exclude: string,
): string[] {
  if (columns !== undefined) return [...columns];
  const first = rows[0] ?? {};
  return Object.keys(first).filter(
    (k) => k !== exclude && (typeof first[k] === 'number' || isArrayLike(first[k])),
  );
}

/** The numbers of a cell: the value itself, or every element of an array (an image). */
function numbersAt(row: Row, column: string, fn: string): number[] {
  const v = row[column];
  const values = isArrayLike(v) ? flatValues(v) : [v];
  for (const x of values)
    if (typeof x !== 'number') throw invalidArgument(fn, `column '${column}' must hold numbers`, v);
  return values as number[];
}

/** The cell with `f` applied to its number, or to every element of its array, nesting kept. */
function mapCell(row: Row, column: string, fn: string, f: (v: number, i: number) => number): unknown {
  const v = row[column];
  if (!isArrayLike(v)) return f(numbersAt(row, column, fn)[0]!, 0);
  numbersAt(row, column, fn);
  return mapValues(v, (x, i) => f(x as number, i));
}

/**
 * Adds Gaussian noise to numeric columns: each value moves by N(0, (scale · the column's
 * standard deviation)²). An array column (an image under its input's name) is noised element
 * by element, with each element's own standard deviation. Seeded, so a test sees the same
 * noise every run.
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
    // One standard deviation per column, or per element of an array column (per pixel).
    const sd = new Map<string, number[]>();
    for (const c of columns) {
      let sum: number[] = [];
      let sq: number[] = [];
      for (const r of rows) {
        const values = numbersAt(r, c, 'addNoise');
        if (sum.length === 0) {
          sum = new Array<number>(values.length).fill(0);
          sq = new Array<number>(values.length).fill(0);
        }
        values.forEach((v, i) => {
          sum[i]! += v;
          sq[i]! += v * v;
        });
      }
      sd.set(
        c,
        sum.map((s, i) => {
          const mean = s / rows.length;
          return Math.sqrt(Math.max(0, sq[i]! / rows.length - mean * mean));
        }),
      );
    }
    return rows.map((r) => {
      const out = { ...r };
      for (const c of columns) {
        const d = sd.get(c)!;
        out[c] = mapCell(r, c, 'addNoise', (v, i) => v + scale * (d[i] ?? 0) * gauss());
      }
      return out;
    });
  };
}

/** Adds `delta` to one numeric column (to every element of an array column, as an image's pixels). */
export function shift(column: string, delta: number): RowTransform {
  if (typeof column !== 'string') throw invalidArgument('shift', 'column must be a column name', column);
  if (!Number.isFinite(delta)) throw invalidArgument('shift', 'delta must be a finite number', delta);
  return (rows) => rows.map((r) => ({ ...r, [column]: mapCell(r, column, 'shift', (v) => v + delta) }));
}

/** Multiplies one numeric column by `factor` (every element of an array column). */
export function scale(column: string, factor: number): RowTransform {
  if (typeof column !== 'string') throw invalidArgument('scale', 'column must be a column name', column);
  if (!Number.isFinite(factor)) throw invalidArgument('scale', 'factor must be a finite number', factor);
  return (rows) => rows.map((r) => ({ ...r, [column]: mapCell(r, column, 'scale', (v) => v * factor) }));
}
