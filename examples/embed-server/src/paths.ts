/**
 * The paths Modelship's handler answers, for a router that mounts by path (Fastify, Hono): the
 * Open Inference Protocol, TF Serving's REST API and the metrics, and TorchServe's inference and
 * management APIs (`createInferenceHandler(deployer, { torchserve: false })` leaves those four
 * to the app). Express's `app.use(handler.node)` needs none: the handler passes on what it does
 * not answer.
 */
export const INFERENCE_PATHS = [
  '/v2',
  '/v2/*',
  '/v1/models/*',
  '/metrics',
  // TorchServe
  '/ping',
  '/predictions',
  '/predictions/*',
  '/explanations',
  '/explanations/*',
  '/models',
  '/models/*',
] as const;
