/**
 * Fitted transforms compiled into a flat program for the request path: op codes and fitted
 * constants in typed arrays, which plan.ts runs in one loop (generated code or its
 * interpreter), so each record's fields are read once and written straight into the input
 * tensor with no call or allocation per value. The arithmetic
 * is `applyTransform`'s, in the same order; `applyTransform` stays the reference (fitting uses
 * it, tests compare the two) and still produces every error: the plan hands it any value off
 * its fast path.
 */
import { InputError } from '../errors';
import { type FittedTransform, isMultiColumn, widthOf } from './transforms';

/** A column as the pipeline holds it. */
export interface PlanColumn {
  field: string;
  transforms: readonly FittedTransform[];
}

/** A compiled pipeline: what the interpreter runs and the generator writes code from. */
export interface Program {
  width: number;
  n: number;
  fields: string[];
  ops: number[];
  a: number[];
  b: number[];
  c: number[];
  fills: unknown[];
  lookups: (Lookup | undefined)[];
  refs: FittedTransform[];
  opStart: number[];
  ends: number[];
  endLookups: (Lookup | undefined)[];
  endRefs: (FittedTransform | undefined)[];
  needsField: boolean[];
  starts: number[];
}

/** The errors a plan throws itself, one definition for the interpreter and the generated code. */
export function notObject(i: number): never {
  throw new InputError('INPUT_INVALID', `record ${i} is not an object of fields`, {
    details: { record: i },
  });
}

export function noField(i: number, field: string): never {
  throw new InputError('INPUT_MISSING', `record ${i} has no field '${field}'`, {
    details: { record: i, field },
  });
}

export function notFinite(i: number, field: string, v: unknown): never {
  throw new InputError(
    'INPUT_INVALID',
    `record ${i}, field '${field}' is ${JSON.stringify(v)}; a finite number is required`,
    { details: { record: i, field } },
  );
}

/** Writes `records` into `data` (`records.length × width`, zero-filled); `offset` numbers the records in errors. */
export type Plan = (records: readonly unknown[], data: Float32Array, offset: number) => void;

export const IMPUTE = 0;
export const STANDARDIZE = 1; // (v − a) / b
export const MIN_MAX = 2; // c + (v − a) · b
export const ROBUST = 3; // (v − a) / b
export const LOG = 4; // ln(v + a)
export const CLIP = 5; // min(b, max(a, v))
export const ORDINAL = 6;
export const OTHER = 7; // applyTransform

// How a column ends: one number, one-hot, or another multi-column transform.
export const SCALAR = 0;
export const ONE_HOT = 1;
export const MULTI = 2;

/**
 * Categories by key, with `applyTransform`'s matching: numeric categories match numbers
 * exactly, string categories match `String(v)`. Numeric maps are marked so strings skip them;
 * an empty map (no usable categories) sends every value to the reference path.
 */
export interface Lookup {
  numeric: boolean;
  map: Map<unknown, number>;
}

function categoryLookup(categories: readonly unknown[]): Lookup {
  const usable = categories.every((c) => typeof c === 'number' || typeof c === 'string');
  const numeric = categories.every((c) => typeof c === 'number');
  const map = new Map<unknown, number>();
  if (usable)
    categories.forEach((c, j) => {
      const key = numeric ? c : String(c);
      if (!map.has(key)) map.set(key, j);
    });
  return { numeric, map };
}

export function find(l: Lookup, v: unknown): number | undefined {
  if (l.numeric) return typeof v === 'number' ? l.map.get(v) : undefined;
  return l.map.get(typeof v === 'string' ? v : String(v));
}

/** The columns as flat arrays: op codes, constants, and what each column ends with. */
export function buildProgram(columns: readonly PlanColumn[], width: number): Program {
  const ops: number[] = [];
  const a: number[] = [];
  const b: number[] = [];
  const c: number[] = [];
  const fills: unknown[] = [];
  const lookups: (Lookup | undefined)[] = [];
  const refs: FittedTransform[] = [];
  const opStart: number[] = [];
  const ends: number[] = [];
  const endLookups: (Lookup | undefined)[] = [];
  const endRefs: (FittedTransform | undefined)[] = [];
  const needsField: boolean[] = [];
  const fields = columns.map((col) => col.field);
  const starts: number[] = [];
  let at = 0;
  for (const col of columns) {
    const last = col.transforms.at(-1);
    const end =
      last === undefined || !isMultiColumn(last) ? SCALAR : last.kind === 'oneHot' ? ONE_HOT : MULTI;
    opStart.push(ops.length);
    for (const t of end === SCALAR ? col.transforms : col.transforms.slice(0, -1)) {
      const code =
        {
          impute: IMPUTE,
          standardize: STANDARDIZE,
          minMax: MIN_MAX,
          robustScale: ROBUST,
          log: LOG,
          clip: CLIP,
          ordinal: ORDINAL,
        }[t.kind as string] ?? OTHER;
      let pa = 0;
      let pb = 0;
      let pc = 0;
      if (code === STANDARDIZE || code === ROBUST) {
        pa = (code === STANDARDIZE ? t.state.mean : t.state.center) as number;
        pb = t.state.scale as number;
      } else if (code === MIN_MAX) {
        const [lo, hi] = t.options.range as [number, number];
        const span = (t.state.max as number) - (t.state.min as number);
        pa = t.state.min as number;
        pb = (hi - lo) / (span === 0 ? 1 : span);
        pc = lo;
      } else if (code === LOG) pa = t.options.offset as number;
      else if (code === CLIP) {
        pa = t.options.min as number;
        pb = t.options.max as number;
      }
      ops.push(code);
      a.push(pa);
      b.push(pb);
      c.push(pc);
      fills.push(code === IMPUTE ? t.state.fill : undefined);
      lookups.push(code === ORDINAL ? categoryLookup(t.state.categories as unknown[]) : undefined);
      refs.push(t);
    }
    ends.push(end);
    endLookups.push(end === ONE_HOT ? categoryLookup(last!.state.categories as unknown[]) : undefined);
    endRefs.push(end === SCALAR ? undefined : last);
    needsField.push(!col.transforms.some((t) => t.kind === 'impute'));
    starts.push(at);
    at += last === undefined ? 1 : widthOf(last);
  }
  opStart.push(ops.length);
  const n = columns.length;
  return {
    width,
    n,
    fields,
    ops,
    a,
    b,
    c,
    fills,
    lookups,
    refs,
    opStart,
    ends,
    endLookups,
    endRefs,
    needsField,
    starts,
  };
}
