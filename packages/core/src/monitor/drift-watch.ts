/**
 * A drift watch: the most recent rows of one model's inputs (or of one of its outputs, for
 * prediction drift), sampled into a window of fixed size and compared with a reference profile
 * on demand. Memory is `windowRows` rows.
 */
import { invalidArgument } from '../errors';
import { type DriftOptions, type DriftReport, detectDrift } from './drift';
import { flatRow } from './flat-row';
import type { Profile } from './profile';
import type { TensorRows } from './tensor-rows';

/** Options of {@link Monitor.watchDrift}. */
export interface WatchDriftOptions {
  /** The model input whose rows are the features (default: the model's only input). */
  input?: string;
  /** Feature names of the input's columns, in order (default: the profile's features, in order). */
  features?: readonly string[];
  /** Rows kept for drift: the most recent ones (default 1,000). */
  windowRows?: number;
  /** Share of requests whose rows are kept (default 1). */
  sampleRate?: number;
  /**
   * Watch this model output instead of the inputs (prediction drift): its rows (a `[batch]`
   * output is one value per row) are compared with a profile of reference predictions.
   */
  output?: string;
  /**
   * The profile describes records, the raw fields clients send before a pipeline turns them
   * into tensors: rows then come only from {@link Monitor.observeRecords} (a server with a
   * pipeline calls it), never from input tensors. Default false.
   */
  records?: boolean;
}

/** One model's drift window (see {@link Monitor.watchDrift}). */
export class DriftWatch {
  readonly records: boolean;
  readonly input: string | undefined;
  readonly output: string | undefined;
  readonly features: readonly string[];
  readonly windowRows: number;
  readonly sampleRate: number;
  private readonly rows: Record<string, unknown>[] = [];
  private next = 0;

  constructor(
    readonly profile: Profile,
    options: WatchDriftOptions,
  ) {
    if (typeof profile !== 'object' || profile === null || !Array.isArray(profile.features))
      throw invalidArgument('Monitor.watchDrift', 'expected a Profile', profile);
    const windowRows = options.windowRows ?? 1000;
    const sampleRate = options.sampleRate ?? 1;
    if (!Number.isInteger(windowRows) || windowRows < 1)
      throw invalidArgument('Monitor.watchDrift', 'windowRows must be a positive integer', windowRows);
    if (!(sampleRate > 0 && sampleRate <= 1))
      throw invalidArgument('Monitor.watchDrift', 'sampleRate must lie in (0, 1]', sampleRate);
    if (options.output !== undefined && typeof options.output !== 'string')
      throw invalidArgument('Monitor.watchDrift', 'output must be an output name', options.output);
    if (options.records !== undefined && typeof options.records !== 'boolean')
      throw invalidArgument('Monitor.watchDrift', 'records must be a boolean', options.records);
    if (options.records === true && options.output !== undefined)
      throw invalidArgument(
        'Monitor.watchDrift',
        'records watches inputs; it cannot go with output',
        options,
      );
    this.records = options.records === true;
    this.input = options.input;
    this.output = options.output;
    this.features = options.features ?? profile.features.map((f) => f.name);
    this.windowRows = windowRows;
    this.sampleRate = sampleRate;
  }

  /** Whether a request's rows are kept: always at `sampleRate` 1, else a draw of `random`. */
  sampled(random: () => number): boolean {
    return !(this.sampleRate < 1 && random() >= this.sampleRate);
  }

  /** Keeps client records (field name to value): only the watched features, a missing one `null`. */
  keepRecords(records: readonly Readonly<Record<string, unknown>>[]): void {
    for (const record of records) {
      const r = typeof record === 'object' && record !== null ? flatRow(record) : record;
      const row: Record<string, unknown> = {};
      for (const f of this.features)
        row[f] = typeof r === 'object' && r !== null && Object.hasOwn(r, f) ? r[f] : null;
      this.keepRow(row);
    }
  }

  /** Keeps `rows` rows, the watch's feature i of row r being `valueAt(r, i)`. */
  keepRows(rows: number, valueAt: (r: number, i: number) => unknown): void {
    for (let r = 0; r < rows; r++) {
      const row: Record<string, unknown> = {};
      this.features.forEach((f, i) => {
        row[f] = valueAt(r, i);
      });
      this.keepRow(row);
    }
  }

  /** Keeps a tensor's rows, its values read in the watch's feature order (64-bit integers as numbers). */
  keepTensorRows({ data, rows, width }: TensorRows): void {
    this.keepRows(rows, (r, i) => {
      const v = i < width ? data[r * width + i] : undefined;
      return typeof v === 'bigint' ? Number(v) : v;
    });
  }

  /** Puts one row in the watch's window, over the oldest once it is full. */
  private keepRow(row: Record<string, unknown>): void {
    if (this.rows.length < this.windowRows) this.rows.push(row);
    else this.rows[this.next] = row;
    this.next = (this.next + 1) % this.windowRows;
  }

  /** A copy of the rows kept now, oldest first. */
  recent(): Record<string, unknown>[] {
    const full = this.rows.length === this.windowRows;
    return full ? [...this.rows.slice(this.next), ...this.rows.slice(0, this.next)] : this.rows.slice();
  }

  /** Drift of the rows kept now against the profile. */
  drift(options: DriftOptions): DriftReport {
    return detectDrift(this.profile, this.rows, options);
  }
}
