import { describe, invalidArgument } from '../errors';
import { formatLabels, type Label, uniqueSorted } from '../metrics/labels';
import type { Collected } from './collect';
import { datasetError } from './dataset';
import { type Codes, LabelColumn } from './label-column';
import type { OutputOptions, ScoreKind, Task } from './types';

/**
 * An evaluation's data after the model ran: truth and predictions, read as the task says.
 * Every metric, curve and test is computed from this.
 */
export interface Scored {
  task: Task;
  n: number;
  yTrue: Label[];
  /** Where the predictions came from: score kind, or `'labels'` when read from a label output. */
  kind: ScoreKind | 'labels';
  /** Classification: classes of the score columns (binary: negative, positive). */
  classes: Label[];
  positive: Label | undefined;
  threshold: number | undefined;
  yPred: Label[];
  /** Binary: the positive class's score per sample. */
  positiveScores: Float64Array | Float32Array | undefined;
  /** Multiclass: n×k scores, row-major (probabilities when `kind` is probabilities or logits). */
  matrix: Float64Array | undefined;
  /** True when scores are probabilities (given as such or made from logits). */
  probabilities: boolean;
  /** Regression: true values and estimates. */
  truth: Float64Array | undefined;
  estimate: Float64Array | undefined;
  average: 'macro' | 'weighted' | 'micro';
  /** Classification: the labels as codes (see {@link ScoredCodes}); absent in hand-made ones. */
  codes?: ScoredCodes;
}

const SUM_TOLERANCE = 1e-5 + 1e-8; // the tolerance scikit-learn's rocAuc applies to row sums

function allProbabilities(values: ArrayLike<number>, width: number): boolean {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!(v >= 0 && v <= 1)) return false;
  }
  if (width < 2) return true;
  for (let r = 0; r < values.length; r += width) {
    let s = 0;
    for (let j = 0; j < width; j++) s += values[r + j]!;
    if (Math.abs(s - 1) > SUM_TOLERANCE) return false;
  }
  return true;
}

function softmaxRows(values: ArrayLike<number>, width: number): Float64Array {
  const out = new Float64Array(values.length);
  for (let r = 0; r < values.length; r += width) {
    let max = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < width; j++) max = Math.max(max, values[r + j]!);
    let s = 0;
    for (let j = 0; j < width; j++) {
      const e = Math.exp(values[r + j]! - max);
      out[r + j] = e;
      s += e;
    }
    for (let j = 0; j < width; j++) out[r + j] = out[r + j]! / s;
  }
  return out;
}

function checkFinite(values: ArrayLike<number>, where: string, output: string): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!))
      throw datasetError(
        `${where}: output '${output}' holds ${values[i]} at position ${i}; scores must be finite`,
      );
  }
}

/**
 * Labels as codes into one table: the true labels' and the predicted labels', a byte a row
 * for up to 256 labels. `score` builds them; `yTrue` and `yPred` are made from them only when
 * something reads those arrays.
 */
export interface ScoredCodes {
  table: Label[];
  truth: Codes;
  pred: Codes;
}

/** Distinct labels of a column, sorted as `uniqueSorted` sorts them. */
function labelsOf(column: LabelColumn): Label[] {
  return column.codeView() === undefined ? uniqueSorted(column.toArray()) : column.table;
}

/** The column as codes (a column of numbers past the code limit is coded again, without the limit). */
function codesOf(column: LabelColumn): { table: Label[]; codes: Codes } {
  const codes = column.codeView();
  if (codes !== undefined) return { table: column.table, codes };
  const again = new LabelColumn(false);
  for (let i = 0; i < column.length; i++) again.push(column.at(i));
  return { table: again.table, codes: again.codeView()! };
}

/** A table that finds labels as the column does (SameValueZero) and adds the ones it lacks. */
class Table {
  readonly labels: Label[];
  private readonly index = new Map<Label, number>();
  constructor(labels: readonly Label[]) {
    this.labels = [...labels];
    this.labels.forEach((l, i) => {
      if (!this.index.has(l)) this.index.set(l, i);
    });
  }
  code(l: Label): number {
    let c = this.index.get(l);
    if (c === undefined) {
      c = this.labels.length;
      this.labels.push(l);
      this.index.set(l, c);
    }
    return c;
  }
}

function codeArray(n: number, labels: number): Codes {
  return labels <= 256 ? new Uint8Array(n) : labels <= 65_536 ? new Uint16Array(n) : new Int32Array(n);
}

/** Gives `s` the array `key`, made by `make` the first time it is read. */
function lazy(s: Scored, key: 'yTrue' | 'yPred', make: () => Label[]): Scored {
  const settle = (value: Label[]) =>
    Object.defineProperty(s, key, { value, writable: true, configurable: true, enumerable: true });
  Object.defineProperty(s, key, {
    configurable: true,
    enumerable: true,
    get: () => {
      const value = make();
      settle(value);
      return value;
    },
    set: settle,
  });
  return s;
}

/** Gives `s` the arrays `yTrue` and `yPred`, decoded from its codes the first time they are read. */
function lazyArrays(s: Scored, codes: ScoredCodes): Scored {
  const decode = (c: Codes) => (): Label[] => {
    const out = new Array<Label>(c.length);
    for (let i = 0; i < c.length; i++) out[i] = codes.table[c[i]!]!;
    return out;
  };
  return lazy(lazy(s, 'yTrue', decode(codes.truth)), 'yPred', decode(codes.pred));
}

/** Reads the collected answers as a task: chooses classes, decisions and score kinds, and checks the labels fit. */
export function score(collected: Collected, options: OutputOptions, where: string): Scored {
  const truthColumn = collected.labels;
  const n = truthColumn.length;
  const width = collected.width;
  const raw = collected.scores.view();
  const output = collected.choice.scores ?? collected.choice.labels!;
  if (raw.length > 0) checkFinite(raw, where, output);
  const numeric = n > 0 && truthColumn.kind() === 'number';
  if (truthColumn.mixed) throw datasetError(`${where}: the label column mixes numbers and strings`);
  let task = options.task;
  if (task !== undefined && task !== 'binary' && task !== 'multiclass' && task !== 'regression')
    throw invalidArgument(where, "task must be 'binary', 'multiclass' or 'regression'", options.task);
  const fromLabels =
    collected.choice.labels !== undefined && (options.labelOutput !== undefined || width === -1);
  const truthLabels = (): Label[] => labelsOf(truthColumn);
  if (task === undefined) {
    if (width > 2) task = 'multiclass';
    else if (width === 2) task = 'binary';
    else if (
      width === 1 &&
      numeric &&
      (truthLabels().some((v) => !Number.isInteger(v)) ||
        (uniqueSorted(truthLabels()).length > 2 && !allProbabilities(raw, 1)))
    )
      // Integer labels with more than two values and scores in [0, 1] look like a binary
      // model given the wrong labels, not a regression: that case is refused below.
      task = 'regression';
    else if (width === 1) task = 'binary';
    else
      task = uniqueSorted(truthLabels(), labelsOf(collected.predicted)).length > 2 ? 'multiclass' : 'binary';
  }
  const base: Scored = {
    task,
    n,
    yTrue: [],
    kind: 'scores',
    classes: [],
    positive: undefined,
    threshold: undefined,
    yPred: [],
    positiveScores: undefined,
    matrix: undefined,
    probabilities: false,
    truth: undefined,
    estimate: undefined,
    average: options.average ?? 'macro',
  };
  if (!['macro', 'weighted', 'micro'].includes(base.average))
    throw invalidArgument(where, "average must be 'macro', 'weighted' or 'micro'", options.average);

  if (task === 'regression') {
    if (width !== 1)
      throw datasetError(
        `${where}: a regression needs one value per row from output '${output}', it gave ${width}`,
      );
    if (!numeric)
      throw datasetError(`${where}: a regression needs numeric labels; the label column holds strings`);
    const truth = truthColumn.numbers()?.slice() ?? Float64Array.from(truthColumn.toArray() as number[]);
    const scored: Scored = { ...base, kind: 'scores', truth, estimate: Float64Array.from(raw) };
    return lazy(scored, 'yTrue', () => Array.from(truth));
  }

  if (task === 'multiclass' && width === 1)
    throw datasetError(
      `${where}: a multiclass task needs one score per class from output '${output}'; it gives one per row`,
    );
  const kind: ScoreKind =
    options.scores ?? (width > 0 && allProbabilities(raw, width) ? 'probabilities' : 'scores');
  if (kind !== 'probabilities' && kind !== 'logits' && kind !== 'scores')
    throw invalidArgument(where, "scores must be 'probabilities', 'logits' or 'scores'", options.scores);
  if (kind === 'probabilities' && width > 0 && !allProbabilities(raw, width)) {
    throw datasetError(
      `${where}: output '${output}' is not probabilities (values outside [0, 1]${width > 1 ? ' or rows not summing to 1' : ''}); pass scores: 'logits' or 'scores'`,
    );
  }
  // Float32 scores stay float32 only where they are read as they came; anything computed is float64.
  let values: Float32Array | Float64Array = raw;
  if (kind === 'logits')
    values = width === 1 ? Float64Array.from(raw, (v) => 1 / (1 + Math.exp(-v))) : softmaxRows(raw, width);
  const probabilities = kind !== 'scores';

  const classes = classesOf(
    task,
    width,
    truthLabels(),
    labelsOf(collected.predicted),
    options,
    where,
    collected.choice.classes,
  );
  const truth = codesOf(truthColumn);
  const known = new Set<Label>(classes);
  const unknown = truth.table.map((l) => !known.has(l));
  if (unknown.includes(true)) {
    for (let i = 0; i < n; i++) {
      const l = truth.table[truth.codes[i]!]!;
      if (unknown[truth.codes[i]!]) {
        throw datasetError(
          `${where}: row ${i} has label ${describe(l)}, which is not one of the model's classes ${formatLabels(classes)}; pass classes`,
        );
      }
    }
  }
  let positive: Label | undefined;
  if (task === 'binary') {
    positive = options.positiveLabel ?? classes[1]!;
    if (!known.has(positive))
      throw invalidArgument(where, `positiveLabel must be one of ${formatLabels(classes)}`, positive);
  }
  const threshold = options.threshold ?? (probabilities ? 0.5 : 0);
  if (typeof threshold !== 'number' || !Number.isFinite(threshold))
    throw invalidArgument(where, 'threshold must be a finite number', threshold);

  let positiveScores: Float64Array | Float32Array | undefined;
  let matrix: Float64Array | undefined;
  if (width === 1 || (width === 2 && task === 'binary')) {
    const col = positive === classes[0] && width === 2 ? 0 : width - 1;
    if (width === 1 && positive === classes[0]) {
      // One score column holds the greater class's score; flip it for the other class.
      positiveScores = new Float64Array(n);
      for (let i = 0; i < n; i++) positiveScores[i] = probabilities ? 1 - values[i]! : -values[i]!;
    } else if (width === 1) {
      // The scores themselves: nothing reads them to write.
      positiveScores = values;
    } else {
      positiveScores = values instanceof Float32Array ? new Float32Array(n) : new Float64Array(n);
      for (let i = 0; i < n; i++) positiveScores[i] = values[i * width + col]!;
    }
  } else if (width >= 2) {
    matrix = values instanceof Float64Array ? values : Float64Array.from(values);
  }

  const table = new Table(truth.table);
  let pred: Codes;
  if (fromLabels) {
    const predicted = collected.predicted;
    if (predicted.length > 0 && predicted.kind() !== truthColumn.kind()) {
      throw datasetError(
        `${where}: label output '${collected.choice.labels}' holds ${predicted.kind()}s but the label column holds ${truthColumn.kind()}s`,
      );
    }
    const p = codesOf(predicted);
    const remap = p.table.map((l) => table.code(l));
    pred = codeArray(predicted.length, table.labels.length);
    for (let i = 0; i < pred.length; i++) pred[i] = remap[p.codes[i]!]!;
  } else if (positiveScores !== undefined) {
    const negative = positive === classes[0] ? classes[1]! : classes[0]!;
    const yes = table.code(positive!);
    const no = table.code(negative);
    pred = codeArray(n, table.labels.length);
    for (let i = 0; i < n; i++) pred[i] = positiveScores[i]! >= threshold ? yes : no;
  } else {
    const codeOfClass = classes.map((c) => table.code(c));
    pred = codeArray(n, table.labels.length);
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let j = 1; j < width; j++) if (matrix![i * width + j]! > matrix![i * width + best]!) best = j;
      pred[i] = codeOfClass[best]!;
    }
  }
  const codes: ScoredCodes = { table: table.labels, truth: truth.codes, pred };
  return lazyArrays(
    {
      ...base,
      kind: fromLabels && width === -1 ? 'labels' : kind,
      classes,
      positive,
      threshold: task === 'binary' && positiveScores !== undefined && !fromLabels ? threshold : undefined,
      positiveScores,
      matrix,
      probabilities: probabilities && width > 0,
      codes,
    },
    codes,
  );
}

function classesOf(
  task: Task,
  width: number,
  yTrue: readonly Label[],
  predicted: readonly Label[],
  options: OutputOptions,
  where: string,
  fromModel: readonly Label[] | undefined,
): Label[] {
  if (options.classes !== undefined) {
    if (!Array.isArray(options.classes) || options.classes.length < 2)
      throw invalidArgument(where, 'classes must list at least two labels', options.classes);
    const expected = width === 1 ? 2 : width;
    if (width > 0 && options.classes.length !== expected) {
      throw invalidArgument(
        where,
        `classes must list ${expected} labels, one per ${width === 1 ? 'class of the binary score' : 'score column'}`,
        options.classes,
      );
    }
    return [...options.classes];
  }
  // The model's own labels (a converter classifier's ZipMap), when they fit the scores.
  if (fromModel !== undefined && fromModel.length === (width === 1 ? 2 : width)) return [...fromModel];
  if (width >= 2) return Array.from({ length: width }, (_, i) => i);
  const present = uniqueSorted(yTrue, predicted);
  if (task === 'binary') {
    if (present.length === 2) return present;
    if (present.length < 2 && present.every((v) => v === 0 || v === 1)) return [0, 1];
    throw datasetError(
      `${where}: a binary task needs two classes; the labels are ${formatLabels(present.slice(0, 10))}${present.length > 10 ? ' …' : ''}; pass classes, or task: 'regression' for numeric targets`,
    );
  }
  return present;
}
