/**
 * The part of the onnxruntime-js API (`onnxruntime-common`) that Modelship uses, written out
 * structurally so core depends on no onnxruntime package. `onnxruntime-node` and
 * `onnxruntime-web` both satisfy {@link OnnxRuntime}; each binding passes its module in.
 */
export interface OrtTensor {
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: unknown;
  readonly location?: string;
  getData?(releaseData?: boolean): Promise<unknown>;
  dispose?(): void;
}

export interface OrtValueMetadata {
  readonly name: string;
  readonly isTensor: boolean;
  readonly type?: string;
  readonly shape?: ReadonlyArray<number | string>;
}

export interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata?: readonly OrtValueMetadata[];
  readonly outputMetadata?: readonly OrtValueMetadata[];
  run(feeds: Record<string, OrtTensor>, options?: object): Promise<Record<string, OrtTensor>>;
  run(
    feeds: Record<string, OrtTensor>,
    fetches: readonly string[],
    options?: object,
  ): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}

/**
 * The backend object behind an onnxruntime-common `InferenceSession` (its `handler`):
 * `InferenceSessionHandler`, the interface onnxruntime-common defines for backends. `run` takes
 * the feeds, the outputs to fetch as `{ name: null }` and the run options, already checked.
 */
export interface OrtSessionHandler {
  run(
    feeds: Record<string, OrtTensor>,
    fetches: Record<string, null>,
    options: object,
  ): Promise<Record<string, OrtTensor>>;
}

/** Session options passed through to onnxruntime unchanged. */
export type OrtSessionOptions = Record<string, unknown>;

export interface OnnxRuntime {
  readonly InferenceSession: {
    create(model: Uint8Array, options?: OrtSessionOptions): Promise<OrtSession>;
    create(path: string, options?: OrtSessionOptions): Promise<OrtSession>;
  };
  readonly Tensor: new (type: string, data: unknown, dims: readonly number[]) => OrtTensor;
}
