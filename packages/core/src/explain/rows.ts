import { describe, invalidArgument } from '../errors';
import { datasetError, datasetRows } from '../evaluate/dataset';
import type { Row } from '../evaluate/types';
import type { ExplainRows } from './types';

/** Reads rows held in memory (an array of records or an object of columns) into an array. */
export function rowsOf(data: ExplainRows, what: string, where: string): readonly Row[] {
  const rows = datasetRows(data, where);
  if (typeof (rows as Partial<Iterable<Row>>)[Symbol.iterator] !== 'function')
    throw invalidArgument(
      where,
      `${what} must be an array of rows or an object of columns held in memory`,
      data,
    );
  const out = Array.isArray(rows) ? (rows as readonly Row[]) : Array.from(rows as Iterable<Row>);
  if (out.length === 0) throw datasetError(`${where}: ${what} has no rows`);
  out.forEach((row, i) => {
    if (typeof row !== 'object' || row === null || Array.isArray(row))
      throw datasetError(
        `${where}: ${what} row ${i} is ${describe(row)}; rows must be objects of column values`,
      );
  });
  return out;
}

/** The features explained as players: each one or more columns of the rows. */
export interface Players {
  /** Player names, as results report them. */
  names: string[];
  /** Every column a player covers, in the rows' column order. */
  columns: string[];
  /** For each player, the indices into `columns` it sets. */
  members: number[][];
}

/**
 * The columns of the rows that are features (every column but the label, or `features`), and
 * how they group into players.
 */
export function playersOf(
  first: Row,
  label: string,
  features: readonly string[] | undefined,
  groups: Readonly<Record<string, readonly string[]>> | undefined,
  where: string,
): Players {
  const present = Object.keys(first);
  const columns = features === undefined ? present.filter((c) => c !== label) : [...features];
  for (const c of columns) {
    if (!(c in first))
      throw datasetError(
        `${where}: unknown feature '${c}'; the rows have ${present.map((p) => `'${p}'`).join(', ')}`,
      );
  }
  if (columns.length === 0)
    throw datasetError(`${where}: the rows have no feature columns besides '${label}'`);
  const index = new Map(columns.map((c, i) => [c, i]));
  const owner = new Map<string, string>();
  const names: string[] = [];
  const members: number[][] = [];
  if (groups !== undefined) {
    if (typeof groups !== 'object' || groups === null || Array.isArray(groups))
      throw invalidArgument(where, 'groups must be an object of group name → column names', groups);
    for (const [group, cols] of Object.entries(groups)) {
      if (!Array.isArray(cols) || cols.length === 0)
        throw invalidArgument(where, `group '${group}' must be a non-empty array of column names`, cols);
      for (const c of cols) {
        if (!index.has(c))
          throw datasetError(
            `${where}: group '${group}' names unknown feature '${String(c)}'; the features are ${columns.map((p) => `'${p}'`).join(', ')}`,
          );
        const other = owner.get(c);
        if (other !== undefined)
          throw invalidArgument(
            where,
            `column '${c}' is in groups '${other}' and '${group}'; a column belongs to one group`,
            cols,
          );
        owner.set(c, group);
      }
    }
  }
  columns.forEach((c, i) => {
    if (!owner.has(c)) {
      names.push(c);
      members.push([i]);
    }
  });
  if (groups !== undefined) {
    for (const [group, cols] of Object.entries(groups)) {
      if (index.has(group) && !owner.has(group))
        throw invalidArgument(
          where,
          `group name '${group}' is also an ungrouped column; rename the group`,
          group,
        );
      names.push(group);
      members.push(cols.map((c) => index.get(c)!));
    }
  }
  return { names, columns, members };
}

/**
 * Checks that every row has every feature column and no missing or non-finite number, so a
 * NaN never reaches the model and comes back as a silently wrong attribution. With a pipeline,
 * missing values (absent, `null`) are the pipeline's to impute or refuse; NaN is still refused.
 */
export function checkFeatureValues(
  rows: readonly Row[],
  columns: readonly string[],
  what: string,
  where: string,
  missingAllowed = false,
): void {
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    for (const c of columns) {
      const v = row[c];
      if (missingAllowed) {
        if (typeof v === 'number' && Number.isNaN(v))
          throw datasetError(
            `${where}: ${what} row ${r}, column '${c}' is NaN; write a missing value as null`,
          );
        continue;
      }
      if (!(c in row))
        throw datasetError(
          `${where}: ${what} row ${r} has no column '${c}'; every row needs the same feature columns`,
        );
      if (v === undefined || v === null || (typeof v === 'number' && !Number.isFinite(v)))
        throw datasetError(
          `${where}: ${what} row ${r}, column '${c}' is ${describe(v)}; features must be finite numbers or values the model takes`,
        );
    }
  }
}

/** Refuses a background whose feature columns are not the explained rows' columns. */
export function checkSameColumns(
  rows: Row,
  background: Row,
  label: string,
  columns: readonly string[],
  where: string,
): void {
  const own = Object.keys(rows).filter((c) => c !== label);
  const theirs = Object.keys(background).filter((c) => c !== label);
  const extra = theirs.filter((c) => !own.includes(c));
  const missing = columns.filter((c) => !(c in background));
  if (extra.length > 0 || missing.length > 0) {
    const parts = [
      missing.length > 0 ? `lacks ${missing.map((c) => `'${c}'`).join(', ')}` : '',
      extra.length > 0 ? `has columns the rows do not (${extra.map((c) => `'${c}'`).join(', ')})` : '',
    ].filter((p) => p !== '');
    throw datasetError(
      `${where}: the background ${parts.join(' and ')}; it must have the rows' feature columns (${columns.map((c) => `'${c}'`).join(', ')})`,
    );
  }
}

/** Whether two feature values are the same (numbers by value, others by identity or JSON). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null)
    return JSON.stringify(a) === JSON.stringify(b);
  return false;
}
