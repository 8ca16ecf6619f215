import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ModelshipError } from '../errors';
import { decodeBase64Url, encodeBase64Url } from './base64url';
import { decryptFrom, decryptModel, encryptionFormat, encryptModel } from './encryption';
import { parseKeyText } from './keys';

const golden = JSON.parse(
  readFileSync(new URL('../../test/golden/jwe.golden.json', import.meta.url), 'utf8'),
);
const hex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
const KEY = hex(golden.keyHex);
const OTHER = hex(golden.otherKeyHex);
const PLAIN = Uint8Array.from(Buffer.from(golden.plaintext, 'base64'));
const ascii = (s: string) => new TextEncoder().encode(s);
const json = (o: unknown) => ascii(JSON.stringify(o));

/** The code of the ModelshipError `p` rejects with (fails the test on anything else). */
async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (!ModelshipError.isInstance(e)) throw e;
    return e.code;
  }
  return 'resolved';
}

const model = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 131 + 7) & 255);

describe('JWE made by python-cryptography (what KServe reads and jwcrypto writes)', () => {
  it('decrypts the compact form, final newline and all, with the key as bytes, hex, base64 or a JWK', async () => {
    const file = ascii(golden.compact);
    expect(encryptionFormat(file)).toBe('jwe');
    expect(await decryptModel(file, { key: KEY })).toEqual(PLAIN);
    for (const text of [
      golden.keyHex,
      Buffer.from(KEY).toString('base64'),
      `${encodeBase64Url(KEY)}\n`,
      JSON.stringify({ kty: 'oct', k: encodeBase64Url(KEY), alg: 'A256KW' }),
    ])
      expect(await decryptModel(file, { key: parseKeyText(text, 'the key') })).toEqual(PLAIN);
  });

  it('hands the header kid to the key function', async () => {
    const asked: (string | undefined)[] = [];
    const out = await decryptModel(ascii(golden.compactKid), {
      key: async (kid) => {
        asked.push(kid);
        return KEY;
      },
    });
    expect(out).toEqual(PLAIN);
    expect(asked).toEqual(['k1']);
  });

  it('decrypts the flattened and general JSON forms (aad, two recipients: the one the key opens)', async () => {
    expect(encryptionFormat(json(golden.flattened))).toBe('jwe-json');
    expect(await decryptModel(json(golden.flattened), { key: KEY })).toEqual(PLAIN);
    const keys: Record<string, Uint8Array> = { current: KEY };
    const asked: (string | undefined)[] = [];
    const key = (kid: string | undefined) => {
      asked.push(kid);
      return keys[kid!]!;
    };
    expect(await decryptModel(json(golden.general), { key })).toEqual(PLAIN);
    expect(asked).toEqual(['old', 'current']);
    // One key for every kid: the first recipient's unwrap fails, the second opens.
    expect(await decryptModel(json(golden.general), { key: KEY })).toEqual(PLAIN);
    expect(await decryptModel(json(golden.general), { key: OTHER })).toEqual(PLAIN);
    const changedAad = { ...golden.general, aad: encodeBase64Url(ascii('other.onnx')) };
    expect(await codeOf(decryptModel(json(changedAad), { key: KEY }))).toBe('ENCRYPTED_MODEL_TAMPERED');
  });
});

describe('encryptModel and decryptModel', () => {
  it('round-trip every size class in both formats, with bytes or an AES-KW CryptoKey', async () => {
    const cryptoKey = await crypto.subtle.importKey('raw', KEY, 'AES-KW', false, ['wrapKey', 'unwrapKey']);
    for (const n of [0, 1, 1023, 1024, 1025, 3 * 1024 + 500]) {
      const plain = model(n);
      for (const format of ['jwe', 'chunked'] as const) {
        const sealed = await encryptModel(plain, { key: KEY, format, chunkSize: 1024, kid: 'k' });
        expect(encryptionFormat(sealed)).toBe(format);
        expect(await decryptModel(sealed, { key: cryptoKey })).toEqual(plain);
      }
    }
  });

  it('writes a compact JWE with the header KServe expects and a random key and IV each time', async () => {
    const a = new TextDecoder().decode(await encryptModel(PLAIN, { key: KEY }));
    const b = new TextDecoder().decode(await encryptModel(PLAIN, { key: KEY }));
    const parts = a.split('.');
    expect(parts).toHaveLength(5);
    expect(JSON.parse(Buffer.from(parts[0]!, 'base64url').toString())).toEqual({
      alg: 'A256KW',
      enc: 'A256GCM',
    });
    expect(Buffer.from(parts[1]!, 'base64url')).toHaveLength(40);
    expect(Buffer.from(parts[2]!, 'base64url')).toHaveLength(12);
    expect(Buffer.from(parts[3]!, 'base64url')).toHaveLength(PLAIN.length);
    expect(Buffer.from(parts[4]!, 'base64url')).toHaveLength(16);
    expect(a.split('.')[1]).not.toBe(b.split('.')[1]);
    expect(a.split('.')[2]).not.toBe(b.split('.')[2]);
  });

  it('reads a chunked file one chunk at a time, in order, each byte once', async () => {
    const sealed = await encryptModel(model(5000), { key: KEY, format: 'chunked', chunkSize: 1024 });
    const reads: [number, number][] = [];
    const out = await decryptFrom(
      {
        size: sealed.length,
        read: async (offset, length) => {
          reads.push([offset, length]);
          return sealed.subarray(offset, offset + length);
        },
      },
      { key: KEY },
    );
    expect(out).toEqual(model(5000));
    // head (12 bytes), then the header again from 0 (12 + H), then 5 chunks back to back.
    const chunks = reads.slice(3);
    expect(chunks.map((r) => r[1])).toEqual([1040, 1040, 1040, 1040, 904 + 16]);
    for (let i = 1; i < chunks.length; i++) expect(chunks[i]![0]).toBe(chunks[i - 1]![0] + chunks[i - 1]![1]);
    expect(chunks.at(-1)![0] + chunks.at(-1)![1]).toBe(sealed.length);
  });
});

describe('wrong key, tampered, truncated: distinct errors, nothing returned', () => {
  it('tells a wrong key from a changed byte in both formats', async () => {
    for (const format of ['jwe', 'chunked'] as const) {
      const sealed = await encryptModel(model(3000), { key: KEY, format, chunkSize: 1024 });
      expect(await codeOf(decryptModel(sealed, { key: OTHER }))).toBe('DECRYPTION_KEY_MISMATCH');
      const changed = sealed.slice();
      const at = sealed.length - 200; // inside the ciphertext, away from the tag
      changed[at] = changed[at]! === 0x41 ? 0x42 : 0x41;
      expect(await codeOf(decryptModel(changed, { key: KEY }))).toBe('ENCRYPTED_MODEL_TAMPERED');
    }
  });

  it('refuses a changed header: the JWE protected header and the chunked header are authenticated', async () => {
    const jwe = new TextDecoder().decode(await encryptModel(PLAIN, { key: KEY, kid: 'a' }));
    const [, ...rest] = jwe.split('.');
    const other = encodeBase64Url(ascii(JSON.stringify({ alg: 'A256KW', enc: 'A256GCM', kid: 'b' })));
    expect(await codeOf(decryptModel(ascii([other, ...rest].join('.')), { key: KEY }))).toBe(
      'ENCRYPTED_MODEL_TAMPERED',
    );
    const sealed = await encryptModel(model(3000), {
      key: KEY,
      format: 'chunked',
      chunkSize: 1024,
      kid: 'a',
    });
    const text = new TextDecoder().decode(sealed.subarray(12, 200));
    const at = 12 + text.indexOf('"kid":"a"') + 7;
    const changed = sealed.slice();
    changed[at] = 'b'.charCodeAt(0);
    expect(await codeOf(decryptModel(changed, { key: KEY }))).toBe('ENCRYPTED_MODEL_TAMPERED');
  });

  it('refuses reordered chunks and a file cut at a chunk boundary', async () => {
    const sealed = await encryptModel(model(4096), { key: KEY, format: 'chunked', chunkSize: 1024 });
    const start = sealed.length - 4 * 1040;
    const swapped = sealed.slice();
    swapped.set(sealed.subarray(start + 1040, start + 2080), start);
    swapped.set(sealed.subarray(start, start + 1040), start + 1040);
    expect(await codeOf(decryptModel(swapped, { key: KEY }))).toBe('ENCRYPTED_MODEL_TAMPERED');
    expect(await codeOf(decryptModel(sealed.subarray(0, sealed.length - 1040), { key: KEY }))).toBe(
      'ENCRYPTED_MODEL_TRUNCATED',
    );
    const longer = new Uint8Array(sealed.length + 1);
    longer.set(sealed);
    expect(await codeOf(decryptModel(longer, { key: KEY }))).toBe('ENCRYPTED_MODEL_INVALID');
  });

  it('calls every strict prefix of either format truncated', async () => {
    for (const format of ['jwe', 'chunked'] as const) {
      const sealed = await encryptModel(model(2100), { key: KEY, format, chunkSize: 1024, kid: 'k' });
      const codes = new Set<string>();
      for (let n = 1; n < sealed.length; n++)
        codes.add(await codeOf(decryptModel(sealed.subarray(0, n), { key: KEY })));
      expect([...codes], format).toEqual(['ENCRYPTED_MODEL_TRUNCATED']);
    }
  });
});

describe('bad input', () => {
  it('refuses keys that are not 256-bit AES-KW keys, and a key function without an answer', async () => {
    const sealed = ascii(golden.compact);
    expect(await codeOf(decryptModel(sealed, { key: new Uint8Array(16) }))).toBe('INVALID_ARGUMENT');
    const gcm = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt']);
    await expect(decryptModel(sealed, { key: gcm as never })).rejects.toThrow(
      /256-bit AES-KW CryptoKey \(algorithm AES-GCM-256/,
    );
    expect(await codeOf(decryptModel(sealed, { key: () => undefined as never }))).toBe(
      'DECRYPTION_KEY_MISSING',
    );
    await expect(
      decryptModel(sealed, {
        key: () => {
          throw new Error('KMS unreachable');
        },
      }),
    ).rejects.toThrow('the key provider failed for the key: KMS unreachable');
    expect(await codeOf(decryptModel(sealed, {} as never))).toBe('DECRYPTION_KEY_MISSING');
    expect(await codeOf(decryptFrom({ size: -1 } as never, { key: KEY }))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(decryptModel([1, 2] as never, { key: KEY }))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(encryptModel(PLAIN, { key: KEY, format: 'zip' as never }))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(encryptModel(PLAIN, { key: KEY, kid: '' }))).toBe('INVALID_ARGUMENT');
    expect(() => parseKeyText('abc', 'MODELSHIP_MODEL_KEY')).toThrow(
      /MODELSHIP_MODEL_KEY does not hold a 256-bit key/,
    );
    expect(() => parseKeyText('{"kty":"RSA"}', 'key.json')).toThrow(/key.json is not a symmetric JWK/);
  });

  it('refuses other algorithms, compression, critical extensions and plaintext models by name', async () => {
    const [, ...rest] = golden.compact.trim().split('.');
    const withHeader = (h: unknown) => ascii([encodeBase64Url(json(h)), ...rest].join('.'));
    await expect(
      decryptModel(withHeader({ alg: 'RSA-OAEP', enc: 'A256GCM' }), { key: KEY, source: 'm.onnx.jwe' }),
    ).rejects.toThrow('m.onnx.jwe: expected alg A256KW with enc A256GCM');
    expect(
      await codeOf(decryptModel(withHeader({ alg: 'A256KW', enc: 'A256GCM', zip: 'DEF' }), { key: KEY })),
    ).toBe('ENCRYPTED_MODEL_INVALID');
    expect(
      await codeOf(decryptModel(withHeader({ alg: 'A256KW', enc: 'A256GCM', crit: ['exp'] }), { key: KEY })),
    ).toBe('ENCRYPTED_MODEL_INVALID');
    const onnx = Uint8Array.from([0x08, 0x07, 0x12, 0x04]);
    await expect(decryptModel(onnx, { key: KEY, source: 'model.onnx' })).rejects.toThrow(
      'model.onnx: not an encrypted model: expected a JWE (compact "eyJ…" or JSON) or Modelship\'s chunked format, received bytes starting 08 07 12 04',
    );
    const { iv: _iv, ...noIv } = golden.flattened;
    await expect(decryptModel(json(noIv), { key: KEY })).rejects.toThrow(
      "the member 'iv' must be a base64url string, received none",
    );
  });

  it('refuses a chunked header with unknown or missing fields', async () => {
    const sealed = await encryptModel(model(10), { key: KEY, format: 'chunked', chunkSize: 1024 });
    const length = new DataView(sealed.buffer).getUint32(8);
    const header = JSON.parse(new TextDecoder().decode(sealed.subarray(12, 12 + length)));
    const rebuild = (h: unknown) => {
      const text = json(h);
      const out = new Uint8Array(12 + text.length + sealed.length - 12 - length);
      out.set(sealed.subarray(0, 8));
      new DataView(out.buffer).setUint32(8, text.length);
      out.set(text, 12);
      out.set(sealed.subarray(12 + length), 12 + text.length);
      return out;
    };
    await expect(decryptModel(rebuild({ ...header, extra: 1 }), { key: KEY })).rejects.toThrow(
      "unknown field 'extra'",
    );
    const { nonce: _n, ...noNonce } = header;
    await expect(decryptModel(rebuild(noNonce), { key: KEY })).rejects.toThrow(
      "the header's nonce must be base64url of 8 bytes",
    );
    await expect(decryptModel(rebuild({ ...header, chunk: 1 }), { key: KEY })).rejects.toThrow(
      "the header's chunk must be an integer",
    );
  });

  it('never throws anything but a typed error on random damage (fuzz)', async () => {
    const files = await Promise.all(
      (['jwe', 'chunked'] as const).map((format) =>
        encryptModel(model(1500), { key: KEY, format, chunkSize: 1024 }),
      ),
    );
    const allowed = new Set([
      'ENCRYPTED_MODEL_TAMPERED',
      'ENCRYPTED_MODEL_TRUNCATED',
      'ENCRYPTED_MODEL_INVALID',
      'DECRYPTION_KEY_MISMATCH',
    ]);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        async (which, edits) => {
          const f = files[which]!.slice();
          for (const [at, b] of edits) f[at % f.length] = b;
          if (f.every((b, i) => b === files[which]![i])) return;
          expect(allowed).toContain(await codeOf(decryptModel(f, { key: KEY })));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('decodes base64url strictly', () => {
    expect(decodeBase64Url('a')).toBeUndefined();
    expect(decodeBase64Url('ab$d')).toBeUndefined();
    for (let n = 0; n < 40; n++) {
      const b = model(n);
      expect(encodeBase64Url(b)).toBe(Buffer.from(b).toString('base64url'));
      expect(decodeBase64Url(encodeBase64Url(b))).toEqual(b);
    }
  });
});
