/**
 * Code generation for pipeline plans: one function written for the pipeline's own fields, so
 * each field is read by a constant name (a monomorphic property load instead of a hashed lookup)
 * and each op is straight-line arithmetic. Constants are passed in, never printed, so values
 * stay bit-exact; field names are printed as JSON string literals. Where `new Function` is not
 * allowed (a strict Content-Security-Policy), `generatePlan` returns undefined and the
 * interpreter runs instead.
 */
import {
  CLIP,
  find,
  IMPUTE,
  LOG,
  MIN_MAX,
  MULTI,
  noField,
  notFinite,
  notObject,
  ONE_HOT,
  ORDINAL,
  type Plan,
  type Program,
  ROBUST,
  SCALAR,
  STANDARDIZE,
} from './compile';
import { applyTransform, type FieldValue } from './transforms';

/** A plan as generated code, or undefined when the runtime forbids generating code. */
export function generatePlan(p: Program): Plan | undefined {
  const lines: string[] = [];
  const emit = (line: string) => lines.push(line);
  emit('return function plan(records, data, offset) {');
  emit('  for (let k = 0; k < records.length; k++) {');
  emit('    const i = offset + k;');
  emit('    const row = records[k];');
  emit("    if (typeof row !== 'object' || row === null || Array.isArray(row)) notObject(i);");
  emit(`    const base = k * ${p.width};`);
  for (let col = 0; col < p.n; col++) {
    const name = JSON.stringify(p.fields[col]);
    emit('    {');
    emit(`      let v = row[${name}];`);
    emit("      if (typeof v === 'function') v = undefined;");
    if (p.needsField[col]) emit(`      if (v === undefined && !hasOwn(row, ${name})) missing(i, ${col});`);
    for (let o = p.opStart[col]!; o < p.opStart[col + 1]!; o++) {
      const fast = "typeof v === 'number' && v - v === 0";
      switch (p.ops[o]) {
        case IMPUTE:
          emit(`      if (v === undefined || v === null || v !== v) v = F[${o}];`);
          break;
        case STANDARDIZE:
        case ROBUST:
          emit(`      v = ${fast} ? (v - A[${o}]) / B[${o}] : slow(${o}, v, i);`);
          break;
        case MIN_MAX:
          emit(`      v = ${fast} ? C[${o}] + (v - A[${o}]) * B[${o}] : slow(${o}, v, i);`);
          break;
        case CLIP:
          emit(`      v = ${fast} ? Math.min(B[${o}], Math.max(A[${o}], v)) : slow(${o}, v, i);`);
          break;
        case LOG:
          emit(`      v = ${fast} && v + A[${o}] > 0 ? Math.log(v + A[${o}]) : slow(${o}, v, i);`);
          break;
        case ORDINAL:
          emit('      {');
          emit(`        const j = v === undefined || v === null || v !== v ? undefined : find(L[${o}], v);`);
          emit(`        v = j !== undefined ? j : slow(${o}, v, i);`);
          emit('      }');
          break;
        default:
          emit(`      v = slow(${o}, v, i);`);
      }
    }
    const to = `base + ${p.starts[col]}`;
    if (p.ends[col] === SCALAR) {
      emit(`      if (typeof v !== 'number' || !(v - v === 0)) notFinite(i, ${col}, v);`);
      emit(`      data[${to}] = v;`);
    } else if (p.ends[col] === ONE_HOT) {
      emit(`      const j = v === undefined || v === null || v !== v ? undefined : find(EL[${col}], v);`);
      emit(`      if (j !== undefined) data[${to} + j] = 1; else data.set(endSlow(${col}, v, i), ${to});`);
    } else if (p.ends[col] === MULTI) {
      emit(`      data.set(endSlow(${col}, v, i), ${to});`);
    }
    emit('    }');
  }
  emit('  }');
  emit('};');

  const opField = new Array<string>(p.ops.length);
  for (let col = 0; col < p.n; col++)
    for (let o = p.opStart[col]!; o < p.opStart[col + 1]!; o++) opField[o] = p.fields[col]!;
  const helpers = {
    F: p.fills,
    A: Float64Array.from(p.a),
    B: Float64Array.from(p.b),
    C: Float64Array.from(p.c),
    L: p.lookups,
    EL: p.endLookups,
    find,
    hasOwn: Object.hasOwn,
    notObject,
    missing: (i: number, col: number): never => noField(i, p.fields[col]!),
    notFinite: (i: number, col: number, v: unknown): never => notFinite(i, p.fields[col]!, v),
    // Off the fast path: the reference transform, which answers or throws the right error.
    slow: (o: number, v: unknown, i: number) => applyTransform(p.refs[o]!, v as FieldValue, i, opField[o]!),
    endSlow: (col: number, v: unknown, i: number) =>
      applyTransform(p.endRefs[col]!, v as FieldValue, i, p.fields[col]!) as number[],
  };
  try {
    const names = Object.keys(helpers);
    const make = new Function(...names, lines.join('\n')) as (...args: unknown[]) => Plan;
    return make(...names.map((k) => helpers[k as keyof typeof helpers]));
  } catch {
    return undefined; // code generation refused (CSP): the caller interprets instead
  }
}
