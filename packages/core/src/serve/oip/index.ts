/**
 * The Open Inference Protocol (KServe V2, spoken by Triton and MLServer) over REST, one room per
 * part: health and metadata, the repository extension, inputs, outputs and inference. This
 * index is what the other fronts (gRPC, the warmup reader) use.
 */
// Routes written against the former single oip.ts import JSON answers from here.
export { json, parseJsonBody, parseJsonValue } from '../json-body';
export { Answered, predictFor } from './infer';
export { collectInputs, decodeInferRequest, findSpec, type InputItem } from './inputs';
export { modelReady, serverReady } from './metadata';
export { refuseClassification, screenHeader } from './outputs';
export { refuseLoadParameters } from './repository';
