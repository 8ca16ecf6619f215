/**
 * Where payload events go: an HTTP collector (CloudEvents, binary mode), sent in the background
 * from a bounded queue, or a rotated JSON Lines file. Neither ever blocks or fails a request:
 * what cannot be kept is dropped and counted.
 */
import { basename, dirname, resolve } from 'node:path';
import { invalidArgument } from '@modelship/core';
import { PredictionLog, type PredictionLogOptions } from '../prediction-log';
import { binaryMessage, jsonText, type PayloadEvent, structuredEvent } from './cloudevents';

/** Counts a sink keeps, exposed on `/metrics`. */
export interface PayloadSinkStats {
  /** Events delivered (a 2xx answer, or written to the file). */
  sent: number;
  /** Events dropped because the queue was full, by count or bytes (the oldest go first). */
  dropped: number;
  /** Events given up on after every retry, or left when `close` ran out of time. */
  failed: number;
  /** Events waiting now. */
  queued: number;
}

/** A destination for payload events. */
export interface PayloadSink {
  /** `http` or `file`, the `sink` label of the metrics. */
  readonly kind: string;
  /** Queues an event; never throws, never waits. */
  send(event: PayloadEvent): void;
  stats(): PayloadSinkStats;
  /** Sends what it can within `limitMs`, then stops; later events are ignored. */
  close(limitMs?: number): Promise<void>;
}

export interface HttpSinkOptions {
  /** Events held while the collector is slow or down; past it the oldest are dropped (default 1000). */
  maxQueue?: number;
  /**
   * Bytes of event bodies held at most (default 64 MiB): large tensors kept by a policy cannot
   * fill memory either; past it the oldest are dropped, and an event larger alone is dropped.
   */
  maxQueueBytes?: number;
  /** POSTs in flight at once (default 4). */
  concurrency?: number;
  /**
   * Events per POST (default 1: binary content mode, one event per request, as KServe sends).
   * Above 1, a sender takes up to this many queued events and POSTs them in the HTTP binding's
   * batched content mode (`application/cloudevents-batch+json`, a JSON array of events in the
   * JSON format), which the binding allows only where the collector asked for it.
   */
  maxBatch?: number;
  /** A POST that has not answered by then is aborted and retried (default 5000 ms). */
  timeoutMs?: number;
  /** Retries of an event after a network error, a timeout, 429 or 5xx (default 3). */
  retries?: number;
  /** First retry delay, doubled each time, with jitter (default 100 ms, at most 5000 ms). */
  backoffMs?: number;
  /** Extra headers on every POST (an `authorization` for the collector). */
  headers?: Readonly<Record<string, string>>;
  /** The fetch to use (default the global one); tests and proxies pass their own. */
  fetch?: typeof fetch;
}

function positiveInt(where: string, name: string, v: number, min = 1): number {
  if (!Number.isSafeInteger(v) || v < min)
    throw invalidArgument(where, `${name} must be an integer of at least ${min}`, v);
  return v;
}

/**
 * POSTs each event to `url` as a CloudEvent in binary content mode, as KServe's logger does,
 * from a bounded queue drained by a few background senders. KServe's logger blocks the request
 * when its queue of 100 is full; this drops the oldest event instead and counts it.
 *
 * @example
 * const sink = new HttpPayloadSink('http://collector.internal/events');
 * createServer(deployer, { payloadLog: { mode: 'all', sinks: [sink] } });
 */
export class HttpPayloadSink implements PayloadSink {
  readonly kind = 'http';
  private readonly queue: Message[] = [];
  private queuedBytes = 0;
  /** Index of the queue's head: shifting an array per event costs O(n). */
  private head = 0;
  private active = 0;
  private closing = false;
  private readonly stop = new AbortController();
  private readonly counts = { sent: 0, dropped: 0, failed: 0 };
  private readonly idle: (() => void)[] = [];
  private readonly maxQueue: number;
  private readonly maxQueueBytes: number;
  private readonly concurrency: number;
  private readonly maxBatch: number;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly fetch: typeof fetch;

  constructor(
    readonly url: string,
    private readonly options: HttpSinkOptions = {},
  ) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw invalidArgument('HttpPayloadSink', 'url must be an absolute http(s) URL', url);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      throw invalidArgument('HttpPayloadSink', 'url must be an http or https URL', url);
    this.maxQueue = positiveInt('HttpPayloadSink', 'maxQueue', options.maxQueue ?? 1000);
    this.maxQueueBytes = positiveInt(
      'HttpPayloadSink',
      'maxQueueBytes',
      options.maxQueueBytes ?? 64 * 1024 * 1024,
    );
    this.concurrency = positiveInt('HttpPayloadSink', 'concurrency', options.concurrency ?? 4);
    this.maxBatch = positiveInt('HttpPayloadSink', 'maxBatch', options.maxBatch ?? 1);
    this.retries = positiveInt('HttpPayloadSink', 'retries', options.retries ?? 3, 0);
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.backoffMs = options.backoffMs ?? 100;
    if (!(this.timeoutMs > 0))
      throw invalidArgument('HttpPayloadSink', 'timeoutMs must be positive', this.timeoutMs);
    if (!(this.backoffMs >= 0))
      throw invalidArgument('HttpPayloadSink', 'backoffMs must be non-negative', this.backoffMs);
    if (options.fetch !== undefined && typeof options.fetch !== 'function')
      throw invalidArgument('HttpPayloadSink', 'fetch must be a function', options.fetch);
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  send(event: PayloadEvent): void {
    if (this.closing) return;
    const message = (
      this.maxBatch === 1
        ? binaryMessage(event)
        : { headers: BATCH_HEADERS, body: jsonText(structuredEvent(event)) }
    ) as Message;
    message.bytes = Buffer.byteLength(message.body);
    if (message.bytes > this.maxQueueBytes) {
      this.counts.dropped++;
      return;
    }
    while (
      this.queue.length - this.head >= this.maxQueue ||
      this.queuedBytes + message.bytes > this.maxQueueBytes
    ) {
      this.next();
      this.counts.dropped++;
    }
    this.queue.push(message);
    this.queuedBytes += message.bytes;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    if (this.active < this.concurrency) {
      this.active++;
      // Off the request's path: the sender starts on a later turn of the event loop.
      setImmediate(() => void this.drainQueue());
    }
  }

  stats(): PayloadSinkStats {
    return { ...this.counts, queued: this.queue.length - this.head };
  }

  private next(): Message | undefined {
    if (this.head >= this.queue.length) return undefined;
    const e = this.queue[this.head]!;
    this.queuedBytes -= e.bytes;
    this.queue[this.head++] = undefined as never;
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    }
    return e;
  }

  /** One sender: takes events (a batch at a time) until the queue is empty. */
  private async drainQueue(): Promise<void> {
    try {
      for (let e = this.next(); e !== undefined; e = this.next()) {
        let count = 1;
        let message = e;
        if (this.maxBatch > 1) {
          const bodies = [e.body];
          for (let more = this.next(); more !== undefined; more = this.next()) {
            bodies.push(more.body);
            if (bodies.length === this.maxBatch) break;
          }
          count = bodies.length;
          message = { headers: { ...BATCH_HEADERS }, body: `[${bodies.join(',')}]`, bytes: 0 };
        }
        if (await this.deliver(message)) this.counts.sent += count;
        else this.counts.failed += count;
      }
    } finally {
      this.active--;
      if (this.active === 0) for (const done of this.idle.splice(0)) done();
    }
  }

  /** POSTs one event, retrying with backoff; true once a 2xx answers. */
  private async deliver({ headers, body }: Message): Promise<boolean> {
    if (this.options.headers !== undefined) headers = { ...headers, ...this.options.headers };
    for (let attempt = 0; ; attempt++) {
      if (this.stop.signal.aborted) return false;
      let retry: boolean;
      try {
        const res = await this.fetch(this.url, {
          method: 'POST',
          headers,
          body,
          signal: AbortSignal.any([this.stop.signal, AbortSignal.timeout(this.timeoutMs)]),
        });
        // The body is not read: the connection can go back to the pool.
        await res.body?.cancel().catch(() => {});
        if (res.ok) return true;
        retry = res.status === 429 || res.status >= 500;
      } catch {
        retry = true;
      }
      if (!retry || attempt >= this.retries) return false;
      const wait = Math.min(5000, this.backoffMs * 2 ** attempt) * (0.5 + Math.random() / 2);
      await sleep(wait, this.stop.signal);
    }
  }

  /**
   * Stops taking events and sends what is queued, for at most `limitMs` (default 5000); what is
   * left then is aborted and counted as failed.
   */
  async close(limitMs = 5000): Promise<void> {
    this.closing = true;
    if (this.active > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.idle.push(resolve)),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, limitMs);
        }),
      ]);
      clearTimeout(timer);
    }
    this.stop.abort();
    this.counts.failed += this.queue.length - this.head;
    this.queue.length = 0;
    this.head = 0;
    this.queuedBytes = 0;
    // Senders caught mid-POST count their event as failed when the abort reaches them.
    if (this.active > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
  }
}

const BATCH_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'application/cloudevents-batch+json; charset=utf-8',
};

/** An event as it is POSTed (or, batching, one element of the batch), serialized when queued so the queue's bytes are known. */
interface Message {
  headers: Record<string, string>;
  body: string;
  bytes: number;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    timer.unref();
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Appends each event as one line of JSON (a CloudEvent in the JSON event format) to `path`,
 * rotated by size as the prediction log is, by the same code ({@link PredictionLog}).
 */
export class FilePayloadSink implements PayloadSink {
  readonly kind = 'file';
  readonly log: PredictionLog;

  /**
   * @param path the `.jsonl` file; encrypted (`encryption`, as the prediction log's), lines go
   *   to `<path>.jwe`, which `decryptPredictionLog` reads.
   */
  constructor(
    path: string,
    options: Pick<PredictionLogOptions, 'maxBytes' | 'maxFiles' | 'flushMs' | 'encryption'> = {},
  ) {
    if (typeof path !== 'string' || !path.endsWith('.jsonl'))
      throw invalidArgument('FilePayloadSink', 'path must name a .jsonl file', path);
    const full = resolve(path);
    this.log = new PredictionLog(dirname(full), { ...options, file: basename(full) });
  }

  send(event: PayloadEvent): void {
    this.log.append(structuredEvent(event));
  }

  stats(): PayloadSinkStats {
    return { sent: this.log.written, dropped: 0, failed: this.failed, queued: 0 };
  }

  private failed = 0;

  /** Writes what is buffered; a failed write is counted, not thrown at the server's shutdown. */
  close(): Promise<void> {
    return this.log.close().catch(() => {
      this.failed++;
    });
  }
}
