/**
 * Output transforms: a model's output tensors back to answers a client reads (a label, a
 * probability, the top classes). Each answer field reads one model output (`from`; default
 * the model's first float output). Specs are plain JSON, so they ship inside the pipeline.
 */
import { describe, invalidArgument, ModelshipError } from '../errors';
import type { TensorSpec } from '../tensor/spec';
import type { NamedTensors } from '../tensor/tensor';

/** A class label as the model's users name it. */
export type OutputLabel = string | number;

/** An output transform. A bare string in a pipeline's `output` is `value(name)`. */
export type OutputSpec =
  | { kind: 'value'; from?: string }
  | { kind: 'threshold'; threshold: number; labels: [OutputLabel, OutputLabel]; from?: string }
  | { kind: 'argmax'; labels?: OutputLabel[]; from?: string }
  | { kind: 'topK'; k: number; labels?: OutputLabel[]; from?: string }
  | { kind: 'softmax'; from?: string }
  | { kind: 'sigmoid'; from?: string };

interface From {
  /** The model output to read (default: its first float output). */
  from?: string;
}

function withFrom<T extends OutputSpec>(spec: T, options: From, where: string): T {
  if (typeof options !== 'object' || options === null)
    throw invalidArgument(where, 'options must be an object', options);
  if (options.from === undefined) return spec;
  if (typeof options.from !== 'string' || options.from === '')
    throw invalidArgument(where, 'from must name a model output', options.from);
  return { ...spec, from: options.from };
}

function checkLabels(labels: unknown, where: string): OutputLabel[] | undefined {
  if (labels === undefined) return undefined;
  if (
    !Array.isArray(labels) ||
    labels.length === 0 ||
    !labels.every((l) => typeof l === 'string' || (typeof l === 'number' && Number.isFinite(l)))
  )
    throw invalidArgument(where, 'labels must be a non-empty array of strings or numbers', labels);
  return [...labels];
}

/** The output's values as they are (one number per row, or the row's array). */
export function value(from: string): OutputSpec {
  return withFrom({ kind: 'value' }, { from }, 'value');
}

/**
 * `labels[1]` when the score reaches `threshold` (≥), else `labels[0]`. The score is the
 * output's only column, or its second (the positive class) when it has two.
 *
 * @example threshold(0.5, ['legit', 'fraud'])
 */
export function threshold(
  at: number,
  labels: readonly [OutputLabel, OutputLabel],
  options: From = {},
): OutputSpec {
  if (!Number.isFinite(at)) throw invalidArgument('threshold', 'the threshold must be a finite number', at);
  const checked = checkLabels(labels, 'threshold');
  if (checked?.length !== 2)
    throw invalidArgument('threshold', 'labels must be [negative, positive]', labels);
  return withFrom(
    { kind: 'threshold', threshold: at, labels: [checked[0]!, checked[1]!] },
    options,
    'threshold',
  );
}

/** The label of the highest score (the pipeline's labels, else the column index). */
export function argmax(labels?: readonly OutputLabel[], options: From = {}): OutputSpec {
  const checked = checkLabels(labels, 'argmax');
  return withFrom({ kind: 'argmax', ...(checked ? { labels: checked } : {}) }, options, 'argmax');
}

/** The `k` highest scores as `{ label, score }`, best first (ties: the lower column first). */
export function topK(k: number, labels?: readonly OutputLabel[], options: From = {}): OutputSpec {
  if (!Number.isInteger(k) || k < 1) throw invalidArgument('topK', 'k must be a positive integer', k);
  const checked = checkLabels(labels, 'topK');
  return withFrom({ kind: 'topK', k, ...(checked ? { labels: checked } : {}) }, options, 'topK');
}

/** Softmax of each row's scores (logits to probabilities). */
export function softmax(options: From = {}): OutputSpec {
  return withFrom({ kind: 'softmax' }, options, 'softmax');
}

/** The logistic function of each score. */
export function sigmoid(options: From = {}): OutputSpec {
  return withFrom({ kind: 'sigmoid' }, options, 'sigmoid');
}

/**
 * Reads a labels file: one label per line (Triton's `label_filename`, TF Serving's vocabulary
 * assets). Line ends `\n` or `\r\n`; surrounding spaces and trailing blank lines are dropped;
 * a blank line among labels is an error, since it would shift every label after it.
 */
export function parseLabels(text: string): string[] {
  if (typeof text !== 'string') throw invalidArgument('parseLabels', 'text must be a string', text);
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  while (lines.length > 0 && lines.at(-1) === '') lines.pop();
  const blank = lines.indexOf('');
  if (blank >= 0)
    throw invalidArgument('parseLabels', `line ${blank + 1} is blank; one label per line`, text);
  if (lines.length === 0) throw invalidArgument('parseLabels', 'the labels file is empty', text);
  return lines;
}

const KINDS = new Set(['value', 'threshold', 'argmax', 'topK', 'softmax', 'sigmoid']);
const FLOAT = new Set(['float16', 'float32', 'float64']);
const NUMERIC = new Set([...FLOAT, 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64']);

/** One answer field, checked against the model's outputs. */
export interface ResolvedOutput {
  name: string;
  spec: OutputSpec;
  from: string;
  labels: readonly OutputLabel[] | undefined;
}

/**
 * Checks output specs against a model's output signature and settles each one's source and
 * labels; errors here surface when a pipeline is wrapped around a model, not on the first request.
 */
export function resolveOutputs(
  specs: Readonly<Record<string, string | OutputSpec>>,
  outputs: readonly TensorSpec[],
  labels: readonly OutputLabel[] | undefined,
  where: string,
): ResolvedOutput[] {
  const firstFloat = outputs.find((o) => FLOAT.has(o.dtype))?.name;
  return Object.entries(specs).map(([name, given]) => {
    if (name === '__proto__') throw invalidArgument(where, "'__proto__' cannot be an answer field", name);
    const spec: OutputSpec = typeof given === 'string' ? { kind: 'value', from: given } : given;
    if (typeof spec !== 'object' || spec === null || !KINDS.has(spec.kind))
      throw invalidArgument(where, `answer '${name}' is not an output transform`, given);
    const from = spec.from ?? firstFloat;
    const out = outputs.find((o) => o.name === from);
    if (out === undefined)
      throw new ModelshipError(
        'OUTPUT_UNKNOWN',
        `${where}: answer '${name}' reads model output ${from === undefined ? '(none: the model has no float output)' : `'${from}'`}; the model's outputs are ${outputs.map((o) => `'${o.name}'`).join(', ')}`,
      );
    if (spec.kind !== 'value' && !NUMERIC.has(out.dtype))
      throw invalidArgument(
        where,
        `answer '${name}': ${spec.kind} needs a numeric output, '${out.name}' is ${out.dtype}`,
        spec,
      );
    const own = 'labels' in spec ? spec.labels : undefined;
    // The answer's own labels, else the pipeline's, else the model's (a ZipMap classifier's).
    return { name, spec, from: out.name, labels: own ?? labels ?? out.labels };
  });
}

function label(labels: readonly OutputLabel[] | undefined, j: number): OutputLabel {
  return labels?.[j] ?? j;
}

/**
 * Per-row answers from a batch's output tensors, one field per resolved output. A row's width
 * is the output's size divided by the batch; labels shorter than that width are an error.
 */
export function answers(
  resolved: readonly ResolvedOutput[],
  out: NamedTensors,
  rows: number,
): Record<string, unknown>[] {
  // Every answer starts as a copy of one object that already has all the fields, so filling
  // them in stores to existing properties rather than growing each object field by field.
  const template: Record<string, unknown> = {};
  for (const { name } of resolved) template[name] = undefined;
  const result: Record<string, unknown>[] = new Array(rows);
  for (let r = 0; r < rows; r++) result[r] = { ...template };
  for (const { name, spec, from, labels } of resolved) {
    const t = out[from];
    if (t === undefined)
      throw new ModelshipError('OUTPUT_UNKNOWN', `answer '${name}': the model returned no output '${from}'`);
    const data = t.data as ArrayLike<number | bigint | boolean | string>;
    const width = rows === 0 ? 0 : data.length / rows;
    if (!Number.isInteger(width))
      throw new ModelshipError(
        'INFERENCE_FAILED',
        `answer '${name}': output '${from}' holds ${data.length} values for ${rows} rows`,
      );
    if (
      labels !== undefined &&
      spec.kind !== 'value' &&
      spec.kind !== 'threshold' &&
      rows > 0 &&
      labels.length < width
    )
      throw new ModelshipError(
        'INFERENCE_FAILED',
        `answer '${name}': output '${from}' has ${width} columns but ${labels.length} labels`,
      );
    if (spec.kind === 'threshold' && width > 2)
      throw new ModelshipError(
        'INFERENCE_FAILED',
        `answer '${name}': threshold reads one score (or two for [negative, positive]); output '${from}' has ${width} columns`,
      );
    const num = (i: number): number => {
      const v = data[i]!;
      return typeof v === 'number' ? v : Number(v);
    };
    const set = (r: number, answer: unknown): void => {
      result[r]![name] = answer;
    };
    // One loop per kind, so the row loop does no dispatch.
    switch (spec.kind) {
      case 'value': {
        const plain = (i: number): unknown => (typeof data[i] === 'bigint' ? Number(data[i]) : data[i]);
        if (width === 1) for (let r = 0; r < rows; r++) set(r, plain(r));
        else
          for (let r = 0; r < rows; r++) {
            const row = new Array<unknown>(width);
            for (let j = 0; j < width; j++) row[j] = plain(r * width + j);
            set(r, row);
          }
        break;
      }
      case 'threshold': {
        const [negative, positive] = spec.labels;
        for (let r = 0; r < rows; r++)
          set(r, num(r * width + width - 1) >= spec.threshold ? positive : negative);
        break;
      }
      case 'argmax':
        for (let r = 0; r < rows; r++) {
          const at = r * width;
          let best = 0;
          for (let j = 1; j < width; j++) if (num(at + j) > num(at + best)) best = j;
          set(r, label(labels, best));
        }
        break;
      case 'topK':
        for (let r = 0; r < rows; r++) {
          const at = r * width;
          const order = Array.from({ length: width }, (_, j) => j).sort(
            (a, b) => num(at + b) - num(at + a) || a - b,
          );
          set(
            r,
            order.slice(0, spec.k).map((j) => ({ label: label(labels, j), score: num(at + j) })),
          );
        }
        break;
      case 'softmax':
        for (let r = 0; r < rows; r++) {
          const at = r * width;
          let max = Number.NEGATIVE_INFINITY;
          for (let j = 0; j < width; j++) max = Math.max(max, num(at + j));
          const e = new Array<number>(width);
          let sum = 0;
          for (let j = 0; j < width; j++) {
            e[j] = Math.exp(num(at + j) - max);
            sum += e[j]!;
          }
          for (let j = 0; j < width; j++) e[j] = e[j]! / sum;
          set(r, e);
        }
        break;
      case 'sigmoid': {
        const s = (i: number): number => 1 / (1 + Math.exp(-num(i)));
        for (let r = 0; r < rows; r++) {
          const at = r * width;
          if (width === 1) set(r, s(at));
          else {
            const row = new Array<number>(width);
            for (let j = 0; j < width; j++) row[j] = s(at + j);
            set(r, row);
          }
        }
        break;
      }
    }
  }
  return result;
}

/** Checks a deserialised answer spec (from pipeline JSON) and returns it. */
export function checkOutputSpec(given: unknown, where: string): string | OutputSpec {
  if (typeof given === 'string') return given;
  const s = given as OutputSpec;
  if (typeof s !== 'object' || s === null || !KINDS.has(s.kind))
    throw invalidArgument(where, `not an output transform: ${describe(given)}`, given);
  switch (s.kind) {
    case 'threshold':
      return threshold(s.threshold, s.labels, { from: s.from });
    case 'argmax':
      return argmax(s.labels, { from: s.from });
    case 'topK':
      return topK(s.k, s.labels, { from: s.from });
    case 'softmax':
      return softmax({ from: s.from });
    case 'sigmoid':
      return sigmoid({ from: s.from });
    default:
      return withFrom({ kind: 'value' }, { from: s.from }, where);
  }
}
