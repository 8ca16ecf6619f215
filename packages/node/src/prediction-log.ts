/**
 * A JSON Lines log of predictions with size-based rotation: one line per answered request, for
 * audits, offline drift analysis and joining labels later. Lines are buffered for at most
 * `flushMs` and appended in one write; `close` (called on graceful shutdown) writes the rest, so
 * a restart loses nothing that was recorded. Inputs and outputs pass through a log policy
 * (nothing of them is kept unless it says so), and the file can be encrypted at rest.
 */
import { appendFile, mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import {
  createRedactor,
  type Deployer,
  invalidArgument,
  type LogPolicy,
  type PredictionEvent,
  type Redactor,
  type Tensor,
  toNested,
} from '@modelship/core';
import type { KeySource } from '@modelship/core/encryption';
import { keySource } from './decryption';
import { type LogEncryption, sealLines } from './log-encryption';

export interface PredictionLogOptions {
  /** Rotate the current file once it passes this size (default 50 MiB). */
  maxBytes?: number;
  /** Rotated files kept; the oldest are deleted (default 10). */
  maxFiles?: number;
  /** Longest a line waits in memory before it is written (default 200 ms). */
  flushMs?: number;
  /**
   * Also log the request's inputs and outputs, through `policy` (default: true when a policy is
   * given, else false: metadata only).
   */
  tensors?: boolean;
  /**
   * What of the inputs and outputs is written (see `createRedactor`): `inputs.<name>` and
   * `outputs.<name>` address a tensor. Unnamed tensors get the policy's `default`, which is
   * `drop`: `{ default: 'keep' }` logs them all as they are.
   */
  policy?: LogPolicy;
  /**
   * Encrypts the log at rest: the file is `predictions.jsonl.jwe`, each write one compact JWE
   * line (A256KW + A256GCM); `decryptPredictionLog` or `modelship logs decrypt` reads it.
   */
  encryption?: LogEncryption;
  /** Share of predictions logged (default 1). */
  sampleRate?: number;
  /**
   * The file's name in `dir` (default `predictions.jsonl`); rotated files are named after it
   * (`<stem>-<ISO time>.jsonl`), and encrypted it is `<name>.jwe`. Payload logging's file sink
   * writes through this class too.
   */
  file?: string;
}

/**
 * Appends one JSON line per prediction to `<dir>/predictions.jsonl` (or `file`), rotating it to
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
  private readonly redactor: Redactor | undefined;
  private readonly key: KeySource | undefined;
  private readonly file: string;
  private readonly rotated: RegExp;
  private closed = false;
  private failure: unknown;
  private readonly stem: string;
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
    const name = options.file ?? 'predictions.jsonl';
    if (typeof name !== 'string' || !/^[\w.-]+\.jsonl$/.test(name))
      throw invalidArgument('PredictionLog', 'file must be a plain file name ending in .jsonl', name);
    this.stem = name.slice(0, -'.jsonl'.length);
    if (!(this.maxBytes > 0))
      throw invalidArgument('PredictionLog', 'maxBytes must be positive', this.maxBytes);
    if (!Number.isInteger(this.maxFiles) || this.maxFiles < 0)
      throw invalidArgument('PredictionLog', 'maxFiles must be a non-negative integer', this.maxFiles);
    if (options.tensors !== undefined && typeof options.tensors !== 'boolean')
      throw invalidArgument('PredictionLog', 'tensors must be true or false', options.tensors);
    // The policy is checked here, so a mistake in it never surfaces while logging.
    if (options.tensors ?? options.policy !== undefined) this.redactor = createRedactor(options.policy);
    const { encryption } = options;
    if (encryption !== undefined) {
      this.key = keySource(encryption, 'PredictionLog encryption');
      const { kid } = encryption;
      if (kid !== undefined && (typeof kid !== 'string' || kid === ''))
        throw invalidArgument('PredictionLog', 'encryption.kid must be a non-empty string', kid);
    }
    const ext = encryption === undefined ? 'jsonl' : 'jsonl.jwe';
    this.file = `${this.stem}.${ext}`;
    this.rotated = new RegExp(`^${this.stem.replaceAll('.', '\\.')}-.+\\.${ext.replace('.', '\\.')}$`);
  }

  /** The file lines are appended to: `<dir>/predictions.jsonl` (`.jsonl.jwe` when encrypted). */
  get path(): string {
    return join(this.dir, this.file);
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
    const logged = this.redactor === undefined ? line : this.redactor.apply(withTensors(line, e));
    this.append(logged);
  }

  /**
   * Queues one line as it is given (JSON; bigints as strings), unsampled and unredacted: the
   * payload log's file sink writes its events (already redacted) through this.
   */
  append(line: object): void {
    if (this.closed) return;
    this.lines.push(JSON.stringify(line, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      // Kept for close(), which rejects with it: a timer has no caller to tell.
      this.flush().catch((error: unknown) => {
        this.failure ??= error;
      });
    }, this.flushMs);
  }

  /** Writes what is queued, rotating first when the file is full. */
  flush(): Promise<void> {
    this.writing = this.writing.then(async () => {
      if (this.lines.length === 0) return;
      const plain = `${this.lines.join('\n')}\n`;
      const count = this.lines.length;
      this.lines = [];
      let text =
        this.key === undefined ? plain : await sealLines(plain, this.key, this.options.encryption?.kid);
      await mkdir(this.dir, { recursive: true });
      const file = this.path;
      if (this.size < 0) {
        this.size = await stat(file).then(
          (s) => s.size,
          () => 0,
        );
        // A crash mid-append leaves a torn last line: start on a fresh one, so it stays one bad line.
        if (this.size > 0 && (await lastByte(file, this.size)) !== 0x0a) text = `\n${text}`;
      }
      if (this.size > 0 && this.size + Buffer.byteLength(text) > this.maxBytes) {
        await this.rotate();
        text = text.replace(/^\n/, '');
      }
      await appendFile(file, text, { mode: 0o600 });
      this.size += Buffer.byteLength(text);
      this.written += count;
    });
    return this.writing;
  }

  private async rotate(): Promise<void> {
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    await rename(this.path, join(this.dir, this.file.replace(this.stem, `${this.stem}-${stamp}`)));
    this.size = 0;
    const rotated = (await readdir(this.dir)).filter((f) => this.rotated.test(f)).sort();
    for (const f of rotated.slice(0, Math.max(0, rotated.length - this.maxFiles)))
      await unlink(join(this.dir, f));
  }

  /** Writes what is left and stops taking lines. */
  async close(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.closed = true;
    await this.flush();
    if (this.failure !== undefined) throw this.failure;
  }
}

/** The line with the event's inputs and outputs as nested arrays, for the policy to address by name. */
function withTensors(line: Record<string, unknown>, e: PredictionEvent): Record<string, unknown> {
  return {
    ...line,
    inputs: plain(e.inputs),
    ...(e.outputs === undefined ? {} : { outputs: plain(e.outputs) }),
  };
}

async function lastByte(file: string, size: number): Promise<number | undefined> {
  const handle = await open(file, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(1), 0, 1, size - 1);
    return bytesRead === 1 ? buffer[0] : undefined;
  } finally {
    await handle.close();
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
