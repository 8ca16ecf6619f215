export { addInferenceService, listenGrpc } from './grpc';
export { createInferenceHandler, InferenceHandler } from './handler';
export { HttpError, httpFailure } from './http-error';
export { registerMonitorMetrics } from './metrics';
export type { ModelControlMode } from './model-control';
export { createServer, ModelshipServer, type ServerOptions } from './server';
export type { Pem, TlsOptions } from './tls';
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
  RepositoryControl,
  RouteScope,
} from './types';
