/**
 * A model server as one web-standard fetch handler, the shape Cloudflare Workers, Bun and Deno
 * serve (`export default { fetch }`): the Open Inference Protocol and TF Serving's REST API from
 * core's `createFetchHandler`, over fraud.onnx on onnxruntime-web (wasm, no native code).
 */
import { loadModel } from '@modelship/browser';
import { Deployer } from '@modelship/core';
import { createFetchHandler } from '@modelship/core/serve';

/** What the runtime passes in: a Worker's bindings, or what Bun and Deno read from the environment. */
export interface Env {
  /** Where the model file is served from (an R2 or static-assets URL, a CDN). */
  MODEL_URL: string;
  /** The bearer token clients must send; without it every route is open. */
  TOKEN?: string;
}

type Handler = (request: Request) => Promise<Response>;

/**
 * A server whose model loads on the first request (a Worker's isolate starts on demand) and is
 * kept for the next ones. A model that cannot load is answered with 503 and why, and tried again
 * on the next request.
 */
export function edgeServer() {
  let serving: Promise<Handler> | undefined;
  const start = async (env: Env): Promise<Handler> => {
    const deployer = new Deployer();
    await deployer.deploy('fraud', () => loadModel(env.MODEL_URL), { version: '1' });
    return createFetchHandler(deployer, env.TOKEN ? { auth: { tokens: [env.TOKEN] } } : {});
  };
  return {
    async fetch(request: Request, env: Env): Promise<Response> {
      serving ??= start(env);
      let handler: Handler;
      try {
        handler = await serving;
      } catch (e) {
        serving = undefined;
        return Response.json(
          { error: `the model could not be loaded from ${env.MODEL_URL}: ${(e as Error).message}` },
          { status: 503, headers: { 'retry-after': '5' } },
        );
      }
      return handler(request);
    },
  };
}

export default edgeServer();
