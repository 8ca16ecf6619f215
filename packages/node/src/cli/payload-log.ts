/**
 * `modelship serve --log-payload …`: payload logging's flags (and --config keys) as the
 * handler's `payloadLog` option.
 */
import { readFile } from 'node:fs/promises';
import { ModelshipError } from '@modelship/core';
import { type PayloadLogMode, type PayloadLogOptions, parseLogPolicy } from '../payload-log/payload-log';
import { FilePayloadSink, HttpPayloadSink, type PayloadSink } from '../payload-log/sinks';
import type { PredictionLogOptions } from '../prediction-log';
import { UsageError } from './errors';
import { mustExist } from './files';
import { withEnvHashKey } from './log-options';

export interface PayloadLogFlags {
  logPayload?: string;
  logPayloadUrl?: string;
  logPayloadFile?: string;
  logPayloadSample?: string;
  logPayloadPolicy?: string;
}

/** The flags' help, shared by commander and the docs' tests. */
export const PAYLOAD_LOG_HELP = {
  mode: 'log inference requests and responses as KServe does: request, response or all (default all when a sink is given); without --log-payload-policy only metadata is logged (id, model, version, time, status, latency, sizes, tensor names and shapes), no input or output values',
  url: 'POST each event to this collector as a CloudEvent (binary mode, ce-type org.kubeflow.serving.inference.request/.response), in the background: never slows or fails inference',
  file: 'append each event as a CloudEvent JSON line to this .jsonl file (rotated at 50 MiB; with --log-key-file or --log-key-env, encrypted as <path>.jwe)',
  sample: 'share of requests logged, from 0 to 1 (default 1)',
  policy:
    'a JSON log policy: {"fields": {"inputs.amount": "keep", "records.*.email": "hash"}, "default": "drop", "hashKey": "..."}; the key may instead come from $MODELSHIP_LOG_HASH_KEY',
};

/** Payload logging from the flags, or undefined when none is given. */
export async function payloadLogFromFlags(
  flags: PayloadLogFlags,
  encryption?: PredictionLogOptions['encryption'],
): Promise<PayloadLogOptions | undefined> {
  const { logPayload, logPayloadUrl, logPayloadFile, logPayloadSample, logPayloadPolicy } = flags;
  if (
    [logPayload, logPayloadUrl, logPayloadFile, logPayloadSample, logPayloadPolicy].every(
      (v) => v === undefined,
    )
  )
    return undefined;
  if (logPayloadUrl === undefined && logPayloadFile === undefined)
    throw new UsageError(
      'payload logging needs a sink: --log-payload-url <collector> or --log-payload-file <path.jsonl>',
    );
  const mode = logPayload ?? 'all';
  if (!['request', 'response', 'all'].includes(mode))
    throw new UsageError(`--log-payload must be request, response or all, not '${mode}'`);
  let sampleRate: number | undefined;
  if (logPayloadSample !== undefined) {
    sampleRate = Number(logPayloadSample);
    if (logPayloadSample.trim() === '' || !(sampleRate >= 0 && sampleRate <= 1))
      throw new UsageError(`--log-payload-sample must be a number from 0 to 1, not '${logPayloadSample}'`);
  }
  let policy: PayloadLogOptions['policy'];
  if (logPayloadPolicy !== undefined) {
    await mustExist(logPayloadPolicy, '--log-payload-policy');
    let raw: unknown;
    try {
      raw = JSON.parse(await readFile(logPayloadPolicy, 'utf8'));
    } catch (e) {
      throw new UsageError(`--log-payload-policy ${logPayloadPolicy}: ${(e as Error).message}`);
    }
    raw = withEnvHashKey(raw);
    try {
      policy = parseLogPolicy(raw, `--log-payload-policy ${logPayloadPolicy}`);
    } catch (e) {
      throw ModelshipError.isInstance(e) ? new UsageError(e.message) : e;
    }
  }
  const sinks: PayloadSink[] = [];
  try {
    if (logPayloadUrl !== undefined) sinks.push(new HttpPayloadSink(logPayloadUrl));
    if (logPayloadFile !== undefined)
      sinks.push(new FilePayloadSink(logPayloadFile, encryption === undefined ? {} : { encryption }));
  } catch (e) {
    throw ModelshipError.isInstance(e)
      ? new UsageError(
          `${logPayloadUrl !== undefined && sinks.length === 0 ? '--log-payload-url' : '--log-payload-file'}: ${e.message}`,
        )
      : e;
  }
  return {
    mode: mode as PayloadLogMode,
    sinks,
    ...(sampleRate === undefined ? {} : { sampleRate }),
    ...(policy === undefined ? {} : { policy }),
  };
}
