/**
 * Reference data for the detectors as one row-major Float64Array: records (by feature name,
 * array values flattened as `image[0]`, … as profiles do) or plain numeric rows.
 */
import { invalidArgument } from '../errors';
import type { Row } from '../evaluate/types';
import { flatRow } from '../monitor/flat-row';

/** Rows a detector is fitted on or scores: records by feature name, or numeric rows. */
export type NumericRows = readonly Row[] | readonly ArrayLike<number>[];

export interface NumericMatrix {
  features: string[];
  rows: number;
  /** Row-major values, `rows × features.length`. */
  values: Float64Array;
}

function isNumericRow(row: unknown): row is ArrayLike<number> {
  return Array.isArray(row) || ArrayBuffer.isView(row);
}

/**
 * Reads `data` into a matrix over `features` (default: the numeric fields of the first record,
 * or `x0`, `x1`, … for numeric rows). Every value must be a finite number.
 */
export function numericMatrix(
  data: NumericRows,
  features: readonly string[] | undefined,
  where: string,
): NumericMatrix {
  if (!Array.isArray(data))
    throw invalidArgument(where, 'rows must be an array of records or numeric rows', data);
  if (data.length === 0) throw invalidArgument(where, 'there are no rows', data);
  const first = data[0];
  const numeric = isNumericRow(first);
  let names: string[];
  if (features !== undefined) {
    if (!Array.isArray(features) || features.length === 0 || features.some((f) => typeof f !== 'string'))
      throw invalidArgument(where, 'features must be a non-empty array of names', features);
    if (new Set(features).size !== features.length)
      throw invalidArgument(where, 'features must not repeat a name', features);
    names = [...features];
  } else if (numeric) {
    names = Array.from({ length: first.length }, (_, j) => `x${j}`);
  } else {
    if (typeof first !== 'object' || first === null)
      throw invalidArgument(where, 'row 0 is not a record', first);
    names = Object.entries(flatRow(first as Row))
      .filter(([, v]) => typeof v === 'number')
      .map(([k]) => k);
  }
  const d = names.length;
  if (d === 0) throw invalidArgument(where, 'the rows have no numeric features', first);
  const values = new Float64Array(data.length * d);
  for (let i = 0; i < data.length; i++) {
    const row = data[i];
    if (isNumericRow(row)) {
      if (!numeric || row.length !== d)
        throw invalidArgument(where, `row ${i} must have ${d} values like row 0`, row);
      for (let j = 0; j < d; j++) values[i * d + j] = checked(row[j], i, names[j]!, where);
    } else {
      if (numeric || typeof row !== 'object' || row === null)
        throw invalidArgument(where, `row ${i} must be a record like row 0`, row);
      const flat = flatRow(row as Row);
      for (let j = 0; j < d; j++) values[i * d + j] = checked(flat[names[j]!], i, names[j]!, where);
    }
  }
  return { features: names, rows: data.length, values };
}

function checked(v: unknown, i: number, name: string, where: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw invalidArgument(where, `row ${i}, feature '${name}' must be a finite number`, v);
  return v;
}

/**
 * One record or numeric row as the detector's feature vector, written into `into` from index
 * `at`; returns the name of the first feature that is missing or not a finite number, or undefined.
 */
export function readVector(
  row: Row | ArrayLike<number>,
  features: readonly string[],
  into: Float64Array,
  at = 0,
): string | undefined {
  if (isNumericRow(row)) {
    if (row.length !== features.length) return features[Math.min(row.length, features.length - 1)];
    for (let j = 0; j < features.length; j++) {
      const v = row[j];
      if (typeof v !== 'number' || !Number.isFinite(v)) return features[j];
      into[at + j] = v;
    }
    return undefined;
  }
  const direct = row as Row;
  let flat: Row | undefined;
  for (let j = 0; j < features.length; j++) {
    const name = features[j]!;
    let v = direct[name];
    if (v === undefined && !(name in direct)) {
      flat ??= flatRow(direct);
      v = flat[name];
    }
    if (typeof v !== 'number' || !Number.isFinite(v)) return name;
    into[at + j] = v;
  }
  return undefined;
}
