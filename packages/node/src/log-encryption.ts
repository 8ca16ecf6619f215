/**
 * The prediction log encrypted at rest. Each append (the lines of one flush) is sealed as one
 * compact JWE (A256KW + A256GCM, a fresh content key each) and written as one line: the file
 * stays append-only, and a crash can tear only the last line, which the reader reports while
 * every line before it (and, once the log starts again on a fresh line, after it) still opens.
 * A chunked stream (`\x89MSENC`) authenticates its length and its last chunk up front, so it
 * cannot grow by appends, and a file cut by a crash opens nowhere past the cut.
 */
import { ModelshipError } from '@modelship/core';
import { decryptModel, encryptModel, type KeySource } from '@modelship/core/encryption';
import { keySource, type NodeKeySource } from './decryption';

/** How a log is encrypted: the 256-bit key-wrapping key (as for encrypted models) and its id. */
export interface LogEncryption {
  /** The key, `(kid) => key`, `{ env: 'NAME' }` or `{ file: 'path' }`. */
  key: NodeKeySource;
  /** Written into each line's JWE header and handed to a key function when reading. */
  kid?: string;
}

/** The environment variable `modelship serve` and `modelship logs decrypt` read the log key from. */
export const DEFAULT_LOG_KEY_ENV = 'MODELSHIP_LOG_KEY';

/** One compact JWE line (with its newline) holding `text`. */
export async function sealLines(text: string, key: KeySource, kid: string | undefined): Promise<string> {
  const sealed = await encryptModel(new TextEncoder().encode(text), {
    key,
    ...(kid === undefined ? {} : { kid }),
  });
  return `${new TextDecoder().decode(sealed)}\n`;
}

/** A line of an encrypted log that did not open. */
export interface DamagedLine {
  /** 1-based line number in the file. */
  line: number;
  code: string;
  message: string;
}

/** What {@link decryptPredictionLog} read. */
export interface DecryptedLog {
  /** The JSON lines, in order, without their newlines. */
  lines: string[];
  /** Lines that did not open: torn by a crash (truncated, malformed) or changed (tampered). */
  damaged: DamagedLine[];
}

/** Failures of one line that do not make the other lines unreadable. */
const LINE_FAULTS = new Set([
  'ENCRYPTED_MODEL_TRUNCATED',
  'ENCRYPTED_MODEL_INVALID',
  'ENCRYPTED_MODEL_TAMPERED',
]);

/**
 * Decrypts an encrypted prediction log (the text of `predictions.jsonl.jwe` or a rotated
 * file). A wrong or missing key throws (`DECRYPTION_KEY_MISMATCH`, `DECRYPTION_KEY_MISSING`):
 * nothing is readable then. A line that does not open (a crash tore it, or it was changed) is
 * listed in `damaged` and the rest are read.
 *
 * @example
 * const { lines } = await decryptPredictionLog(await readFile(file, 'utf8'), { key: { env: 'MODELSHIP_LOG_KEY' } });
 * const records = lines.map((l) => JSON.parse(l));
 */
export async function decryptPredictionLog(
  text: string,
  options: { key: NodeKeySource; source?: string },
): Promise<DecryptedLog> {
  if (typeof text !== 'string')
    throw new ModelshipError(
      'INVALID_ARGUMENT',
      'decryptPredictionLog: text must be the log file as a string',
      {
        details: { where: 'decryptPredictionLog' },
      },
    );
  const key = keySource(options, 'decryptPredictionLog');
  const source = options.source ?? 'the prediction log';
  const lines: string[] = [];
  const damaged: DamagedLine[] = [];
  const rows = text.split('\n');
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!.trim();
    if (row === '') continue;
    try {
      const plain = await decryptModel(new TextEncoder().encode(row), {
        key,
        source: `${source} line ${i + 1}`,
      });
      for (const line of new TextDecoder().decode(plain).split('\n')) if (line !== '') lines.push(line);
    } catch (e) {
      if (!ModelshipError.isInstance(e) || !LINE_FAULTS.has(e.code)) throw e;
      damaged.push({ line: i + 1, code: e.code, message: e.message });
    }
  }
  return { lines, damaged };
}
