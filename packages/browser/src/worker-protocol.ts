/**
 * Messages between a page and the Web Worker that holds a model's session (`worker: true`).
 * Tensors travel by structured clone; output buffers are transferred back, not copied.
 */
import type { ErrorCode, ModelSignature, NamedTensors } from '@modelship/core';

export type ToWorker =
  | {
      type: 'load';
      bytes: Uint8Array;
      name: string;
      version: string;
      provider: string;
      numThreads: number;
      sessionOptions: Record<string, unknown>;
    }
  | { type: 'predict'; id: number; inputs: NamedTensors; outputs: readonly string[] | undefined }
  | { type: 'dispose' };

export interface SerializedError {
  code: ErrorCode | undefined;
  name: string;
  message: string;
  details: Record<string, unknown> | undefined;
}

export type FromWorker =
  | { type: 'loaded'; signature: ModelSignature }
  | { type: 'result'; id: number; outputs: NamedTensors }
  | { type: 'failed'; id: number | undefined; error: SerializedError }
  | { type: 'disposed' };
