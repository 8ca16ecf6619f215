import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { computeIntegrity, parseIntegrity, toBase64, verifyIntegrity } from './integrity';

const bytes = new TextEncoder().encode('model bytes');
const sri = (alg: string, data: Uint8Array) => `${alg}-${createHash(alg).update(data).digest('base64')}`;

describe('integrity', () => {
  it('computes the same SRI string as Node’s crypto', async () => {
    expect(await computeIntegrity(bytes)).toBe(sri('sha256', bytes));
    expect(await computeIntegrity(bytes, 'sha512')).toBe(sri('sha512', bytes));
  });

  it('encodes base64 like Buffer for every length remainder', () => {
    for (let n = 0; n < 70; n++) {
      const b = Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) & 0xff);
      expect(toBase64(b)).toBe(Buffer.from(b).toString('base64'));
    }
  });

  it('accepts a matching hash and refuses a mismatch naming both hashes', async () => {
    await expect(verifyIntegrity(bytes, sri('sha256', bytes))).resolves.toBeUndefined();
    const other = sri('sha256', new Uint8Array([1]));
    await expect(verifyIntegrity(bytes, other, { source: 'fraud.onnx' })).rejects.toMatchObject({
      code: 'INTEGRITY_MISMATCH',
      message: `integrity check failed for 'fraud.onnx': expected ${other}, but the bytes hash to ${sri('sha256', bytes)}`,
    });
  });

  it('uses only the strongest algorithm listed, as browsers do', async () => {
    const weakGood = sri('sha256', bytes);
    const strongBad = sri('sha512', new Uint8Array([1]));
    await expect(verifyIntegrity(bytes, `${weakGood} ${strongBad}`)).rejects.toMatchObject({
      code: 'INTEGRITY_MISMATCH',
    });
    await expect(verifyIntegrity(bytes, `${strongBad} ${sri('sha512', bytes)}`)).resolves.toBeUndefined();
    expect(parseIntegrity(`${weakGood} ${strongBad}`).map((h) => h.algorithm)).toEqual(['sha512']);
  });

  it('refuses malformed integrity strings with INVALID_ARGUMENT', () => {
    for (const bad of ['', 'md5-abc', 'sha256-', 'sha256-abc', 'sha256:' + 'A'.repeat(44), 42]) {
      expect(() => parseIntegrity(bad)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
  });
});
