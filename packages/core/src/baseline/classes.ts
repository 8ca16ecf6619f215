/** Class labels of the baseline classifiers: read from `y`, typed for the `label` output. */
import { invalidArgument } from '../errors';
import type { TensorSpec } from '../tensor/spec';
import type { Tensor } from '../tensor/tensor';

/** A class label: a number (integer labels give an int64 `label` output) or a string. */
export type ClassLabel = number | string;

/** The distinct labels of `y`, sorted as scikit-learn's `classes_`; at least two. */
export function sortedClasses(y: readonly unknown[], where: string, model: string): ClassLabel[] {
  const distinct = [...new Set(y)];
  for (const v of distinct)
    if (!((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'string'))
      throw invalidArgument(where, `labels must be finite numbers or strings, received ${String(v)}`, v);
  if (distinct.some((v) => typeof v === 'string') && distinct.some((v) => typeof v === 'number'))
    throw invalidArgument(where, 'labels must be all numbers or all strings', distinct);
  if (distinct.length < 2)
    throw invalidArgument(where, `${model} needs at least two classes; y holds ${distinct.length}`, distinct);
  return typeof distinct[0] === 'number'
    ? (distinct as number[]).sort((a, b) => a - b)
    : (distinct as string[]).sort();
}

/** Integer classes are answered as int64; strings and fractional numbers as their text. */
export function integerClasses(classes: readonly ClassLabel[]): boolean {
  return classes.every((c) => typeof c === 'number' && Number.isInteger(c));
}

/** The `label` output's spec. */
export function labelSpec(classes: readonly ClassLabel[]): TensorSpec {
  return { name: 'label', dtype: integerClasses(classes) ? 'int64' : 'string', shape: ['batch'] };
}

/** The `label` tensor of the chosen class indices. */
export function labelTensor(classes: readonly ClassLabel[], best: ArrayLike<number>): Tensor {
  const n = best.length;
  if (integerClasses(classes)) {
    const data = new BigInt64Array(n);
    for (let i = 0; i < n; i++) data[i] = BigInt(classes[best[i]!] as number);
    return { dtype: 'int64', shape: [n], data };
  }
  return { dtype: 'string', shape: [n], data: Array.from(best, (b) => String(classes[b])) };
}

/** Index of each label of `y` in `classes`. */
export function classIndex(y: readonly ClassLabel[], classes: readonly ClassLabel[]): Int32Array {
  const out = new Int32Array(y.length);
  if (classes.length <= 8) {
    // A few classes (the usual case): comparing beats hashing 10^5 labels.
    for (let i = 0; i < y.length; i++) {
      const v = y[i];
      let c = 0;
      while (classes[c] !== v) c++;
      out[i] = c;
    }
    return out;
  }
  const index = new Map<unknown, number>(classes.map((c, j) => [c, j]));
  for (let i = 0; i < y.length; i++) out[i] = index.get(y[i])!;
  return out;
}
