/**
 * Telling an encrypted model from its first bytes. Kept apart from the ciphers so the model
 * loaders, which only ask "is this encrypted?", do not carry them.
 */

/** The chunked format's magic: "\x89MSENC\r\n" (the PNG trick: text-mode or 7-bit mangling breaks it). */
export const MAGIC = Uint8Array.of(0x89, 0x4d, 0x53, 0x45, 0x4e, 0x43, 0x0d, 0x0a);

/** True when `bytes` open with the chunked format's magic. */
export function isChunked(bytes: Uint8Array): boolean {
  return MAGIC.every((b, i) => bytes[i] === b);
}

/** True when `bytes` look like a compact JWE: base64url of `{"` then a dot-separated token. */
export function isCompactJwe(bytes: Uint8Array): boolean {
  return bytes[0] === 0x65 && bytes[1] === 0x79 && bytes[2] === 0x4a; // "eyJ"
}

/** True when `bytes` open with a JSON object (a JWE in JSON serialization, if anything). */
export function isJsonJwe(bytes: Uint8Array): boolean {
  let i = 0;
  while (i < bytes.length && (bytes[i] === 32 || bytes[i] === 9 || bytes[i] === 10 || bytes[i] === 13)) i++;
  return bytes[i] === 0x7b;
}

/** The formats of encrypted models. `jwe-json` is read, not written. */
export type EncryptionFormat = 'jwe' | 'jwe-json' | 'chunked';

/**
 * Which encrypted format `head` (the first bytes of a file, 12 are enough) is in, or undefined
 * for anything else (an ONNX model, say). A JSON object is taken as a JWE here: call it only on
 * files that are meant to be encrypted.
 */
export function formatOf(head: Uint8Array): EncryptionFormat | undefined {
  if (isChunked(head)) return 'chunked';
  if (isCompactJwe(head)) return 'jwe';
  if (isJsonJwe(head)) return 'jwe-json';
  return undefined;
}
