import { ModelLoadError } from '../errors';

/** A file that is not a well-formed encrypted model (or uses what Modelship does not implement). */
export function malformed(source: string, what: string): ModelLoadError {
  return new ModelLoadError('ENCRYPTED_MODEL_INVALID', `${source}: ${what}`, { details: { source } });
}

/** A file that ends before its last part. */
export function truncated(source: string, what: string): ModelLoadError {
  return new ModelLoadError('ENCRYPTED_MODEL_TRUNCATED', `${source} is truncated: ${what}`, {
    details: { source },
  });
}

/** AES key unwrap failed: RFC 3394's integrity check tells a wrong key-wrapping key. */
export function wrongKey(source: string, kid: string | undefined, cause: unknown): ModelLoadError {
  return new ModelLoadError(
    'DECRYPTION_KEY_MISMATCH',
    `${source}: the key${kid === undefined ? '' : ` given for kid '${kid}'`} does not unwrap the file's content key (a wrong key, or the wrapped key was altered); nothing was loaded`,
    { cause, details: { source, kid } },
  );
}

/** The content key unwrapped, but an AES-GCM tag did not verify: the bytes were changed. */
export function tampered(source: string, where: string, cause: unknown): ModelLoadError {
  return new ModelLoadError(
    'ENCRYPTED_MODEL_TAMPERED',
    `${source}: the authentication tag of ${where} does not verify: the ciphertext, its header or its tag was changed; nothing was loaded`,
    { cause, details: { source } },
  );
}
