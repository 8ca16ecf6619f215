/**
 * `@modelship/core/batch`: batch scoring. `predictBatches` scores rows in ordered batches with
 * kept columns, chosen outputs and rejected rows; the text formats write the scored rows; the
 * row-source and sink types are what readers and writers of other formats implement.
 */
export {
  csvCell,
  rejectionsText,
  type TextFormat,
  type TextFormatterOptions,
  textFormatter,
} from './format';
export { type BatchInput, type PredictBatchesOptions, predictBatches } from './predict-batches';
export type { Rejection, RowBlock, RowSink, RowSource, ScoredBatch } from './types';
export { type UnreadableRecord, unreadableOf, unreadableRow } from './unreadable';
