/**
 * HMAC-SHA-256 (RFC 2104) over core's plain-TypeScript {@link Sha256}: synchronous, so a log
 * line can be redacted where it is written, on any platform (WebCrypto's `sign` is async).
 */
import { Sha256 } from './sha256';

const BLOCK = 64;

/**
 * A keyed SHA-256 that reuses its key schedule: the padded inner and outer keys are computed
 * once and each {@link HmacSha256.mac} costs two hashes of the message plus one block.
 *
 * @example
 * const mac = new HmacSha256(new TextEncoder().encode('a 32-byte secret key ............'));
 * mac.mac(new TextEncoder().encode('alice@example.com')); // 32 bytes
 */
export class HmacSha256 {
  private readonly inner = new Uint8Array(BLOCK);
  private readonly outer = new Uint8Array(BLOCK);

  constructor(key: Uint8Array) {
    // Keys longer than a block are hashed first (RFC 2104 §2).
    const k = key.length > BLOCK ? sha256(key) : key;
    for (let i = 0; i < BLOCK; i++) {
      const b = k[i] ?? 0;
      this.inner[i] = b ^ 0x36;
      this.outer[i] = b ^ 0x5c;
    }
  }

  /** The 32-byte MAC of `message`. */
  mac(message: Uint8Array): Uint8Array {
    const inner = new Sha256();
    inner.update(this.inner);
    inner.update(message);
    const outer = new Sha256();
    outer.update(this.outer);
    outer.update(inner.digest());
    return outer.digest();
  }
}

function sha256(bytes: Uint8Array): Uint8Array {
  const h = new Sha256();
  h.update(bytes);
  return h.digest();
}
