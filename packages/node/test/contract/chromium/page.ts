/**
 * The page of the Chromium front: it registers the service worker, sends the contract's
 * requests with `fetch` (so they reach the worker as any page's requests do) and runs the same
 * model directly with @modelship/browser for the values to compare.
 */
import { loadModel } from '@modelship/browser';
import { contractPipeline } from '../setup';

interface Sent {
  method: string;
  path: string;
  headers?: Record<string, string>;
  /** Base64, so bytes cross page.evaluate intact. */
  body?: string;
}

const fromBase64 = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

const model = loadModel('/assets/fraud.onnx');
const records = model.then((m) => contractPipeline().wrap(m));

async function ready(): Promise<void> {
  await navigator.serviceWorker.register('/service-worker.js', { type: 'module' });
  await navigator.serviceWorker.ready;
  // The worker claims this page when it activates; until then requests would go to the network.
  if (navigator.serviceWorker.controller === null)
    await new Promise((resolve) =>
      navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true }),
    );
  await model;
}

async function send(r: Sent) {
  const res = await fetch(r.path, {
    method: r.method,
    ...(r.headers === undefined ? {} : { headers: r.headers }),
    ...(r.body === undefined ? {} : { body: fromBase64(r.body) }),
  });
  const headers: Record<string, string> = {};
  res.headers.forEach((v, k) => {
    headers[k] = v;
  });
  return { status: res.status, headers, body: toBase64(new Uint8Array(await res.arrayBuffer())) };
}

async function predict(rows: number[][]) {
  const out = await (await model).predict({
    features: { dtype: 'float32', shape: [rows.length, 12], data: Float32Array.from(rows.flat()) },
  });
  return {
    probability: [...(out.probability!.data as Float32Array)],
    label: [...(out.label!.data as BigInt64Array)].map(Number),
  };
}

async function predictRecords(list: Record<string, unknown>[]) {
  return (await records).predict(list as never);
}

(globalThis as unknown as { contract: unknown }).contract = { ready: ready(), send, predict, predictRecords };
