/**
 * `@modelship/core/serve`: a model server as pure code over bytes and objects. The Open
 * Inference Protocol, TF Serving's REST API, TorchServe's inference API, the tensor codecs, routing, credentials, CORS,
 * limits and error answers, behind one handler; `createFetchHandler` answers web-standard
 * requests in Bun, Deno, Workers or a service worker, and `@modelship/node` adds its
 * `node:http` listener, gRPC and Prometheus metrics around the same handler.
 *
 * Besides the handler, the codecs and the protocol's steps are exported for runtime fronts
 * (`@modelship/node`'s gRPC service and `node:http` body reading), so each front answers alike.
 */

export {
  binaryData,
  bytesElement,
  datatypeOf,
  dtypeOf,
  elementBytes,
  fromBinary,
  NO_BYTES,
  readShape,
} from './codec';
export type { FetchRequestLike, WebRequest, WebResponse } from './fetch-io';
export { BODY_CODINGS, type BodyCoding, bodyCoding } from './fetch-io';
export {
  createFetchHandler,
  createInferenceHandler,
  InferenceHandler,
  resolveHandlerOptions,
} from './handler';
export { HttpError, httpFailure, refuseWhileDraining } from './http-error';
export { checkModelControl } from './model-control';
export {
  Answered,
  collectInputs,
  decodeInferRequest,
  findSpec,
  type InputItem,
  json,
  modelReady,
  predictFor,
  refuseClassification,
  refuseLoadParameters,
  serverReady,
} from './oip';
export { REFUSALS, reportRefusal } from './routes';
export { isTorchServeManagementPath, torchServeError } from './torchserve';
export type {
  AuthOptions,
  AuthRequest,
  CorsOptions,
  ExplainDefaults,
  ExplainSettings,
  ExplainSource,
  HandlerOptions,
  HandlerRequest,
  HandlerResponse,
  ModelControlMode,
  PipelineSource,
  RepositoryControl,
  RequestCapture,
  RouteScope,
  ServeContext,
  ServeHooks,
  ServeMetrics,
} from './types';
