/**
 * A service worker that serves the handler contract's models from onnxruntime-web through
 * core's fetch handler: the page's requests to the protocols never leave the browser.
 */
import { loadModel } from '@modelship/browser';
import { Deployer } from '@modelship/core';
import { createFetchHandler } from '@modelship/core/serve';
import { contractOptions, contractPipeline, deployContract } from '../setup';

/** The part of a service worker's global scope this one uses (no WebWorker lib in this tsconfig). */
interface FetchEventLike {
  request: Request;
  respondWith(answer: Promise<Response>): void;
}
interface WorkerScope {
  location: { origin: string };
  skipWaiting(): Promise<void>;
  clients: { claim(): Promise<void> };
  addEventListener(
    type: 'install' | 'activate',
    listener: (e: { waitUntil(p: Promise<unknown>): void }) => void,
  ): void;
  addEventListener(type: 'fetch', listener: (e: FetchEventLike) => void): void;
}
const scope = self as unknown as WorkerScope;

/**
 * The app's own files, which the worker leaves to the network; everything else is the handler's.
 * The model file is not under /models/: that is TorchServe's management API here.
 */
const FILES = /^\/($|index\.html$|page\.js$|service-worker\.js$|assets\/|ort-)/;

const handler = (async () => {
  const deployer = new Deployer();
  await deployContract(deployer, () => loadModel('/assets/fraud.onnx'));
  return createFetchHandler(deployer, contractOptions(contractPipeline()));
})();

scope.addEventListener('install', (e) => e.waitUntil(scope.skipWaiting()));
scope.addEventListener('activate', (e) => e.waitUntil(scope.clients.claim()));
scope.addEventListener('fetch', (e) => {
  const url = new URL(e.request.url);
  if (url.origin !== scope.location.origin || FILES.test(url.pathname)) return;
  e.respondWith(handler.then((fetch) => fetch(e.request) as Promise<Response>));
});
