/**
 * Maps a routing key to a number in [0, 1), the same on every run, machine and runtime, so that
 * one user keeps seeing the same version (FNV-1a over the UTF-16 code units, then a murmur3
 * finaliser to spread short keys). The deployment name salts the hash, so two deployments split
 * their users independently.
 */
export function routingPoint(key: string, salt: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < salt.length; i++) {
    h ^= salt.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= 0xff;
  h = Math.imul(h, 0x01000193);
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 0x100000000;
}
