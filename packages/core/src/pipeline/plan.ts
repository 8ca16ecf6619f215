/**
 * A compiled program made runnable: generated code where the runtime allows it (codegen.ts),
 * else the interpreter here. Both back ends read the program compile.ts builds, so neither
 * imports the other.
 */
import { generatePlan } from './codegen';
import {
  buildProgram,
  CLIP,
  find,
  IMPUTE,
  LOG,
  MIN_MAX,
  noField,
  notFinite,
  notObject,
  ONE_HOT,
  ORDINAL,
  type Plan,
  type PlanColumn,
  type Program,
  ROBUST,
  SCALAR,
  STANDARDIZE,
} from './compile';
import { applyTransform, type FieldValue, missing } from './transforms';

/**
 * Compiles the pipeline's columns into one {@link Plan}: generated code where the runtime
 * allows it (`new Function`; see `generatePlan`), else the interpreter below. Both do the same
 * arithmetic in the same order, and a property test holds both to `applyTransform`.
 */
export function compilePlan(
  columns: readonly PlanColumn[],
  width: number,
  options: { codegen?: boolean } = {},
): Plan {
  const program = buildProgram(columns, width);
  if (options.codegen !== false) {
    const generated = generatePlan(program);
    if (generated !== undefined) return generated;
  }
  return interpret(program);
}

/** Runs a program op by op (where code generation is not allowed, as under a strict CSP). */
function interpret(program: Program): Plan {
  const {
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
  } = program;
  return (records, data, offset) => {
    for (let k = 0; k < records.length; k++) {
      const i = offset + k;
      const row = records[k];
      if (typeof row !== 'object' || row === null || Array.isArray(row)) notObject(i);
      const base = k * width;
      for (let col = 0; col < n; col++) {
        const field = fields[col]!;
        let v = (row as Record<string, unknown>)[field];
        // A function can only be inherited (toString, constructor): the record lacks the field.
        if (typeof v === 'function') v = undefined;
        if (v === undefined && needsField[col] && !Object.hasOwn(row as object, field)) noField(i, field);
        for (let o = opStart[col]!; o < opStart[col + 1]!; o++) {
          const code = ops[o]!;
          if (code === IMPUTE) {
            if (missing(v)) v = fills[o];
            continue;
          }
          // Every other op takes finite numbers on its fast path.
          if (typeof v === 'number' && v - v === 0) {
            if (code === STANDARDIZE || code === ROBUST) {
              v = (v - a[o]!) / b[o]!;
              continue;
            }
            if (code === MIN_MAX) {
              v = c[o]! + (v - a[o]!) * b[o]!;
              continue;
            }
            if (code === CLIP) {
              v = Math.min(b[o]!, Math.max(a[o]!, v));
              continue;
            }
            if (code === LOG && v + a[o]! > 0) {
              v = Math.log(v + a[o]!);
              continue;
            }
          }
          if (code === ORDINAL && !missing(v)) {
            const j = find(lookups[o]!, v);
            if (j !== undefined) {
              v = j;
              continue;
            }
          }
          v = applyTransform(refs[o]!, v as FieldValue, i, field); // the other cases, and the errors
        }
        const end = ends[col]!;
        const to = base + starts[col]!;
        if (end === SCALAR) {
          if (typeof v !== 'number' || !Number.isFinite(v)) notFinite(i, field, v);
          data[to] = v;
        } else {
          const j = end === ONE_HOT && !missing(v) ? find(endLookups[col]!, v) : undefined;
          if (j !== undefined) data[to + j] = 1;
          // Zeros under 'ignore', hashing and binned one-hot, or the error.
          else data.set(applyTransform(endRefs[col]!, v as FieldValue, i, field) as number[], to);
        }
      }
    }
  };
}
