/**
 * Triton's model repository extension over REST: the index, and load / unload under the
 * server's model control mode.
 */
import { describeValue as describe, HttpError } from '../http-error';
import { json, own, parseJsonBody, text } from '../json-body';
import { checkModelControl } from '../model-control';
import type { HandlerRequest, HandlerResponse, ServeContext } from '../types';
import { readParameters } from './inputs';

function repositoryOf(ctx: ServeContext) {
  const r = ctx.options.repository;
  if (r === undefined) throw new HttpError(501, 'this server has no model repository to control');
  return r;
}

/** `POST /v2/repository/index`: every model and version with its state; `{"ready": true}` keeps the ready ones. */
export function repositoryIndex(ctx: ServeContext, req: HandlerRequest): HandlerResponse {
  const repository = repositoryOf(ctx);
  const body =
    req.body.byteLength === 0 ? {} : parseJsonBody(text(req.body, 'request body'), 'index request');
  const ready = own(body, 'ready');
  if (ready !== undefined && typeof ready !== 'boolean')
    throw new HttpError(400, `ready must be a boolean, received ${describe(ready)}`);
  const entries = repository.index().filter((e) => ready !== true || e.state === 'READY');
  return json(200, entries);
}

/**
 * Refuses the repository extension's load overrides (`config`, `file:<version>/<name>`) and any
 * other load parameter: this server loads what is on disk, and an override it ignored would
 * leave the caller believing the model runs with it. Shared by REST and gRPC.
 */
export function refuseLoadParameters(model: string, names: readonly string[]): void {
  if (names.length === 0) return;
  throw new HttpError(
    400,
    `load of model '${model}': parameters ${names.map((n) => `'${n}'`).join(', ')} are not supported; this server loads the model's files as they are in the repository (write config.json and the version's files there, then load)`,
  );
}

/** `POST /v2/repository/models/{name}/load` and `…/unload`. */
export async function repositoryAction(
  ctx: ServeContext,
  name: string,
  action: 'load' | 'unload',
  req?: HandlerRequest,
): Promise<HandlerResponse> {
  const repository = repositoryOf(ctx);
  checkModelControl(ctx, action, req?.headers.origin);
  if (action === 'load' && req !== undefined && req.body.byteLength > 0) {
    const body = parseJsonBody(text(req.body, 'request body'), 'load request');
    refuseLoadParameters(name, Object.keys(readParameters(own(body, 'parameters'), 'load request')));
  }
  await (action === 'load' ? repository.load(name) : repository.unload(name));
  return json(200, {});
}
