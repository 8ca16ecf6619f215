/**
 * KServe V1's explain verb, `POST /v1/models/{name}[/versions/{v}]:explain`: Shapley values of
 * each instance against the model's background (`<model>/explain/background.jsonl`), computed by
 * core's `explain` through the Deployer, pinned to one version, with the request's deadline and
 * cancellation. `{"instances": [...], "parameters": {...}}` in;
 * `{"predictions", "explanations", "baseValue", "method", "features", "evaluations", "notes"}` out.
 */

import { systemClock } from '../deploy/clock';
import { DeadlineExceededError, ModelshipError } from '../errors';
import type { Row } from '../evaluate/types';
import { explain } from '../explain/explain';
import { explanationToJSON } from '../explain/json';
import type { ExplainMethod, ExplainOptions } from '../explain/types';
import type { Model } from '../model/model';
import type { Pipeline } from '../pipeline/pipeline';
import { describeValue as describe, HttpError, refuseWhileDraining } from './http-error';
import { json } from './json-body';
import { pipelineFor } from './records';
import { parseTfJson } from './tf-json';
import type {
  ExplainSettings,
  ExplainSource,
  HandlerRequest,
  HandlerResponse,
  ServeContext,
  ServeMetrics,
} from './types';
import { bodyText, web } from './web';

/** Default of `maxExplainRows`: about two seconds of a small tabular model on one core. */
export const DEFAULT_MAX_EXPLAIN_ROWS = 2_000_000;

/** Rows per model call unless the input would pass `maxTensorElements`. */
const BATCH_ROWS = 4096;

const PARAMETERS = ['method', 'nsamples', 'maxEvals', 'seed', 'link', 'output', 'class'] as const;

type Parameters = Pick<ExplainSettings, (typeof PARAMETERS)[number]>;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function badRequest(message: string): ModelshipError {
  return new ModelshipError('INVALID_ARGUMENT', message);
}

/** The request's `parameters`, each checked, over the model's configured defaults. */
function readParameters(given: unknown, defaults: ExplainSettings): Parameters {
  if (given !== undefined && !isObject(given))
    throw badRequest(`parameters must be an object of ${PARAMETERS.join(', ')}, received ${describe(given)}`);
  const p = given ?? {};
  for (const key of Object.keys(p)) {
    if (!(PARAMETERS as readonly string[]).includes(key))
      throw badRequest(`parameters has an unknown field '${key}' (known: ${PARAMETERS.join(', ')})`);
  }
  const out: Parameters = {};
  for (const key of PARAMETERS) {
    const v = Object.hasOwn(p, key) ? p[key] : defaults[key];
    if (v !== undefined) (out as Record<string, unknown>)[key] = v;
  }
  const wrong = (key: string, what: string, v: unknown) =>
    badRequest(`parameters.${key} must be ${what}, received ${describe(v)}`);
  if (out.method !== undefined && !['exact', 'kernel', 'permutation'].includes(out.method))
    throw wrong('method', "'exact', 'kernel' or 'permutation'", out.method);
  for (const key of ['nsamples', 'maxEvals'] as const) {
    const v = out[key];
    if (v !== undefined && !(Number.isSafeInteger(v) && v > 0)) throw wrong(key, 'a positive integer', v);
  }
  if (out.seed !== undefined && !Number.isSafeInteger(out.seed)) throw wrong('seed', 'an integer', out.seed);
  if (out.link !== undefined && out.link !== 'identity' && out.link !== 'logit')
    throw wrong('link', "'identity' or 'logit'", out.link);
  if (out.output !== undefined && (typeof out.output !== 'string' || out.output === ''))
    throw wrong('output', 'an output name', out.output);
  const c = out.class;
  if (c !== undefined && !((Number.isSafeInteger(c) && (c as number) >= 0) || typeof c === 'string'))
    throw wrong('class', 'a column index (an integer ≥ 0) or a class label', c);
  return out;
}

/** The class column a label names, through the pipeline's labels. */
function classIndex(c: number | string | undefined, pipeline: Pipeline | undefined, name: string) {
  if (typeof c !== 'string') return c;
  const labels = pipeline?.labels;
  const i = labels?.findIndex((l) => String(l) === c) ?? -1;
  if (i < 0)
    throw badRequest(
      labels === undefined
        ? `parameters.class '${c}' is a label, but model '${name}' has no class labels; give the column index`
        : `parameters.class '${c}' is not a class of model '${name}' (classes: ${labels.map((l) => `'${l}'`).join(', ')})`,
    );
  return i;
}

/** Model rows one request may cost at most: the background, the instances, and every coalition's background. */
export function explainCost(
  method: ExplainMethod,
  players: number,
  instances: number,
  backgroundRows: number,
  p: { nsamples?: number | undefined; maxEvals?: number | undefined },
): { coalitions: number; rows: number; budget: string } {
  const all = players >= 53 ? Number.MAX_SAFE_INTEGER : 2 ** players - 2;
  let coalitions: number;
  let budget: string;
  if (method === 'exact') {
    coalitions = all;
    budget = `method 'exact': 2^${players} − 2 coalitions`;
  } else if (method === 'kernel') {
    const nsamples = p.nsamples ?? 2 * players + 2048;
    coalitions = Math.min(nsamples, all);
    budget = `method 'kernel', nsamples ${nsamples}`;
  } else {
    const maxEvals = p.maxEvals ?? 500;
    coalitions = Math.floor(maxEvals / (2 * players + 1)) * 2 * Math.max(players - 1, 0);
    budget = `method 'permutation', maxEvals ${maxEvals}`;
  }
  return { coalitions, rows: backgroundRows + instances * (1 + coalitions * backgroundRows), budget };
}

function checkCost(
  name: string,
  method: ExplainMethod,
  players: number,
  n: number,
  b: number,
  p: Parameters,
  max: number,
): void {
  const cost = explainCost(method, players, n, b, p);
  if (cost.rows <= max) return;
  const fits = Math.max(0, Math.floor((max - b) / (1 + cost.coalitions * b)));
  const lower =
    method === 'kernel'
      ? 'lower parameters.nsamples'
      : method === 'permutation'
        ? 'lower parameters.maxEvals'
        : "use parameters.method 'kernel' or 'permutation' with a smaller budget";
  throw badRequest(
    `explaining ${n} instance${n === 1 ? '' : 's'} of model '${name}' costs up to ${cost.rows} model rows (${n} × ${cost.coalitions} coalitions (${cost.budget}, ${players} features) × ${b} background rows, plus ${b + n}); this server takes at most ${max} (maxExplainRows): ${fits > 0 ? `send at most ${fits} instance${fits === 1 ? '' : 's'} per request, or ` : ''}${lower}`,
  );
}

/** The settings of `name`, or the 404 that says which file to add. */
async function settingsOf(ctx: ServeContext, name: string): Promise<ExplainSettings> {
  const source = ctx.options.explain;
  const fromFiles = typeof (source as ExplainSource | undefined)?.explainSettings === 'function';
  const settings = fromFiles
    ? await (source as ExplainSource).explainSettings(name)
    : source !== undefined && Object.hasOwn(source, name)
      ? (source as Readonly<Record<string, ExplainSettings>>)[name]
      : undefined;
  if (settings !== undefined) return settings;
  throw new ModelshipError(
    'EXPLAIN_UNAVAILABLE',
    fromFiles
      ? `model '${name}' has no explanation background: add ${name}/explain/background.jsonl to the model repository (one record, or row of numbers, per line; about 100 rows of training data), or name a file in ${name}/config.json as "explain": {"background": "..."}`
      : `model '${name}' has no explanation background: give one in the server's explain option ({ "${name}": { background: rows } })`,
  );
}

/** What core's `explain` takes for this model: records per field, or rows of numbers named per column. */
interface Prepared {
  rows: Row[];
  background: Row[];
  features: string[];
  /** Values per model row, for the batch size. */
  width: number;
}

function recordsOf(
  instances: unknown[],
  settings: ExplainSettings,
  pipeline: Pipeline,
  name: string,
): Prepared {
  if (Object.keys(pipeline.images).length > 0)
    throw new ModelshipError(
      'MODEL_UNSUPPORTED',
      `model '${name}' takes image fields (${Object.keys(pipeline.images).join(', ')}); :explain explains record fields and rows of numbers, not images`,
    );
  const fields = pipeline.fields;
  const pick = (r: Record<string, unknown>): Row =>
    Object.fromEntries(fields.map((f) => [f, Object.hasOwn(r, f) ? r[f] : null]));
  instances.forEach((r, i) => {
    if (!isObject(r))
      throw badRequest(
        `instance ${i} is ${describe(r)}; model '${name}' takes records (objects of fields: ${fields.join(', ')})`,
      );
    for (const f of fields) {
      const v = r[f];
      if (typeof v === 'number' && !Number.isFinite(v))
        throw badRequest(
          `instance ${i}, field '${f}' is ${v}; send a finite number, or null for a missing value`,
        );
    }
  });
  pipeline.checkFields(instances as Row[]);
  const background = settings.background.map((r, i) => {
    if (!isObject(r))
      throw new ModelshipError(
        'MODEL_INVALID',
        `${settings.source ?? 'the background'} row ${i} is ${describe(r)}; model '${name}' takes records through its pipeline, so its background is one record per line`,
      );
    return pick(r);
  });
  return {
    rows: (instances as Record<string, unknown>[]).map(pick),
    background,
    features: fields,
    width: pipeline.width,
  };
}

function numberRowsOf(instances: unknown[], settings: ExplainSettings, model: Model, name: string): Prepared {
  const inputs = model.signature.inputs;
  const input = inputs[0];
  const shape = input?.shape;
  if (
    inputs.length !== 1 ||
    (input!.dtype !== 'float32' && input!.dtype !== 'float64') ||
    shape === null ||
    shape === undefined ||
    shape.length !== 2
  )
    throw new ModelshipError(
      'MODEL_UNSUPPORTED',
      `model '${name}' takes ${inputs.map((i) => `'${i.name}' ${i.dtype}`).join(', ')}; :explain explains a model with one float [batch, k] input, or one served with a pipeline (pipeline.json)`,
    );
  const first = settings.background[0];
  const k = typeof shape[1] === 'number' ? shape[1] : Array.isArray(first) ? first.length : undefined;
  const source = settings.source ?? 'the background';
  if (k === undefined)
    throw new ModelshipError(
      'MODEL_INVALID',
      `${source} row 0 is ${describe(first)}; model '${name}' has no pipeline, so its background is one row of numbers per line`,
    );
  const at = `model '${name}' input '${input!.name}' [batch, ${k}]`;
  const features =
    settings.features === undefined
      ? Array.from({ length: k }, (_, j) => `${input!.name}[${j}]`)
      : [...settings.features];
  const named = (row: readonly number[]): Row => Object.fromEntries(features.map((f, j) => [f, row[j]]));
  const background = settings.background.map((r, i) => {
    if (!Array.isArray(r) || r.length !== k)
      throw new ModelshipError(
        'MODEL_INVALID',
        `${source} row ${i} is ${describe(r)}; ${at} needs rows of ${k} numbers, one per line`,
      );
    return named(r);
  });
  if (features.length !== k)
    throw new ModelshipError(
      'MODEL_INVALID',
      `config.json explain.features names ${features.length} columns; ${at} has ${k}`,
    );
  const rows = instances.map((r, i) => {
    if (!Array.isArray(r) || r.length !== k)
      throw badRequest(`instance ${i} is ${describe(r)}; ${at} takes rows of ${k} numbers`);
    const bad = r.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v));
    if (bad >= 0)
      throw badRequest(
        `instance ${i}, value ${bad} is ${describe(r[bad])}; every value must be a finite number`,
      );
    return named(r as number[]);
  });
  return { rows, background, features, width: k };
}

/** `:explain` requests running now, per handler. */
const running = new WeakMap<ServeContext, number>();

/** `POST /v1/models/{name}[/versions/{v}]:explain`. */
export async function tfExplain(
  ctx: ServeContext,
  name: string,
  version: string | undefined,
  req: HandlerRequest,
  metrics: ServeMetrics | undefined,
): Promise<HandlerResponse> {
  refuseWhileDraining(ctx);
  const body = parseTfJson(bodyText(req.body), 'explain request');
  return json(200, await explainBody(ctx, name, version, body, req, metrics));
}

/**
 * The answer to an explain request's body (`instances`, optional `parameters`), with the
 * explanation metrics counted: what `:explain` and TorchServe's `/explanations` answer from.
 */
export async function explainBody(
  ctx: ServeContext,
  name: string,
  version: string | undefined,
  body: Record<string, unknown>,
  req: HandlerRequest,
  metrics: ServeMetrics | undefined,
): Promise<ExplainAnswer> {
  // Resolved first: an unknown model or version is 404 whatever the body says, and is never a metric label.
  const pinned = ctx.deployer.model(name, version === undefined ? {} : { version }).version;
  try {
    const answer = await explainRequest(ctx, name, pinned, body, req);
    metrics?.observeExplain(name, 'success', answer.evaluations);
    return answer;
  } catch (e) {
    metrics?.observeExplain(
      name,
      ModelshipError.isInstance(e) ? e.code : e instanceof HttpError ? String(e.status) : 'ERROR',
      0,
    );
    throw e;
  }
}

/** What an explain request answers (KServe V1's names; one prediction and explanation per instance). */
export interface ExplainAnswer {
  predictions: number[];
  explanations: Record<string, number>[];
  baseValue: number;
  method: ExplainMethod;
  features: string[];
  evaluations: number;
  notes: string[];
  model_name: string;
  model_version: string;
}

async function explainRequest(
  ctx: ServeContext,
  name: string,
  version: string,
  body: Record<string, unknown>,
  req: HandlerRequest,
): Promise<ExplainAnswer> {
  for (const key of Object.keys(body)) {
    if (key !== 'instances' && key !== 'parameters')
      throw badRequest(
        key === 'inputs'
          ? 'an explain request sends "instances" (a list of records or rows), not "inputs"'
          : `an explain request has "instances" and optional "parameters", not '${key}'`,
      );
  }
  const instances = body.instances;
  if (!Array.isArray(instances) || instances.length === 0)
    throw badRequest(`instances must be a non-empty list, received ${describe(instances)}`);
  const settings = await settingsOf(ctx, name);
  const p = readParameters(body.parameters, settings);
  // Every call goes through the Deployer to this one version, marked so monitors skip it.
  const model = ctx.deployer.model(name, { version, kind: 'explain' });
  const pipeline = pipelineFor(ctx, name);
  const prepared =
    pipeline === undefined
      ? numberRowsOf(instances, settings, model, name)
      : recordsOf(instances, settings, pipeline, name);
  const players = prepared.features.length;
  const method = p.method ?? (players <= 10 ? 'exact' : 'kernel');
  const max = ctx.options.maxExplainRows ?? DEFAULT_MAX_EXPLAIN_ROWS;
  checkCost(name, method, players, prepared.rows.length, prepared.background.length, p, max);

  const limit = ctx.options.maxConcurrentExplains ?? 1;
  const now = running.get(ctx) ?? 0;
  if (now >= limit)
    throw new ModelshipError(
      'MODEL_OVERLOADED',
      `${now} explanation${now === 1 ? ' is' : 's are'} being computed, this server's maxConcurrentExplains; try again`,
    );
  running.set(ctx, now + 1);
  const abort = new web.AbortController();
  const onGone = () => abort.abort(req.signal?.reason);
  req.signal?.addEventListener('abort', onGone);
  if (req.signal?.aborted) onGone();
  const timeoutMs = ctx.options.timeoutMs;
  let late = false;
  const timer =
    timeoutMs === undefined
      ? undefined
      : systemClock.setTimeout(() => {
          late = true;
          abort.abort(new Error('deadline'));
        }, timeoutMs);
  try {
    const options: ExplainOptions = {
      background: prepared.background,
      features: prepared.features,
      method,
      signal: abort.signal,
      batchSize: Math.max(
        1,
        Math.min(BATCH_ROWS, Math.floor(ctx.options.maxTensorElements / prepared.width)),
      ),
      ...(pipeline === undefined ? {} : { pipeline }),
      ...(p.nsamples === undefined ? {} : { nsamples: p.nsamples }),
      ...(p.maxEvals === undefined ? {} : { maxEvals: p.maxEvals }),
      ...(p.seed === undefined ? {} : { seed: p.seed }),
      ...(p.link === undefined ? {} : { link: p.link }),
      ...(p.output === undefined ? {} : { output: p.output }),
    };
    const c = classIndex(p.class, pipeline, name);
    if (c !== undefined) options.class = c;
    const ex = await explain(model, prepared.rows, options);
    const { values, notes, ...rest } = explanationToJSON(ex);
    // KServe V1's names: a prediction and an explanation per instance; the rest is shared.
    return {
      predictions: rest.predictions,
      explanations: values,
      baseValue: rest.baseValue,
      method: rest.method,
      features: rest.features,
      evaluations: rest.evaluations,
      notes: [...(settings.notes ?? []), ...notes],
      model_name: name,
      model_version: version,
    };
  } catch (e) {
    if (late && ModelshipError.isInstance(e) && e.code === 'ABORTED')
      throw new DeadlineExceededError(
        `explaining model '${name}' did not finish within ${timeoutMs} ms (the server's timeoutMs); send fewer instances or a smaller budget`,
      );
    throw e;
  } finally {
    if (timer !== undefined) systemClock.clearTimeout(timer);
    req.signal?.removeEventListener('abort', onGone);
    running.set(ctx, (running.get(ctx) ?? 1) - 1);
  }
}
