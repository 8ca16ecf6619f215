/**
 * The fronts of the handler contract that run in Node: how a request reaches the handler over
 * HTTP (node:http, Express, Fastify, Hono) or as a `Request` (the fetch handler, no server).
 */
import { request as httpRequest } from 'node:http';
import { Deployer, loadModel, type Model, toArray } from '@modelship/node';
import { modelPath } from '../fixtures';
import type { ContractAnswer, ContractRequest, FraudOutputs, Front } from './cases';
import { contractOptions, contractPipeline, deployContract } from './setup';

/** Sends a request over HTTP/1.1 to 127.0.0.1:port, on a connection of its own. */
export function sendHttp(port: number, r: ContractRequest): Promise<ContractAnswer> {
  const body = typeof r.body === 'string' ? new TextEncoder().encode(r.body) : r.body;
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: r.method,
        path: r.path,
        agent: false,
        headers: {
          ...r.headers,
          ...(body === undefined ? {} : { 'content-length': String(body.byteLength) }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers))
            if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
          resolve({ status: res.statusCode!, headers, body: new Uint8Array(Buffer.concat(chunks)) });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A `Request` as a client would build it, and its `Response` read whole. */
export async function sendFetch(
  fetchHandler: (request: Request) => Promise<Response>,
  r: ContractRequest,
): Promise<ContractAnswer> {
  const response = await fetchHandler(
    new Request(`http://contract.test${r.path}`, {
      method: r.method,
      ...(r.headers === undefined ? {} : { headers: r.headers }),
      ...(r.body === undefined ? {} : { body: r.body as NonNullable<RequestInit['body']> }),
    }),
  );
  const headers: Record<string, string> = {};
  response.headers.forEach((v, k) => {
    headers[k] = v;
  });
  return { status: response.status, headers, body: new Uint8Array(await response.arrayBuffer()) };
}

/** What every Node front shares: the deployed models, the handler options and the direct model. */
export interface NodeSubject {
  deployer: Deployer;
  options: ReturnType<typeof contractOptions>;
  direct: Pick<Front, 'predict' | 'predictRecords'>;
  close(): Promise<void>;
}

export async function nodeSubject(): Promise<NodeSubject> {
  const load = () => loadModel(modelPath('fraud'));
  const deployer = new Deployer();
  const pipeline = contractPipeline();
  let model: Model | undefined;
  try {
    await deployContract(deployer, load);
    model = await load();
  } catch (e) {
    await deployer.close();
    throw e;
  }
  const m = model;
  const wrapped = pipeline.wrap(m);
  return {
    deployer,
    options: contractOptions(pipeline),
    direct: {
      async predict(rows: number[][]): Promise<FraudOutputs> {
        const out = await m.predict({
          features: { dtype: 'float32', shape: [rows.length, 12], data: Float32Array.from(rows.flat()) },
        });
        return {
          probability: [...(out.probability!.data as Float32Array)],
          label: (toArray(out.label!) as bigint[]).map(Number),
        };
      },
      predictRecords: (records) => wrapped.predict(records as never),
    },
    async close() {
      await deployer.close();
      await m.dispose();
    },
  };
}
