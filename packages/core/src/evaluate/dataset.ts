import { describe, InputError, invalidArgument } from '../errors';
import { throwIfAborted } from '../model/abort';
import type { AbortSignalLike } from '../model/model';
import type { Columns, Dataset, Row } from './types';

/** A data set error: the message names the row, the column and what was wrong. */
export function datasetError(message: string): InputError {
  return new InputError('DATASET_INVALID', message);
}

function isIterable(value: object): value is Iterable<Row> | AsyncIterable<Row> {
  return (
    typeof (value as Partial<Iterable<Row>>)[Symbol.iterator] === 'function' ||
    typeof (value as Partial<AsyncIterable<Row>>)[Symbol.asyncIterator] === 'function'
  );
}

/** The number of rows when the data set knows it without being read. */
export function datasetLength(dataset: Dataset): number | undefined {
  if (Array.isArray(dataset)) return dataset.length;
  if (typeof dataset === 'object' && dataset !== null && !isIterable(dataset)) {
    const first = Object.values(dataset as Columns)[0];
    return first?.length;
  }
  return undefined;
}

/**
 * Checks a data set's form up front, so a wrong argument fails before any model runs, and
 * returns its rows as one iterable.
 */
export function datasetRows(dataset: unknown, where: string): Iterable<Row> | AsyncIterable<Row> {
  if (typeof dataset !== 'object' || dataset === null)
    throw invalidArgument(
      where,
      'the data set must be an array of rows, an object of columns or an iterable',
      dataset,
    );
  if (isIterable(dataset)) return dataset;
  const columns = dataset as Columns;
  const names = Object.keys(columns);
  if (names.length === 0) throw datasetError(`${where}: the data set has no columns`);
  let length = -1;
  for (const name of names) {
    const col = columns[name] as unknown;
    if (typeof col !== 'object' || col === null || typeof (col as ArrayLike<unknown>).length !== 'number')
      throw datasetError(`${where}: column '${name}' is ${describe(col)}; columns must be arrays`);
    const n = (col as ArrayLike<unknown>).length;
    if (length === -1) length = n;
    else if (n !== length)
      throw datasetError(`${where}: column '${name}' has ${n} values; column '${names[0]}' has ${length}`);
  }
  return (function* () {
    for (let i = 0; i < length; i++) {
      const row: Row = {};
      for (const name of names) row[name] = columns[name]![i];
      yield row;
    }
  })();
}

/** Reads rows in batches of `size`, checking that each row is an object and honouring `signal`. */
export async function* batchesOf(
  rows: Iterable<Row> | AsyncIterable<Row>,
  size: number,
  signal: AbortSignalLike | undefined,
  where: string,
): AsyncGenerator<Row[]> {
  let batch: Row[] = [];
  let index = 0;
  for await (const row of rows as AsyncIterable<Row>) {
    throwIfAborted(signal);
    if (typeof row !== 'object' || row === null || Array.isArray(row))
      throw datasetError(`${where}: row ${index} is ${describe(row)}; rows must be objects of column values`);
    batch.push(row);
    index++;
    if (batch.length === size) {
      yield batch;
      batch = [];
    }
  }
  throwIfAborted(signal);
  if (batch.length > 0) yield batch;
}
