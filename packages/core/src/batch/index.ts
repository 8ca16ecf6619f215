export { csvCell, rejectionsText, type TextFormat, textFormatter } from './format';
export { type BatchInput, type PredictBatchesOptions, predictBatches } from './predict-batches';
export type { Rejection, RowBlock, RowSink, RowSource, ScoredBatch } from './types';
export { type UnreadableRecord, unreadableOf, unreadableRow } from './unreadable';
