/**
 * base64url without padding (RFC 7515 §2), as JOSE writes every binary field. Decoding works on
 * byte ranges, so a multi-gigabyte compact JWE is decoded from the file's bytes without first
 * becoming a string.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** Each character's value, -1 outside the alphabet; standard base64's `+` and `/` too, for keys pasted from `openssl rand -base64 32`. */
const VALUE = /* @__PURE__ */ Int16Array.from({ length: 256 }, (_, c) =>
  c === 43 ? 62 : c === 47 ? 63 : ALPHABET.indexOf(String.fromCharCode(c)),
);

const CODE = /* @__PURE__ */ Uint8Array.from(ALPHABET, (c) => c.charCodeAt(0));

/** Characters of the unpadded base64url of `n` bytes. */
export function base64UrlLength(n: number): number {
  return Math.floor(n / 3) * 4 + [0, 2, 3][n % 3]!;
}

/**
 * Writes the unpadded base64url of `bytes` into `out` at `at` as ASCII, returning the end: a
 * ciphertext of gigabytes never becomes a string (V8 strings stop near 512 MiB).
 */
export function encodeBase64UrlInto(bytes: Uint8Array, out: Uint8Array, at: number): number {
  let o = at;
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out[o++] = CODE[n >> 18]!;
    out[o++] = CODE[(n >> 12) & 63]!;
    out[o++] = CODE[(n >> 6) & 63]!;
    out[o++] = CODE[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest > 0) {
    const n = (bytes[i]! << 16) | (rest === 2 ? bytes[i + 1]! << 8 : 0);
    out[o++] = CODE[n >> 18]!;
    out[o++] = CODE[(n >> 12) & 63]!;
    if (rest === 2) out[o++] = CODE[(n >> 6) & 63]!;
  }
  return o;
}

/** base64url of `bytes`, unpadded, as a string (for headers and keys). */
export function encodeBase64Url(bytes: Uint8Array): string {
  const out = new Uint8Array(base64UrlLength(bytes.length));
  encodeBase64UrlInto(bytes, out, 0);
  return String.fromCharCode(...out);
}

/**
 * Decodes the base64url (or base64) characters `text[from..to)`; `undefined` when one is outside
 * the alphabet or the length cannot be base64 (one character left over). Padding `=` is allowed
 * only at the very end, for keys written by tools that pad. `room` bytes are left free after the
 * decoded ones (the result is that much longer), where a caller appends a tag without a copy.
 */
export function decodeBase64Url(
  text: Uint8Array | string,
  from = 0,
  to = text.length,
  room = 0,
): Uint8Array | undefined {
  const at = typeof text === 'string' ? (i: number) => text.charCodeAt(i) : (i: number) => text[i]!;
  let end = to;
  while (end > from && to - end < 2 && at(end - 1) === 61) end--; // '='
  const length = end - from;
  if (length % 4 === 1) return undefined;
  const out = new Uint8Array(Math.floor((length * 3) / 4) + room);
  let o = 0;
  let i = from;
  for (; i + 3 < end; i += 4) {
    const a = VALUE[at(i) & 255]!;
    const b = VALUE[at(i + 1) & 255]!;
    const c = VALUE[at(i + 2) & 255]!;
    const d = VALUE[at(i + 3) & 255]!;
    if ((a | b | c | d) < 0 || at(i) > 255 || at(i + 1) > 255 || at(i + 2) > 255 || at(i + 3) > 255)
      return undefined;
    const n = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = n >> 16;
    out[o++] = (n >> 8) & 255;
    out[o++] = n & 255;
  }
  const rest = end - i;
  if (rest > 0) {
    const a = VALUE[at(i) & 255]!;
    const b = VALUE[at(i + 1) & 255]!;
    const c = rest === 3 ? VALUE[at(i + 2) & 255]! : 0;
    if ((a | b | c) < 0 || at(i) > 255 || at(i + 1) > 255 || (rest === 3 && at(i + 2) > 255))
      return undefined;
    const n = (a << 18) | (b << 12) | (c << 6);
    out[o++] = n >> 16;
    if (rest === 3) out[o++] = (n >> 8) & 255;
  }
  return out;
}
