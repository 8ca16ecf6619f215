/**
 * ECDSA public keys and signatures as the model-signing format holds them (PEM SPKI keys, DER
 * signatures over the DSSE PAE), verified with WebCrypto alone.
 */
import { describe, invalidArgument, SignatureError } from '../errors';
import { type Der, derChildren, pemBody, readDer, toHex, toPem, utf8 } from './encoding';
import { Sha256 } from './sha256';

/** The part of WebCrypto's `SubtleCrypto` signature checks use. */
export interface SubtleVerify {
  importKey(
    format: 'spki',
    keyData: Uint8Array,
    algorithm: { name: 'ECDSA'; namedCurve: string },
    extractable: boolean,
    usages: ['verify'],
  ): Promise<unknown>;
  verify(
    algorithm: { name: 'ECDSA'; hash: string },
    key: unknown,
    signature: Uint8Array,
    data: Uint8Array,
  ): Promise<boolean>;
}

const CURVES: Record<string, { name: string; size: number; hash: string }> = {
  // 1.2.840.10045.3.1.7, 1.3.132.0.34, 1.3.132.0.35
  '2a8648ce3d030107': { name: 'P-256', size: 32, hash: 'SHA-256' },
  '2b81040022': { name: 'P-384', size: 48, hash: 'SHA-384' },
  '2b81040023': { name: 'P-521', size: 66, hash: 'SHA-512' },
};
const EC_PUBLIC_KEY = '2a8648ce3d0201'; // 1.2.840.10045.2.1

/** A trusted ECDSA public key, ready for WebCrypto. */
export interface VerifyKey {
  curve: 'P-256' | 'P-384' | 'P-521';
  /** The SubjectPublicKeyInfo DER. */
  spki: Uint8Array;
  /**
   * The key's hint as the model-signing tool writes it in bundles: hex SHA-256 of the key's PEM.
   */
  hint: string;
  /** Where the key came from, for messages (`key 1`, a file name). */
  label: string;
}

/**
 * Reads a PEM public key (`-----BEGIN PUBLIC KEY-----`, SubjectPublicKeyInfo) on one of the
 * curves the format allows (P-256, P-384, P-521), or SPKI DER bytes. Anything else is an
 * `INVALID_ARGUMENT` error.
 */
export function readPublicKey(key: string | Uint8Array, label = 'the public key'): VerifyKey {
  const spki =
    typeof key === 'string'
      ? pemBody(key, 'PUBLIC KEY')
      : Object.prototype.toString.call(key) === '[object Uint8Array]'
        ? key
        : undefined;
  if (spki === undefined)
    throw invalidArgument(
      'signature',
      `${label} must be a PEM public key ('-----BEGIN PUBLIC KEY-----')`,
      key,
    );
  const curve = spkiCurve(spki);
  if (curve === undefined)
    throw invalidArgument(
      'signature',
      `${label} must be an ECDSA key on P-256, P-384 or P-521`,
      describe(key),
    );
  return { curve: curve.name as VerifyKey['curve'], spki, hint: keyHint(spki), label };
}

/** The hint model-signing writes for a key: hex SHA-256 of its PEM (64-column lines). */
export function keyHint(spki: Uint8Array): string {
  const h = new Sha256();
  h.update(utf8(toPem(spki, 'PUBLIC KEY')));
  return toHex(h.digest());
}

function spkiCurve(spki: Uint8Array): (typeof CURVES)[string] | undefined {
  const outer = readDer(spki, 0);
  if (outer === undefined || outer.tag !== 0x30 || outer.end !== spki.length) return undefined;
  const [algorithm] = derChildren(spki, outer) ?? [];
  if (algorithm?.tag !== 0x30) return undefined;
  const [kind, params] = derChildren(spki, algorithm) ?? [];
  if (kind?.tag !== 0x06 || params?.tag !== 0x06 || hexOf(spki, kind) !== EC_PUBLIC_KEY) return undefined;
  return CURVES[hexOf(spki, params)];
}

const hexOf = (bytes: Uint8Array, d: Der) => toHex(bytes.subarray(d.start, d.end));

/** A DER `SEQUENCE { INTEGER r, INTEGER s }` as WebCrypto's r ‖ s, each `size` bytes; undefined if not one. */
export function derToP1363(der: Uint8Array, size: number): Uint8Array | undefined {
  const seq = readDer(der, 0);
  if (seq === undefined || seq.tag !== 0x30 || seq.end !== der.length) return undefined;
  const ints = derChildren(der, seq);
  if (ints?.length !== 2 || ints.some((d) => d.tag !== 0x02)) return undefined;
  const out = new Uint8Array(size * 2);
  for (const [i, d] of ints.entries()) {
    let v = der.subarray(d.start, d.end);
    while (v.length > 0 && v[0] === 0) v = v.subarray(1);
    if (v.length > size) return undefined;
    out.set(v, (i + 1) * size - v.length);
  }
  return out;
}

/** WebCrypto's r ‖ s as DER, what the model-signing format stores. */
export function p1363ToDer(sig: Uint8Array): Uint8Array {
  const half = sig.length / 2;
  const ints = [sig.subarray(0, half), sig.subarray(half)].map((v) => {
    let i = 0;
    while (i < v.length - 1 && v[i] === 0) i++;
    const trimmed = v.subarray(i);
    return trimmed[0]! & 0x80
      ? [0x02, ...length(trimmed.length + 1), 0, ...trimmed]
      : [0x02, ...length(trimmed.length), ...trimmed];
  });
  const body = ints.flat();
  return new Uint8Array([0x30, ...length(body.length), ...body]);
}

const length = (n: number): number[] => (n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff]);

/** DSSE's pre-authentication encoding of a payload: what is actually signed. */
export function pae(payloadType: string, payload: Uint8Array): Uint8Array {
  const head = utf8(`DSSEv1 ${utf8(payloadType).length} ${payloadType} ${payload.length} `);
  const out = new Uint8Array(head.length + payload.length);
  out.set(head);
  out.set(payload, head.length);
  return out;
}

/**
 * The PAE tool 0.2 signed by mistake (Python's `str()` of the payload bytes inside the text,
 * 'DSSEV1'); the upstream verifier still accepts it, so signatures of that version verify.
 */
export function paeCompat(payloadType: string, payload: Uint8Array): Uint8Array {
  return utf8(`DSSEV1 ${payloadType.length} ${payloadType} ${payload.length} ${pythonBytesRepr(payload)}`);
}

function pythonBytesRepr(bytes: Uint8Array): string {
  const hasSingle = bytes.includes(0x27);
  const quote = hasSingle && !bytes.includes(0x22) ? '"' : "'";
  let s = '';
  for (const b of bytes) {
    if (b === 0x5c) s += '\\\\';
    else if (String.fromCharCode(b) === quote) s += `\\${quote}`;
    else if (b === 0x09) s += '\\t';
    else if (b === 0x0a) s += '\\n';
    else if (b === 0x0d) s += '\\r';
    else if (b >= 0x20 && b < 0x7f) s += String.fromCharCode(b);
    else s += `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return `b${quote}${s}${quote}`;
}

/**
 * Checks a DER ECDSA signature over the envelope's PAE (and over tool 0.2's PAE) with `key`.
 * Resolves to true when it verifies.
 */
export async function verifyDsseSignature(
  key: VerifyKey,
  payloadType: string,
  payload: Uint8Array,
  derSignature: Uint8Array,
  subtle: SubtleVerify,
): Promise<boolean> {
  const curve = Object.values(CURVES).find((c) => c.name === key.curve)!;
  const sig = derToP1363(derSignature, curve.size);
  if (sig === undefined) return false;
  let imported: unknown;
  try {
    imported = await subtle.importKey('spki', key.spki, { name: 'ECDSA', namedCurve: curve.name }, false, [
      'verify',
    ]);
  } catch (e) {
    throw new SignatureError(
      'SIGNATURE_UNSUPPORTED',
      `${key.label} (${curve.name}) cannot be used by this platform's WebCrypto: ${(e as Error).message}`,
      { cause: e },
    );
  }
  const attempts: [string, Uint8Array][] = [
    [curve.hash, pae(payloadType, payload)],
    [curve.hash, paeCompat(payloadType, payload)],
  ];
  // Certificates of tool 0.2 signed the compat PAE with SHA-256 whatever the curve.
  if (curve.hash !== 'SHA-256') attempts.push(['SHA-256', paeCompat(payloadType, payload)]);
  for (const [hash, data] of attempts) {
    if (await subtle.verify({ name: 'ECDSA', hash }, imported, sig, data)) return true;
  }
  return false;
}
