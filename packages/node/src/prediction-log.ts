/**
 * A JSON Lines log of predictions with size-based rotation: one line per answered request, for
 * audits, offline drift analysis and joining labels later. Lines are buffered for at most
 * `flushMs` and appended in one write; `close` (called on graceful shutdown) writes the rest, so
 * a restart loses nothing that was recorded.
 */
import { appendFile, mkdir, readdir, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { type Deployer, invalidArgument, type PredictionEvent, type Tensor, toNested } from '@modelship/core';

export interface PredictionLogOptions {
  /** Rotate the current file once it passes this size (default 50 MiB). */
  maxBytes?: number;
  /** Rotated files kept; the oldest are deleted (default 10). */
  maxFiles?: number;
  /** Longest a line waits in memory before it is written (default 200 ms). */
  flushMs?: number;
  /** Also log the request's inputs and outputs (default false: metadata only). */
  tensors?: boolean;
  /** Share of predictions logged (default 1). */
  sampleRate?: number;
}

const FILE = 'predictions.jsonl';

/**
 * Appends one JSON line per prediction to `<dir>/predictions.jsonl`, rotating it to
 * `predictions-<ISO time>.jsonl` past `maxBytes`.
 *
 * @example
 * const log = new PredictionLog('/var/log/modelship');
 * log.attach(deployer);
 * process.on('SIGTERM', () => log.close());
 */
export class PredictionLog {
  private lines: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private size = -1;
  private readonly maxBytes: number;
  private readonly maxFiles: number;
  private readonly flushMs: number;
  private closed = false;
  /** Lines written so far (for tests and status). */
  written = 0;

  constructor(
    readonly dir: string,
    private readonly options: PredictionLogOptions = {},
  ) {
    if (typeof dir !== 'string' || dir === '')
      throw invalidArgument('PredictionLog', 'dir must be a directory path', dir);
    this.maxBytes = options.maxBytes ?? 50 * 1024 * 1024;
    this.maxFiles = options.maxFiles ?? 10;
    this.flushMs = options.flushMs ?? 200;
    if (!(this.maxBytes > 0))
      throw invalidArgument('PredictionLog', 'maxBytes must be positive', this.maxBytes);
    if (!Number.isInteger(this.maxFiles) || this.maxFiles < 0)
      throw invalidArgument('PredictionLog', 'maxFiles must be a non-negative integer', this.maxFiles);
  }

  /** Logs every request a Deployer answers; returns a function that stops. */
  attach(deployer: Deployer): () => void {
    const listener = (e: PredictionEvent): void => {
      if (e.kind === 'serve') this.write(e);
    };
    deployer.on('prediction', listener);
    return () => deployer.off('prediction', listener);
  }

  /** Queues one prediction's line. */
  write(e: PredictionEvent): void {
    if (this.closed) return;
    const rate = this.options.sampleRate ?? 1;
    if (rate < 1 && Math.random() >= rate) return;
    const code = (e.error as { code?: unknown } | undefined)?.code;
    const line: Record<string, unknown> = {
      time: new Date().toISOString(),
      model: e.name,
      version: e.version,
      latencyMs: Math.round(e.latencyMs * 1000) / 1000,
      queueMs: Math.round(e.queueMs * 1000) / 1000,
      batchSize: e.batchSize,
      ...(e.routingKey === undefined ? {} : { routingKey: e.routingKey }),
      ...(e.error === undefined ? {} : { error: typeof code === 'string' ? code : String(e.error) }),
    };
    if (this.options.tensors === true) {
      line.inputs = plain(e.inputs);
      if (e.outputs !== undefined) line.outputs = plain(e.outputs);
    }
    this.lines.push(JSON.stringify(line, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.flushMs);
  }

  /** Writes what is queued, rotating first when the file is full. */
  flush(): Promise<void> {
    this.writing = this.writing.then(async () => {
      if (this.lines.length === 0) return;
      const text = `${this.lines.join('\n')}\n`;
      const count = this.lines.length;
      this.lines = [];
      await mkdir(this.dir, { recursive: true });
      const file = join(this.dir, FILE);
      if (this.size < 0)
        this.size = await stat(file).then(
          (s) => s.size,
          () => 0,
        );
      if (this.size > 0 && this.size + Buffer.byteLength(text) > this.maxBytes) await this.rotate();
      await appendFile(file, text);
      this.size += Buffer.byteLength(text);
      this.written += count;
    });
    return this.writing;
  }

  private async rotate(): Promise<void> {
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    await rename(join(this.dir, FILE), join(this.dir, `predictions-${stamp}.jsonl`));
    this.size = 0;
    const rotated = (await readdir(this.dir)).filter((f) => /^predictions-.+\.jsonl$/.test(f)).sort();
    for (const f of rotated.slice(0, Math.max(0, rotated.length - this.maxFiles)))
      await unlink(join(this.dir, f));
  }

  /** Writes what is left and stops taking lines. */
  async close(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
    this.closed = true;
  }
}

function plain(tensors: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(tensors)) {
    const t = v as Tensor;
    out[k] = t !== null && typeof t === 'object' && 'dtype' in t && 'shape' in t ? toNested(t) : v;
  }
  return out;
}
