/**
 * The Monitor over HTTP: `GET /v2/monitor` answers its state as JSON (windows, live accuracy,
 * alerts, drift), and `POST /v2/monitor/ingest` takes telemetry that browsers and other
 * processes send, so in-page inference is watched by the same server.
 */
import type { Monitor } from '../monitor/monitor';
import { dashboardHtml } from './dashboard';
import { describeValue as describe, HttpError } from './http-error';
import { json, parseJsonBody } from './json-body';
import type { HandlerRequest, HandlerResponse, ServeContext } from './types';
import { bodyText } from './web';

/** At most this many records per ingest request. */
export const MAX_INGEST_RECORDS = 10_000;

function monitorOf(ctx: ServeContext): Monitor {
  const m = ctx.options.monitor;
  if (m === undefined) throw new HttpError(501, 'this server has no Monitor');
  return m;
}

/** `GET /v2/monitor`. */
export function monitorState(ctx: ServeContext, models: readonly string[]): HandlerResponse {
  const m = monitorOf(ctx);
  const drift: Record<string, unknown> = {};
  const estimated: Record<string, unknown> = {};
  for (const model of models) {
    try {
      drift[model] = m.drift(model);
    } catch {
      // not watched for drift
    }
    try {
      estimated[model] = m.estimatedPerformance(model).estimate;
    } catch {
      // no performance estimator
    }
  }
  return json(200, {
    series: m.snapshot(),
    performance: m.performance(),
    alerts: m.alerts(),
    drift,
    estimated,
    deployments: ctx.deployer.status(),
  });
}

/**
 * `GET /v2/monitor/history`: each version's traffic over the Monitor's `historyMs` (15 minutes
 * by default), one point per interval, so a dashboard opened now draws the last minutes.
 */
export function monitorHistory(ctx: ServeContext): HandlerResponse {
  return json(200, { history: monitorOf(ctx).history() });
}

/**
 * The models ingest takes telemetry for: the deployed ones and `ingestModels`, so a client
 * cannot make the Monitor (and `/metrics`) keep a series for every name it makes up.
 */
function ingestible(ctx: ServeContext): (model: string) => boolean {
  const names = new Set([...ctx.deployer.names(), ...(ctx.options.ingestModels ?? [])]);
  return (model) => names.has(model);
}

function notIngestible(where: string, model: string): HttpError {
  return new HttpError(
    400,
    `${where}: model ${describe(model)} is not deployed here (telemetry is taken for deployed models and the server's ingestModels)`,
  );
}

/**
 * `POST /v2/monitor/ingest` with `{"records": [{"model", "version", "latencyMs", "batchSize"?,
 * "error"?}], "inputs": [{"model", "rows": [[…], …]}]}`: each record is checked, and a bad one
 * (or one for a model that is not deployed) refuses the whole request (400 naming its index),
 * so nothing is half-recorded.
 */
export function ingest(ctx: ServeContext, req: HandlerRequest): HandlerResponse {
  const m = monitorOf(ctx);
  const known = ingestible(ctx);
  const body = parseJsonBody(bodyText(req.body), 'telemetry');
  const records = Object.hasOwn(body, 'records') ? body.records : [];
  const inputs = Object.hasOwn(body, 'inputs') ? body.inputs : [];
  if (!Array.isArray(records))
    throw new HttpError(400, `records must be an array, received ${describe(records)}`);
  if (!Array.isArray(inputs))
    throw new HttpError(400, `inputs must be an array, received ${describe(inputs)}`);
  if (records.length > MAX_INGEST_RECORDS)
    throw new HttpError(413, `${records.length} records in one request; send at most ${MAX_INGEST_RECORDS}`);
  const checked = records.map((r, i) => {
    const x = r as Record<string, unknown>;
    if (typeof x !== 'object' || x === null || typeof x.model !== 'string' || typeof x.version !== 'string')
      throw new HttpError(400, `records[${i}] needs a model and a version (strings)`);
    if (typeof x.latencyMs !== 'number' || !(x.latencyMs >= 0) || !Number.isFinite(x.latencyMs))
      throw new HttpError(
        400,
        `records[${i}].latencyMs must be a non-negative number, received ${describe(x.latencyMs)}`,
      );
    if (x.batchSize !== undefined && !(Number.isInteger(x.batchSize) && (x.batchSize as number) >= 0))
      throw new HttpError(400, `records[${i}].batchSize must be a non-negative integer`);
    if (x.error !== undefined && typeof x.error !== 'string')
      throw new HttpError(400, `records[${i}].error must be a string`);
    if (!known(x.model)) throw notIngestible(`records[${i}]`, x.model);
    return {
      model: x.model,
      version: x.version,
      latencyMs: x.latencyMs,
      ...(x.batchSize === undefined ? {} : { batchSize: x.batchSize as number }),
      ...(x.error === undefined ? {} : { error: x.error }),
    };
  });
  const rows = inputs.map((entry, i) => {
    const x = entry as Record<string, unknown>;
    if (typeof x !== 'object' || x === null || typeof x.model !== 'string' || !Array.isArray(x.rows))
      throw new HttpError(400, `inputs[${i}] needs a model and rows`);
    if (
      x.rows.some(
        (r) =>
          !Array.isArray(r) || r.some((v) => typeof v !== 'number' && typeof v !== 'string' && v !== null),
      )
    )
      throw new HttpError(400, `inputs[${i}].rows must be arrays of numbers, strings or null`);
    if (!known(x.model)) throw notIngestible(`inputs[${i}]`, x.model);
    return { model: x.model, rows: x.rows };
  });
  for (const r of checked) m.record(r);
  for (const r of rows) m.observeRows(r.model, r.rows as unknown[][]);
  return json(200, { accepted: checked.length, rows: rows.reduce((n, r) => n + r.rows.length, 0) });
}

/** `GET /dashboard`: the live page (it polls `/v2/monitor`). */
export function dashboard(ctx: ServeContext): HandlerResponse {
  monitorOf(ctx);
  return {
    status: 200,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' },
    body: dashboardHtml(ctx.options.serverName ?? 'modelship'),
  };
}
