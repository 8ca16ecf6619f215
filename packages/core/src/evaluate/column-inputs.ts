/**
 * Model inputs and labels straight from a CSV's typed column blocks (`parseCsvColumns`): the
 * feature columns are copied into the input tensor column by column, with no row objects. A
 * pipeline, `toInputs` or inputs named by columns need records, so those get the block's rows.
 */

import { describe } from '../errors';
import type { Label } from '../metrics/labels';
import type { Model } from '../model/model';
import type { ModelInputs } from '../tensor/coerce';
import { allocate } from '../tensor/dtype';
import { tensor } from '../tensor/tensor';
import { type ColumnBlock, cellAt, rowAt } from './column-block';
import { datasetError } from './dataset';
import { checkFeature, inputBuilder, inputPlan, noLabelColumn } from './inputs';
import type { DataOptions } from './types';

/** Turns a block of rows into model inputs. */
export type BlockInputBuilder = (block: ColumnBlock) => ModelInputs;

/** Decides from the first block's columns how blocks become inputs; errors as `inputBuilder`'s. */
export function blockInputBuilder(
  model: Model,
  first: ColumnBlock,
  options: DataOptions,
  where: string,
): BlockInputBuilder {
  const names = first.names;
  const plan = inputPlan(model, (name) => names.includes(name), names, options, where);
  if ('build' in plan || 'named' in plan) {
    const build = inputBuilder(model, rowAt(first, 0), options, where);
    return (block) => build(blockRows(block), block.offset);
  }
  const { spec, features, perRow, integer, bigint } = plan;
  const k = features.length;
  const at = features.map((f) => names.indexOf(f));
  return (block) => {
    const n = block.length;
    const data = allocate(spec.dtype, n * k) as unknown as { [i: number]: number | bigint };
    let bad = false;
    for (let j = 0; j < k; j++) {
      const numbers = block.columns[at[j]!]!.numbers;
      if (bigint) {
        for (let r = 0; r < n; r++) {
          const v = numbers[r]!;
          if (Number.isInteger(v)) data[r * k + j] = BigInt(v);
          else bad = true;
        }
      } else {
        for (let r = 0, o = j; r < n; r++, o += k) {
          const v = numbers[r]!;
          // A cell that is not a number is NaN here (numbers in a CSV are finite).
          if (v - v !== 0 || (integer && Math.floor(v) !== v)) bad = true;
          data[o] = v;
        }
      }
    }
    // The error names the first bad cell row by row, as the row path does.
    if (bad)
      for (let r = 0; r < n; r++)
        for (let j = 0; j < k; j++)
          checkFeature(cellAt(block.columns[at[j]!]!, r), plan, block.offset + r, j, where);
    return { [spec.name]: tensor(spec.dtype, data as never, [n, ...perRow]) };
  };
}

/** A block's rows as records. */
function blockRows(block: ColumnBlock): Record<string, unknown>[] {
  return Array.from({ length: block.length }, (_, i) => rowAt(block, i));
}

/** Reads a block's labels as `readRowLabels` reads rows': numbers or non-empty text. */
export function readBlockLabels(
  block: ColumnBlock,
  label: string,
  where: string,
  into: { push(v: Label): void },
): void {
  const c = block.names.indexOf(label);
  if (c === -1) throw noLabelColumn(block.names, label, where);
  const column = block.columns[c]!;
  const { numbers, others } = column;
  for (let r = 0; r < block.length; r++) {
    const v = numbers[r]!;
    if (!Number.isNaN(v)) into.push(v);
    else {
      const cell = others?.[r];
      if (typeof cell === 'string' && cell !== '') into.push(cell);
      else
        throw datasetError(
          `${where}: row ${block.offset + r} has label ${describe(cellAt(column, r))}; labels are numbers or strings`,
        );
    }
  }
}
