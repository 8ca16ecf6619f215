/**
 * Fuzzing the signature parsers: random mutations of valid upstream bundles and statements
 * always end in a result or a ModelshipError, never another kind of throw.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { seeded } from '../deploy/fakes.case';
import { ModelshipError } from '../errors';
import { parseSignatureBundle } from './bundle';
import { fromBase64, utf8 } from './encoding';
import { parseStatement } from './statement';
import { memoryFiles } from './test-files';
import { verifyModelSignature } from './verify';

const FIXTURES = new URL('../../../../fixtures/model-signing/', import.meta.url).pathname;
const sources = [
  'v1.1.0-elliptic-key',
  'v1.0.1-certificate',
  'v1.1.0-sigstore',
  'v0.2.0-certificate',
  'v0.3.1-elliptic-key',
].map((d) => readFileSync(`${FIXTURES}${d}/model.sig`, 'utf8'));
const key = readFileSync(`${FIXTURES}keys/signing-key-pub.pem`, 'utf8');

const ODD: unknown[] = [
  null,
  0,
  -1,
  1e308,
  '',
  'x',
  '====',
  true,
  [],
  {},
  [1, 'a'],
  { sha256: 'zz' },
  '💥',
  'AAAA',
];

/** One random change somewhere in a JSON value: drop, add, retype or rewrite a field. */
function mutate(value: unknown, r: () => number, depth = 0): unknown {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  if (Array.isArray(value)) {
    if (value.length === 0 || r() < 0.2) return r() < 0.5 ? [...value, pick(ODD)] : [];
    const i = Math.floor(r() * value.length);
    return value.map((v, j) => (j === i ? mutate(v, r, depth + 1) : v));
  }
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value);
    const roll = r();
    if (roll < 0.15 && entries.length > 0) entries.splice(Math.floor(r() * entries.length), 1);
    else if (roll < 0.25)
      entries.push([pick(['extra', 'hint', 'sig', 'rawBytes', '__proto__', 'constructor']), pick(ODD)]);
    else if (entries.length > 0) {
      const i = Math.floor(r() * entries.length);
      entries[i] = [entries[i]![0], mutate(entries[i]![1], r, depth + 1)];
    }
    return Object.fromEntries(entries);
  }
  if (typeof value === 'string' && value.length > 0 && r() < 0.6) {
    const chars = [...value];
    const i = Math.floor(r() * chars.length);
    chars[i] = pick(['A', '/', '=', '-', '"', '\\', '\u0000', 'é', '0']);
    return r() < 0.3 ? chars.slice(0, i).join('') : chars.join('');
  }
  return pick(ODD);
}

async function outcome(run: () => Promise<unknown> | unknown): Promise<string> {
  try {
    await run();
    return 'ok';
  } catch (e) {
    if (ModelshipError.isInstance(e)) return e.code;
    throw new Error(
      `a non-Modelship throw: ${e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}` : String(e)}`,
    );
  }
}

describe('bundle parser fuzz', () => {
  it('mutated bundles give a typed error or a valid result (3000 cases)', async () => {
    const r = seeded(20);
    const seen = new Map<string, number>();
    const files = memoryFiles({
      'signme-1': readFileSync(`${FIXTURES}v1.1.0-elliptic-key/signme-1`),
      'signme-2': readFileSync(`${FIXTURES}v1.1.0-elliptic-key/signme-2`),
    });
    for (let n = 0; n < 3000; n++) {
      const base = sources[n % sources.length]!;
      let text: string;
      const mode = r();
      if (mode < 0.7) {
        let json: unknown = JSON.parse(base);
        for (let k = 1 + Math.floor(r() * 3); k > 0; k--) json = mutate(json, r);
        text = JSON.stringify(json) ?? 'undefined';
      } else if (mode < 0.85) text = base.slice(0, Math.floor(r() * base.length));
      else {
        const bytes = utf8(base);
        for (let k = 0; k < 4; k++) bytes[Math.floor(r() * bytes.length)] = Math.floor(r() * 256);
        text = new TextDecoder().decode(bytes);
      }
      const code = await outcome(() =>
        verifyModelSignature(text, files, { publicKeys: [key], ignorePaths: ['ignore-me'] }),
      );
      seen.set(code, (seen.get(code) ?? 0) + 1);
    }
    // The fuzz reached past the parser: malformed bundles, bad signatures and untrusted signers all occurred.
    expect([...seen.keys()]).toEqual(
      expect.arrayContaining(['SIGNATURE_MALFORMED', 'SIGNATURE_INVALID', 'SIGNATURE_UNTRUSTED']),
    );
    expect([...seen.values()].reduce((a, b) => a + b)).toBe(3000);
  });

  it('mutated statements give a typed error or a manifest (3000 cases)', async () => {
    const r = seeded(7);
    const statements = sources.map((s) =>
      JSON.parse(new TextDecoder().decode(fromBase64(JSON.parse(s).dsseEnvelope.payload))),
    );
    const seen = new Set<string>();
    for (let n = 0; n < 3000; n++) {
      let json: unknown = statements[n % statements.length];
      for (let k = 1 + Math.floor(r() * 3); k > 0; k--) json = mutate(json, r);
      seen.add(await outcome(() => parseStatement(utf8(JSON.stringify(json) ?? ''))));
    }
    expect([...seen]).toEqual(expect.arrayContaining(['ok', 'SIGNATURE_MALFORMED', 'SIGNATURE_UNSUPPORTED']));
  });

  it('the bundle reader refuses what is not a bundle without throwing anything else', () => {
    for (const input of [
      '',
      'null',
      '[]',
      '{}',
      '"x"',
      '1',
      '{"mediaType":1}',
      new Uint8Array([0xff, 0xfe]),
      42 as never,
      null as never,
    ])
      expect(() => parseSignatureBundle(input)).toThrow(
        expect.objectContaining({ code: 'SIGNATURE_MALFORMED' }),
      );
  });
});
