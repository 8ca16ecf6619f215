/**
 * The columns of a scored row: the kept input columns, then the model's outputs, each output
 * flat (one column, or `name_<class>` / `name_<i>` for several values a row), every cell a
 * number, a string or null, so CSV, JSONL and Parquet writers take the same rows.
 */
import { describe, invalidArgument, ModelshipError } from '../errors';
import type { CellValue } from '../evaluate/cell';
import type { Model } from '../model/model';
import { float16BitsToNumber } from '../tensor/dtype';
import type { NamedTensors, Tensor } from '../tensor/tensor';

/** Checks `outputs` against the model and defaults it to every output the model declares. */
export function outputNames(model: Model, outputs: unknown, where: string): string[] {
  const declared = model.signature.outputs.map((o) => o.name);
  if (outputs === undefined) {
    if (declared.length === 0)
      throw new ModelshipError('OUTPUT_UNKNOWN', `${where}: model '${model.name}' declares no outputs`);
    return declared;
  }
  const names = columnNames(outputs, 'outputs', where);
  if (names.length === 0) throw invalidArgument(where, 'outputs must name at least one output', outputs);
  for (const name of names)
    if (!declared.includes(name))
      throw new ModelshipError(
        'OUTPUT_UNKNOWN',
        `${where}: '${name}' is not an output of model '${model.name}' (outputs: ${declared.map((o) => `'${o}'`).join(', ')})`,
      );
  return names;
}

/** An array of distinct column names, or an `INVALID_ARGUMENT` error naming the option. */
export function columnNames(value: unknown, option: string, where: string): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v === ''))
    throw invalidArgument(where, `${option} must be an array of column names`, value);
  const seen = new Set<string>();
  for (const v of value as string[]) {
    if (seen.has(v)) throw invalidArgument(where, `${option} names '${v}' twice`, value);
    seen.add(v);
  }
  return value as string[];
}

/** One output as columns: its name, values a row, and the column of each. */
interface OutputLayout {
  name: string;
  tensor: Tensor | undefined;
  width: number;
  columns: string[];
}

/**
 * Builds scored rows from a batch's outputs. The layout (which columns each output fills) is
 * fixed by the first batch; a later batch whose outputs have another width is an
 * `INFERENCE_FAILED` error, as is an output with no row per input row.
 */
export class RowAssembler {
  private layout: OutputLayout[] | undefined;

  constructor(
    private readonly model: Model,
    private readonly keep: readonly string[],
    private readonly outputs: readonly string[],
    private readonly where: string,
  ) {}

  /** The scored rows of `inputs` (the rows that were scored) from the model's answer to them. */
  rows(inputs: readonly Record<string, unknown>[], out: NamedTensors): Record<string, CellValue>[] {
    const n = inputs.length;
    const layout = this.layoutOf(out, n);
    const keep = this.keep;
    const rows: Record<string, CellValue>[] = new Array(n);
    for (let r = 0; r < n; r++) {
      const input = inputs[r]!;
      const row: Record<string, CellValue> = {};
      for (let k = 0; k < keep.length; k++) row[keep[k]!] = cellOf(input[keep[k]!]);
      for (const o of layout) {
        const data = o.tensor!.data as ArrayLike<unknown>;
        const half = o.tensor!.dtype === 'float16';
        for (let j = 0; j < o.width; j++) {
          const v = data[r * o.width + j];
          row[o.columns[j]!] = half ? finite(float16BitsToNumber(v as number)) : cellOf(v);
        }
      }
      rows[r] = row;
    }
    return rows;
  }

  private layoutOf(out: NamedTensors, n: number): OutputLayout[] {
    const first = this.layout === undefined;
    const layout: OutputLayout[] = [];
    for (let i = 0; i < this.outputs.length; i++) {
      const name = this.outputs[i]!;
      const t = out[name];
      if (t === undefined)
        throw new ModelshipError('INFERENCE_FAILED', `${this.where}: the model gave no output '${name}'`);
      const width = n === 0 ? 0 : t.data.length / n;
      if (n > 0 && (t.shape[0] !== n || !Number.isInteger(width) || width < 1))
        throw new ModelshipError(
          'INFERENCE_FAILED',
          `${this.where}: output '${name}' has shape [${t.shape.join(', ')}] for ${n} rows; one row of values per input row is required`,
        );
      if (first) layout.push({ name, tensor: t, width, columns: this.columnsOf(name, t, width) });
      else {
        const known = this.layout![i]!;
        if (n > 0 && width !== known.width)
          throw new ModelshipError(
            'INFERENCE_FAILED',
            `${this.where}: output '${name}' gave ${width} values a row; earlier batches gave ${known.width}`,
          );
        layout.push({ ...known, tensor: t });
      }
    }
    if (first && n > 0) {
      this.layout = layout.map((o) => ({ ...o, tensor: undefined }));
      const taken = new Set(this.keep);
      for (const c of this.layout.flatMap((o) => o.columns)) {
        if (taken.has(c))
          throw invalidArgument(
            this.where,
            `column '${c}' would be both a kept column and an output column; keep another or choose outputs`,
            this.keep,
          );
        taken.add(c);
      }
    }
    return layout;
  }

  private columnsOf(name: string, t: Tensor, width: number): string[] {
    if (width === 1 && t.shape.length <= 2) return [name];
    const labels = this.model.signature.outputs.find((o) => o.name === name)?.labels;
    const suffixes: readonly (string | number)[] =
      labels !== undefined && labels.length === width ? labels : Array.from({ length: width }, (_, j) => j);
    return suffixes.map((s) => `${name}_${s}`);
  }
}

function finite(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

/**
 * A value as a cell: numbers (not finite ones become null), strings and null as they are;
 * booleans as 1 or 0, bigints as numbers when exact (else their digits), anything else
 * (a JSONL row's arrays or objects) as its JSON text; a missing column is null.
 */
export function cellOf(v: unknown): CellValue {
  switch (typeof v) {
    case 'number':
      return Number.isFinite(v) ? v : null;
    case 'string':
      return v;
    case 'boolean':
      return v ? 1 : 0;
    case 'bigint':
      return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
    case 'undefined':
      return null;
    default:
      if (v === null) return null;
      try {
        return JSON.stringify(v) ?? describe(v);
      } catch {
        return describe(v);
      }
  }
}
