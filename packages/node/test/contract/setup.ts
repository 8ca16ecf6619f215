/**
 * What every front of the handler contract serves: the same models under the same names, the
 * same pipeline and the same options. Pure (core only), so a browser page builds it too.
 */
import { type Deployer, impute, type Model, Pipeline, threshold } from '@modelship/core';

/** The one bearer token the contract's handler accepts. */
export const TOKEN = 'contract-token';
/** The one browser origin its CORS settings allow. */
export const ORIGIN = 'https://app.example';
/** Its body limit: small, so a 413 costs little to provoke. */
export const MAX_BODY_BYTES = 16 * 1024;

const fields = Array.from({ length: 12 }, (_, i) => `f${i}`);

/** Twenty made-up rows to fit the records pipeline on: deterministic, no data file. */
export const trainingRecords: Record<string, number>[] = Array.from({ length: 20 }, (_, r) =>
  Object.fromEntries(fields.map((f, i) => [f, ((r * 7 + i * 3) % 11) / 4 - 1])),
);

/** The records pipeline of `fraud_records`: twelve imputed fields into fraud.onnx, a label from its probability. */
export function contractPipeline(): Pipeline {
  return Pipeline.fit(trainingRecords, {
    features: Object.fromEntries(fields.map((f) => [f, impute('mean')])),
    input: 'features',
    output: { probability: 'probability', label: threshold(0.5, ['legit', 'fraud']) },
  });
}

/**
 * What `fraud` explains against (TorchServe's `/explanations`): four of the training rows as rows
 * of numbers, kernel SHAP with a small, seeded budget so a case costs little on wasm too.
 */
export const explainSettings = {
  background: trainingRecords.slice(0, 4).map((r) => fields.map((f) => r[f]!)),
  method: 'kernel' as const,
  nsamples: 64,
  seed: 7,
};

/** The handler options every front is created with (`HandlerOptions` of the serving core). */
export function contractOptions(pipeline: Pipeline) {
  return {
    auth: { tokens: [TOKEN] },
    cors: { origin: [ORIGIN], maxAge: 120 },
    explain: { fraud: explainSettings },
    maxBodyBytes: MAX_BODY_BYTES,
    pipelines: { fraud_records: pipeline },
    serverName: 'contract',
    serverVersion: '1.2.3',
  };
}

/**
 * Deploys fraud.onnx twice, as `fraud` version 3 (tensors) and `fraud_records` version 1 (records
 * through the pipeline), from models the caller loads its own way (onnxruntime-node, -web).
 */
export async function deployContract(deployer: Deployer, load: () => Promise<Model>): Promise<void> {
  await deployer.deploy('fraud', await load(), { version: '3' });
  await deployer.deploy('fraud_records', await load(), { version: '1' });
}
