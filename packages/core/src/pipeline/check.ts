/**
 * Checks of a fitted transform read back from JSON: a pipeline.json edited by hand, truncated
 * or written by another version fails when it is loaded, naming the column and the field,
 * rather than on the first request with a confusing message.
 */
import { invalidArgument } from '../errors';
import { type FittedTransform, isMultiColumn } from './transforms';

type Checker = (t: FittedTransform, fail: (what: string) => never) => void;

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function categories(t: FittedTransform, fail: (what: string) => never): void {
  const c = t.state.categories;
  if (
    !Array.isArray(c) ||
    c.length === 0 ||
    !(c.every((k) => typeof k === 'string') || c.every((k) => finite(k))) ||
    new Set<unknown>(c).size !== c.length
  )
    fail('state.categories must be a non-empty list of distinct strings or of distinct numbers');
}

const CHECKS: Record<string, Checker> = {
  impute: (t, fail) => {
    const strategy = t.options.strategy;
    if (!['mean', 'median', 'most_frequent', 'constant'].includes(strategy as string))
      fail("options.strategy must be 'mean', 'median', 'most_frequent' or 'constant'");
    const fill = t.state.fill;
    if ((strategy === 'mean' || strategy === 'median') && !finite(fill))
      fail('state.fill must be a finite number');
    if (!(finite(fill) || typeof fill === 'string' || typeof fill === 'boolean'))
      fail('state.fill must be a finite number, a string or a boolean');
  },
  standardize: (t, fail) => {
    if (!finite(t.state.mean)) fail('state.mean must be a finite number');
    if (!(finite(t.state.scale) && t.state.scale > 0)) fail('state.scale must be a positive number');
  },
  minMax: (t, fail) => {
    const r = t.options.range;
    if (!(Array.isArray(r) && r.length === 2 && finite(r[0]) && finite(r[1]) && r[0] < r[1]))
      fail('options.range must be [low, high] with low < high');
    if (!(finite(t.state.min) && finite(t.state.max) && t.state.min <= t.state.max))
      fail('state.min and state.max must be finite with min ≤ max');
  },
  robustScale: (t, fail) => {
    if (!finite(t.state.center)) fail('state.center must be a finite number');
    if (!(finite(t.state.scale) && t.state.scale > 0)) fail('state.scale must be a positive number');
  },
  log: (t, fail) => {
    if (!finite(t.options.offset)) fail('options.offset must be a finite number');
  },
  clip: (t, fail) => {
    if (!(finite(t.options.min) && finite(t.options.max) && t.options.min <= t.options.max))
      fail('options.min and options.max must be finite with min ≤ max');
  },
  oneHot: (t, fail) => {
    if (t.options.unknown !== 'error' && t.options.unknown !== 'ignore')
      fail("options.unknown must be 'error' or 'ignore'");
    categories(t, fail);
  },
  hash: (t, fail) => {
    const b = t.options.buckets;
    if (!(Number.isInteger(b) && (b as number) >= 1 && (b as number) <= 1 << 20))
      fail('options.buckets must be an integer from 1 to 1,048,576');
    if (typeof t.options.alternateSign !== 'boolean') fail('options.alternateSign must be a boolean');
  },
  bucketize: (t, fail) => {
    if (t.options.encode !== 'ordinal' && t.options.encode !== 'onehot')
      fail("options.encode must be 'ordinal' or 'onehot'");
    const e = t.state.edges;
    if (
      !Array.isArray(e) ||
      e.length < 2 ||
      !e.every((v, i) => finite(v) && (i === 0 || v >= (e[i - 1] as number))) ||
      !e.slice(1, -1).every((v, i, inner) => i === 0 || v > (inner[i - 1] as number))
    )
      fail('state.edges must be at least two finite numbers in increasing order');
  },
  ordinal: (t, fail) => {
    if (t.options.unknownValue !== undefined && !finite(t.options.unknownValue))
      fail('options.unknownValue must be a finite number');
    categories(t, fail);
  },
};

/** Checks a column's fitted transforms from JSON; the error names the field and the transform. */
export function checkFittedColumn(field: unknown, transforms: unknown, where: string): FittedTransform[] {
  if (typeof field !== 'string' || field === '' || field === '__proto__')
    throw invalidArgument(where, 'a column needs a field name (not empty, not __proto__)', field);
  if (!Array.isArray(transforms))
    throw invalidArgument(where, `column '${field}': transforms must be a list`, transforms);
  return transforms.map((given, k) => {
    const t = given as FittedTransform;
    const fail = (what: string): never => {
      throw invalidArgument(where, `column '${field}', transform ${k} (${String(t?.kind)}): ${what}`, given);
    };
    if (typeof t !== 'object' || t === null || typeof t.kind !== 'string' || !Object.hasOwn(CHECKS, t.kind))
      fail(`not a known transform (known: ${Object.keys(CHECKS).join(', ')})`);
    if (
      typeof t.options !== 'object' ||
      t.options === null ||
      typeof t.state !== 'object' ||
      t.state === null
    )
      fail('options and state must be objects');
    CHECKS[t.kind]!(t, fail);
    if (isMultiColumn(t) && k < transforms.length - 1)
      fail('it spreads the value over several columns, so it must be the last transform');
    return t;
  });
}
