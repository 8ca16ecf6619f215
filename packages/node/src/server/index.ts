export {
  type AuthOptions,
  type AuthRequest,
  type CorsOptions,
  type ExplainDefaults,
  type ExplainSettings,
  type ExplainSource,
  type HandlerRequest,
  type HandlerResponse,
  HttpError,
  httpFailure,
  type ModelControlMode,
  type RepositoryControl,
  type RouteScope,
  type ServeMetrics,
} from '@modelship/core/serve';
export { addInferenceService, listenGrpc } from './grpc';
export { createFetchHandler, createInferenceHandler, type HandlerOptions, InferenceHandler } from './handler';
export { registerMonitorMetrics } from './metrics';
export { createServer, ModelshipServer, type ServerOptions } from './server';
export type { Pem, TlsOptions } from './tls';
