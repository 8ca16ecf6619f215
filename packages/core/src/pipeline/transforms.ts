/**
 * Column transforms for pipelines: each is fitted on a column of training values (the
 * statistics scikit-learn's transformer of the same name would learn) and then maps one value
 * to one or more numbers. Fitted state is plain JSON.
 */
import { InputError, invalidArgument } from '../errors';
import { binOf, checkBoundaries, fitEdges, hashSlot, percentile } from './hash-bucket';

/** A value a record holds in one field. */
export type FieldValue = number | string | boolean | null | undefined;

/** A transform before fitting: its kind and options. */
export interface TransformSpec {
  kind:
    | 'impute'
    | 'standardize'
    | 'minMax'
    | 'robustScale'
    | 'log'
    | 'clip'
    | 'oneHot'
    | 'ordinal'
    | 'hash'
    | 'bucketize';
  options: Record<string, unknown>;
}

/** A fitted transform: its kind, options and learned state. */
export interface FittedTransform extends TransformSpec {
  state: Record<string, unknown>;
}

/** Fills missing values: the column's mean, median or most frequent value, or a constant (scikit-learn's `SimpleImputer`). */
export function impute(
  strategy: 'mean' | 'median' | 'most_frequent' | 'constant' = 'mean',
  fillValue?: number | string,
): TransformSpec {
  if (!['mean', 'median', 'most_frequent', 'constant'].includes(strategy))
    throw invalidArgument(
      'impute',
      "strategy must be 'mean', 'median', 'most_frequent' or 'constant'",
      strategy,
    );
  if (strategy === 'constant' && fillValue === undefined)
    throw invalidArgument('impute', "a 'constant' strategy needs fillValue", fillValue);
  return { kind: 'impute', options: { strategy, ...(fillValue === undefined ? {} : { fillValue }) } };
}

/** (x − mean) / std, with the population std and 1 for a constant column (`StandardScaler`). */
export function standardize(): TransformSpec {
  return { kind: 'standardize', options: {} };
}

/** Scales to `range` (default [0, 1]) by the column's min and max (`MinMaxScaler`). */
export function minMax(range: readonly [number, number] = [0, 1]): TransformSpec {
  if (!(Array.isArray(range) && range.length === 2 && range[0] < range[1]))
    throw invalidArgument('minMax', 'range must be [low, high] with low < high', range);
  return { kind: 'minMax', options: { range: [...range] } };
}

/** (x − median) / IQR, with 1 for a zero IQR (`RobustScaler` with its default quantiles 25–75). */
export function robustScale(): TransformSpec {
  return { kind: 'robustScale', options: {} };
}

/** ln(x + offset) (default offset 1, i.e. log1p); values at or below −offset are refused. */
export function log(offset = 1): TransformSpec {
  if (!Number.isFinite(offset)) throw invalidArgument('log', 'offset must be a finite number', offset);
  return { kind: 'log', options: { offset } };
}

/** Clamps to [min, max]. */
export function clip(min: number, max: number): TransformSpec {
  if (!(min <= max)) throw invalidArgument('clip', 'min must not exceed max', [min, max]);
  return { kind: 'clip', options: { min, max } };
}

/**
 * One column per category seen in training, sorted as scikit-learn's `OneHotEncoder` sorts them;
 * `unknown: 'ignore'` encodes an unseen category as all zeros, `'error'` (default) refuses it;
 * `maxCategories` keeps the most frequent ones (ties: the smaller category first).
 */
export function oneHot(
  options: { unknown?: 'error' | 'ignore'; maxCategories?: number } = {},
): TransformSpec {
  const unknown = options.unknown ?? 'error';
  if (unknown !== 'error' && unknown !== 'ignore')
    throw invalidArgument('oneHot', "unknown must be 'error' or 'ignore'", unknown);
  if (
    options.maxCategories !== undefined &&
    !(Number.isInteger(options.maxCategories) && options.maxCategories >= 1)
  )
    throw invalidArgument('oneHot', 'maxCategories must be a positive integer', options.maxCategories);
  return {
    kind: 'oneHot',
    options: {
      unknown,
      ...(options.maxCategories === undefined ? {} : { maxCategories: options.maxCategories }),
    },
  };
}

/** The category's index in sorted order (`OrdinalEncoder`); an unseen one errors or takes `unknownValue`. */
export function ordinal(options: { unknownValue?: number } = {}): TransformSpec {
  return {
    kind: 'ordinal',
    options: options.unknownValue === undefined ? {} : { unknownValue: options.unknownValue },
  };
}

/**
 * The hashing trick (`FeatureHasher(n_features=buckets, input_type='string')` on the field's
 * value): one of `buckets` columns per value, chosen by MurmurHash3 of its UTF-8 bytes, holding
 * ±1 (the sign from the hash when `alternateSign`, as scikit-learn's default). Needs no fitting
 * and takes any category, seen or not; numbers and booleans are hashed as their text.
 */
export function hash(options: { buckets: number; alternateSign?: boolean }): TransformSpec {
  const buckets = options?.buckets;
  if (!Number.isInteger(buckets) || buckets < 1 || buckets > 1 << 20)
    throw invalidArgument('hash', 'buckets must be an integer from 1 to 1,048,576', buckets);
  const alternateSign = options.alternateSign ?? true;
  if (typeof alternateSign !== 'boolean')
    throw invalidArgument('hash', 'alternateSign must be a boolean', alternateSign);
  return { kind: 'hash', options: { buckets, alternateSign } };
}

/**
 * Bins a number (`KBinsDiscretizer`): `bins` of equal width (`'uniform'`) or holding equal
 * shares of the training values (`'quantile'`, the default; bins narrower than 1e-8 are dropped
 * as scikit-learn does), or fixed `boundaries` (TF's `bucketized_column`: `[b0, b1]` makes
 * `< b0`, `[b0, b1)`, `≥ b1`). Values outside the training range go to the first or last bin.
 * `encode: 'ordinal'` (default) gives the bin's index, `'onehot'` a column per bin.
 */
export function bucketize(
  options:
    | { bins?: number; strategy?: 'uniform' | 'quantile'; encode?: 'ordinal' | 'onehot' }
    | { boundaries: readonly number[]; encode?: 'ordinal' | 'onehot' } = {},
): TransformSpec {
  if (typeof options !== 'object' || options === null)
    throw invalidArgument('bucketize', 'options must be an object', options);
  const encode = options.encode ?? 'ordinal';
  if (encode !== 'ordinal' && encode !== 'onehot')
    throw invalidArgument('bucketize', "encode must be 'ordinal' or 'onehot'", encode);
  if ('boundaries' in options)
    return {
      kind: 'bucketize',
      options: { boundaries: checkBoundaries(options.boundaries, 'bucketize'), encode },
    };
  const bins = options.bins ?? 5;
  if (!Number.isInteger(bins) || bins < 2 || bins > 10_000)
    throw invalidArgument('bucketize', 'bins must be an integer from 2 to 10,000', bins);
  const strategy = options.strategy ?? 'quantile';
  if (strategy !== 'uniform' && strategy !== 'quantile')
    throw invalidArgument('bucketize', "strategy must be 'uniform' or 'quantile'", strategy);
  return { kind: 'bucketize', options: { bins, strategy, encode } };
}

/** A missing value: null, undefined or NaN (what `impute` fills). */
export function missing(v: unknown): boolean {
  return v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v));
}

function numbers(values: readonly FieldValue[], field: string, kind: string): number[] {
  const out: number[] = [];
  values.forEach((v, i) => {
    if (missing(v)) return;
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new InputError(
        'INPUT_INVALID',
        `${kind}: row ${i}, field '${field}' is ${JSON.stringify(v)}; a number is required`,
      );
    out.push(v);
  });
  return out;
}

function sortedCategories(keys: Iterable<string | number | boolean>): (string | number | boolean)[] {
  const all = [...keys];
  return all.every((k) => typeof k === 'number')
    ? (all as number[]).sort((a, b) => a - b)
    : all.map(String).sort();
}

/** Learns a transform's state from a column of training values (after earlier transforms). */
export function fitTransform(
  spec: TransformSpec,
  values: readonly FieldValue[],
  field: string,
): FittedTransform {
  const where = `${spec.kind} on '${field}'`;
  const present = values.filter((v) => !missing(v));
  if (
    present.length === 0 &&
    spec.kind !== 'log' &&
    spec.kind !== 'clip' &&
    spec.kind !== 'hash' &&
    !(spec.kind === 'bucketize' && spec.options.boundaries !== undefined) &&
    !(spec.kind === 'impute' && spec.options.strategy === 'constant')
  )
    throw new InputError('INPUT_INVALID', `${where}: the column has no values to fit on`);
  switch (spec.kind) {
    case 'impute': {
      const strategy = spec.options.strategy as string;
      let fill: FieldValue;
      if (strategy === 'constant') fill = spec.options.fillValue as FieldValue;
      else if (strategy === 'most_frequent') {
        const counts = new Map<string | number | boolean, number>();
        for (const v of present)
          counts.set(v as string | number, (counts.get(v as string | number) ?? 0) + 1);
        // scikit-learn keeps the smallest of the most frequent values.
        const top = Math.max(...counts.values());
        fill = sortedCategories([...counts].filter(([, c]) => c === top).map(([k]) => k))[0] as FieldValue;
      } else {
        const xs = numbers(values, field, where);
        fill =
          strategy === 'mean'
            ? xs.reduce((a, b) => a + b, 0) / xs.length
            : percentile(
                [...xs].sort((a, b) => a - b),
                50,
              );
      }
      return { ...spec, state: { fill } };
    }
    case 'standardize': {
      const xs = numbers(values, field, where);
      const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
      const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
      const std = Math.sqrt(variance);
      return { ...spec, state: { mean, scale: std === 0 ? 1 : std } };
    }
    case 'minMax': {
      const xs = numbers(values, field, where);
      const min = Math.min(...xs);
      const max = Math.max(...xs);
      return { ...spec, state: { min, max } };
    }
    case 'robustScale': {
      const xs = numbers(values, field, where).sort((a, b) => a - b);
      const iqr = percentile(xs, 75) - percentile(xs, 25);
      return { ...spec, state: { center: percentile(xs, 50), scale: iqr === 0 ? 1 : iqr } };
    }
    case 'log':
    case 'clip':
    case 'hash':
      return { ...spec, state: {} };
    case 'bucketize': {
      const boundaries = spec.options.boundaries as number[] | undefined;
      if (boundaries !== undefined)
        return { ...spec, state: { edges: [boundaries[0]!, ...boundaries, boundaries.at(-1)!] } };
      const xs = numbers(values, field, where);
      const strategy = spec.options.strategy as 'uniform' | 'quantile';
      return { ...spec, state: { edges: fitEdges(xs, spec.options.bins as number, strategy) } };
    }
    case 'oneHot':
    case 'ordinal': {
      const counts = new Map<string | number | boolean, number>();
      for (const v of present)
        counts.set(v as string | number | boolean, (counts.get(v as string | number | boolean) ?? 0) + 1);
      let categories = sortedCategories(counts.keys());
      const max = spec.options.maxCategories as number | undefined;
      if (max !== undefined && categories.length > max) {
        const keep = new Set([...categories].sort((a, b) => counts.get(b)! - counts.get(a)!).slice(0, max));
        categories = categories.filter((c) => keep.has(c));
      }
      return { ...spec, state: { categories } };
    }
  }
}

/** Output width of a fitted transform: one column, or one per category for one-hot. */
export function widthOf(t: FittedTransform): number {
  if (t.kind === 'oneHot') return (t.state.categories as unknown[]).length;
  if (t.kind === 'hash') return t.options.buckets as number;
  if (t.kind === 'bucketize' && t.options.encode === 'onehot') return (t.state.edges as number[]).length - 1;
  return 1;
}

/** Whether a transform spreads a value over several columns, so nothing may follow it. */
export function isMultiColumn(t: TransformSpec): boolean {
  return (
    t.kind === 'oneHot' || t.kind === 'hash' || (t.kind === 'bucketize' && t.options.encode === 'onehot')
  );
}

/** Names of the input columns a field's last transform makes: the field, or `field=category`. */
export function columnNames(t: FittedTransform | undefined, field: string): string[] {
  if (t?.kind === 'oneHot') return (t.state.categories as unknown[]).map((k) => `${field}=${String(k)}`);
  if (t?.kind === 'hash')
    return Array.from({ length: t.options.buckets as number }, (_, j) => `${field}#${j}`);
  if (t?.kind === 'bucketize' && t.options.encode === 'onehot') {
    const inner = (t.state.edges as number[]).slice(1, -1);
    if (inner.length === 0) return [`${field}:all`];
    return [
      `${field}<${inner[0]}`,
      ...inner.slice(1).map((e, j) => `${field}∈[${inner[j]},${e})`),
      `${field}≥${inner.at(-1)}`,
    ];
  }
  return [field];
}

/** Applies a fitted transform to one value; `row` and `field` name it in errors. */
export function applyTransform(
  t: FittedTransform,
  v: FieldValue,
  row: number,
  field: string,
): FieldValue | number[] {
  const where = `record ${row}, field '${field}'`;
  if (t.kind === 'impute') return missing(v) ? (t.state.fill as FieldValue) : v;
  if (t.kind === 'oneHot' || t.kind === 'ordinal') {
    const categories = t.state.categories as (string | number | boolean)[];
    if (missing(v)) throw new InputError('INPUT_MISSING', `${where} is missing; impute it before ${t.kind}`);
    const i = categories.findIndex((c) => c === v || (typeof c === 'string' && c === String(v)));
    if (t.kind === 'ordinal') {
      if (i >= 0) return i;
      if (t.options.unknownValue !== undefined) return t.options.unknownValue as number;
      throw new InputError(
        'INPUT_INVALID',
        `${where} is ${JSON.stringify(v)}, a category not seen in training (known: ${categories.slice(0, 10).join(', ')}${categories.length > 10 ? ', …' : ''})`,
      );
    }
    const out = new Array<number>(categories.length).fill(0);
    if (i >= 0) out[i] = 1;
    else if (t.options.unknown !== 'ignore')
      throw new InputError(
        'INPUT_INVALID',
        `${where} is ${JSON.stringify(v)}, a category not seen in training (known: ${categories.slice(0, 10).join(', ')}${categories.length > 10 ? ', …' : ''})`,
      );
    return out;
  }
  if (t.kind === 'hash') {
    if (missing(v)) throw new InputError('INPUT_MISSING', `${where} is missing; impute it before hash`);
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean')
      throw new InputError(
        'INPUT_INVALID',
        `${where} is ${JSON.stringify(v)}; hash takes strings, numbers or booleans`,
      );
    const buckets = t.options.buckets as number;
    const out = new Array<number>(buckets).fill(0);
    const [column, sign] = hashSlot(String(v), buckets, t.options.alternateSign as boolean);
    out[column] = sign;
    return out;
  }
  if (missing(v)) throw new InputError('INPUT_MISSING', `${where} is missing; add impute() before ${t.kind}`);
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new InputError(
      'INPUT_INVALID',
      `${where} is ${JSON.stringify(v)}; ${t.kind} needs a finite number`,
    );
  switch (t.kind) {
    case 'standardize':
      return (v - (t.state.mean as number)) / (t.state.scale as number);
    case 'minMax': {
      const [lo, hi] = t.options.range as [number, number];
      const min = t.state.min as number;
      const span = (t.state.max as number) - min;
      // scikit-learn: scale = (hi − lo) / (max − min), with a zero span treated as 1.
      return lo + (v - min) * ((hi - lo) / (span === 0 ? 1 : span));
    }
    case 'robustScale':
      return (v - (t.state.center as number)) / (t.state.scale as number);
    case 'log': {
      const x = v + (t.options.offset as number);
      if (!(x > 0))
        throw new InputError(
          'INPUT_INVALID',
          `${where} is ${v}; log needs values above ${-(t.options.offset as number)}`,
        );
      return Math.log(x);
    }
    case 'clip':
      return Math.min(t.options.max as number, Math.max(t.options.min as number, v));
    case 'bucketize': {
      const edges = t.state.edges as number[];
      const bin = binOf(edges, v);
      if (t.options.encode !== 'onehot') return bin;
      const out = new Array<number>(edges.length - 1).fill(0);
      out[bin] = 1;
      return out;
    }
    default:
      return v;
  }
}
