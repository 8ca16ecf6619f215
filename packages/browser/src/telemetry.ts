/**
 * Telemetry from the page to a Modelship server's Monitor (`POST /v2/monitor/ingest`): every
 * prediction an in-page Deployer answers, and optionally feature rows for drift, batched and
 * sent with `fetch` (`keepalive`, so a batch in flight survives the page closing) or
 * `navigator.sendBeacon` when the page is hidden and no token is needed.
 */
import {
  createRedactor,
  type Deployer,
  type FieldPolicy,
  invalidArgument,
  type LogPolicy,
  type PredictionEvent,
  type Redactor,
} from '@modelship/core';

export interface TelemetryOptions {
  /** The ingest URL, e.g. `https://models.example.com/v2/monitor/ingest`. */
  endpoint: string;
  /** A bearer token, when the server requires one. */
  token?: string;
  /** How often to send what has been recorded (default 5,000 ms). */
  flushMs?: number;
  /** Send at once when this many records wait (default 200). */
  maxRecords?: number;
  /** Records kept while the server is unreachable; the oldest are dropped beyond this (default 5,000). */
  maxPending?: number;
  /** Called when a batch cannot be delivered (it is kept and retried with the next flush). */
  onError?: (error: unknown) => void;
  /**
   * What of the rows given to `observeRows` leaves the page, cell by cell: rules name
   * `inputs.<model>.<column index>` (`'inputs.*.0': 'hash'`, `'inputs.fraud.3': 'drop'`); a
   * dropped cell is sent as null, a row with nothing kept is not sent. Without a policy, rows
   * are sent as given (calling `observeRows` is the opt-in); a policy's own `default` is `drop`.
   * Prediction records carry no data (model, version, latency, batch size, error code).
   */
  policy?: LogPolicy;
}

interface TelemetryRecord {
  model: string;
  version: string;
  latencyMs: number;
  batchSize?: number;
  error?: string;
}

/** A batching telemetry sender; see {@link createTelemetry}. */
export class Telemetry {
  private records: TelemetryRecord[] = [];
  private rows = new Map<string, unknown[][]>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private sending: Promise<void> = Promise.resolve();
  private readonly detachers: (() => void)[] = [];
  private readonly redactor: Redactor | undefined;
  private readonly onHide = (): void => {
    if (document.visibilityState === 'hidden') void this.flush(true);
  };

  constructor(private readonly options: TelemetryOptions) {
    if (typeof options?.endpoint !== 'string' || options.endpoint === '')
      throw invalidArgument('createTelemetry', 'endpoint must be the server ingest URL', options?.endpoint);
    const flushMs = options.flushMs ?? 5000;
    if (!(flushMs > 0)) throw invalidArgument('createTelemetry', 'flushMs must be positive', flushMs);
    this.redactor = options.policy === undefined ? undefined : cellRedactor(options.policy);
    const tick = (): void => {
      void this.flush();
      this.timer = setTimeout(tick, flushMs);
    };
    this.timer = setTimeout(tick, flushMs);
    if (typeof document !== 'undefined') document.addEventListener('visibilitychange', this.onHide);
  }

  /** Records every prediction an in-page Deployer answers. */
  attach(deployer: Deployer): () => void {
    const listener = (e: PredictionEvent): void => {
      if (e.kind !== 'serve') return;
      const code = (e.error as { code?: unknown } | undefined)?.code;
      this.record({
        model: e.name,
        version: e.version,
        latencyMs: e.latencyMs,
        ...(e.batchSize > 0 ? { batchSize: e.batchSize } : {}),
        ...(e.error === undefined ? {} : { error: typeof code === 'string' ? code : 'ERROR' }),
      });
    };
    deployer.on('prediction', listener);
    const detach = () => deployer.off('prediction', listener);
    this.detachers.push(detach);
    return detach;
  }

  /** Records one prediction. */
  record(r: TelemetryRecord): void {
    this.records.push(r);
    const max = this.options.maxPending ?? 5000;
    if (this.records.length > max) this.records.splice(0, this.records.length - max);
    if (this.records.length >= (this.options.maxRecords ?? 200)) void this.flush();
  }

  /** Queues feature rows (values in the server's drift-watch feature order) for the model's drift window. */
  observeRows(model: string, rows: readonly (readonly unknown[])[]): void {
    if (typeof model !== 'string' || model === '')
      throw invalidArgument('Telemetry.observeRows', 'model must be a non-empty string', model);
    if (!Array.isArray(rows) || !rows.every(Array.isArray))
      throw invalidArgument('Telemetry.observeRows', 'rows must be an array of arrays', rows);
    const list = this.rows.get(model) ?? [];
    for (const r of rows) {
      const row = this.redact(model, r);
      if (row !== undefined) list.push(row);
    }
    if (list.length > 0) this.rows.set(model, list);
  }

  /** The row as it may leave the page (redacted here, so raw values do not wait for a flush). */
  private redact(model: string, row: readonly unknown[]): unknown[] | undefined {
    if (this.redactor === undefined) return [...row];
    const inputs = this.redactor.apply({ inputs: { [model]: row } }).inputs as
      | Record<string, unknown[]>
      | undefined;
    return inputs?.[model];
  }

  /**
   * Sends what has been recorded. With `beacon`, uses `navigator.sendBeacon` when no token is
   * needed (it cannot carry headers) and `fetch` with `keepalive` otherwise.
   */
  flush(beacon = false): Promise<void> {
    this.sending = this.sending.then(async () => {
      if (this.records.length === 0 && this.rows.size === 0) return;
      const records = this.records;
      const rows = this.rows;
      this.records = [];
      this.rows = new Map();
      const body = JSON.stringify({ records, inputs: [...rows].map(([model, r]) => ({ model, rows: r })) });
      try {
        if (
          beacon &&
          this.options.token === undefined &&
          typeof navigator !== 'undefined' &&
          navigator.sendBeacon
        ) {
          if (navigator.sendBeacon(this.options.endpoint, new Blob([body], { type: 'application/json' })))
            return;
        }
        const res = await fetch(this.options.endpoint, {
          method: 'POST',
          keepalive: body.length < 60_000,
          headers: {
            'content-type': 'application/json',
            ...(this.options.token === undefined ? {} : { authorization: `Bearer ${this.options.token}` }),
          },
          body,
        });
        if (!res.ok) throw new Error(`telemetry: the server answered ${res.status}`);
      } catch (e) {
        // Keep the batch for the next flush, ahead of what arrived since.
        this.records = [...records, ...this.records];
        for (const [model, r] of rows) this.rows.set(model, [...r, ...(this.rows.get(model) ?? [])]);
        this.options.onError?.(e);
      }
    });
    return this.sending;
  }

  /** Sends what is left and stops. */
  async close(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    for (const d of this.detachers) d();
    if (typeof document !== 'undefined') document.removeEventListener('visibilitychange', this.onHide);
    await this.flush();
  }
}

/**
 * The policy as it applies to one row's cells: every rule names a cell (`inputs.<model>.<column>`),
 * and the policy's default becomes a rule for any cell, so no rule ever hashes or truncates a
 * whole row (the server takes rows of numbers, strings and nulls).
 */
function cellRedactor(policy: LogPolicy): Redactor {
  if (policy === null || typeof policy !== 'object' || Array.isArray(policy))
    throw invalidArgument(
      'createTelemetry',
      'policy must be an object { fields?, default?, hashKey? }',
      policy,
    );
  const fields = policy.fields ?? {};
  for (const path of Object.keys(fields)) {
    const segments = path.split(/(?<!\\)\./);
    if (segments.length !== 3 || (segments[0] !== 'inputs' && segments[0] !== '*'))
      throw invalidArgument(
        'createTelemetry',
        `policy.fields["${path}"]: telemetry rules name a cell of a row, inputs.<model>.<column index> (* for any)`,
        path,
      );
  }
  const cell: FieldPolicy = policy.default ?? 'drop';
  return createRedactor({ ...policy, fields: { 'inputs.*.*': cell, ...fields }, default: 'drop' });
}

/**
 * Sends an in-page Deployer's predictions to a Modelship server's Monitor.
 *
 * @example
 * const telemetry = createTelemetry({ endpoint: '/v2/monitor/ingest' });
 * telemetry.attach(deployer);
 */
export function createTelemetry(options: TelemetryOptions): Telemetry {
  return new Telemetry(options);
}
