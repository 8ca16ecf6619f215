/**
 * Reading a Sigstore bundle (v0.3 JSON, what the OpenSSF model-signing tool writes as
 * `model.sig`) down to its DSSE envelope, refusing anything that is not one with a
 * `SIGNATURE_MALFORMED` error that names the field. Nothing here checks a signature.
 */
import { describe, SignatureError } from '../errors';
import { fromBase64, fromUtf8 } from './encoding';

/** The media types of the Sigstore bundle versions the model-signing tool has written. */
export const BUNDLE_MEDIA_TYPES = [
  'application/vnd.dev.sigstore.bundle.v0.3+json',
  'application/vnd.dev.sigstore.bundle+json;version=0.3',
] as const;
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/** Signature files above this size (default 16 MiB) are refused before they are parsed. */
export const MAX_BUNDLE_BYTES = 16 * 1024 * 1024;

/** Who the bundle says signed it: a bare key (named by a hint), a certificate chain, or one (Fulcio) certificate. */
export type SignerMaterial =
  | { kind: 'publicKey'; hint?: string }
  | { kind: 'x509CertificateChain'; certificates: Uint8Array[] }
  | { kind: 'certificate'; certificate: Uint8Array };

/** A parsed bundle: what was signed (the DSSE payload) and the material to check it with. */
export interface SignatureBundle {
  mediaType: string;
  signer: SignerMaterial;
  /** True when the bundle carries transparency-log entries or timestamps (keyless signing). */
  hasLogEntries: boolean;
  payloadType: string;
  /** The DSSE payload: the in-toto statement's JSON bytes. */
  payload: Uint8Array;
  /** DER-encoded signatures over the payload's PAE (the tool writes exactly one). */
  signatures: Uint8Array[];
  /** The bundle as JSON, for verifiers (sigstore) that read it themselves. */
  json: Record<string, unknown>;
}

const BUNDLE_FIELDS = ['mediaType', 'verificationMaterial', 'dsseEnvelope', 'messageSignature'];
const MATERIAL_FIELDS = [
  'publicKey',
  'x509CertificateChain',
  'certificate',
  'tlogEntries',
  'timestampVerificationData',
];
const ENVELOPE_FIELDS = ['payload', 'payloadType', 'signatures'];

/**
 * Parses a model signature bundle (the text or bytes of `model.sig`). Throws a
 * {@link SignatureError} `SIGNATURE_MALFORMED` for anything else: not JSON, too large, a
 * missing or unknown field, a field of the wrong type, bad base64.
 */
export function parseSignatureBundle(
  input: string | Uint8Array,
  options: { maxBytes?: number; source?: string } = {},
): SignatureBundle {
  const source = options.source ?? 'the signature';
  const max = options.maxBytes ?? MAX_BUNDLE_BYTES;
  const size = typeof input === 'string' ? input.length : input?.length;
  if (typeof input !== 'string' && Object.prototype.toString.call(input) !== '[object Uint8Array]')
    throw malformed(source, 'expected the bundle as a string or Uint8Array', describe(input));
  if (size > max) throw malformed(source, `expected at most ${max} bytes`, `${size} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(typeof input === 'string' ? input : fromUtf8(input));
  } catch (e) {
    throw malformed(
      source,
      'expected a Sigstore bundle in JSON',
      `text that is not JSON (${(e as Error).message})`,
    );
  }
  const bundle = object(json, 'the bundle', source);
  only(bundle, BUNDLE_FIELDS, 'the bundle', source);
  const mediaType = bundle.mediaType;
  if (!BUNDLE_MEDIA_TYPES.includes(mediaType as (typeof BUNDLE_MEDIA_TYPES)[number]))
    throw malformed(source, `mediaType must be ${BUNDLE_MEDIA_TYPES[0]}`, describe(mediaType));
  const material = object(bundle.verificationMaterial, 'verificationMaterial', source);
  only(material, MATERIAL_FIELDS, 'verificationMaterial', source);
  if (bundle.dsseEnvelope === undefined)
    throw malformed(source, 'a dsseEnvelope (model signatures sign an in-toto statement)', 'none');
  const envelope = object(bundle.dsseEnvelope, 'dsseEnvelope', source);
  only(envelope, ENVELOPE_FIELDS, 'dsseEnvelope', source);
  if (bundle.messageSignature !== undefined)
    throw malformed(source, 'a bundle with a dsseEnvelope only', 'also a messageSignature');
  if (typeof envelope.payloadType !== 'string')
    throw malformed(source, 'dsseEnvelope.payloadType as a string', describe(envelope.payloadType));
  const payload = base64(envelope.payload, 'dsseEnvelope.payload', source);
  if (!Array.isArray(envelope.signatures) || envelope.signatures.length === 0)
    throw malformed(source, 'dsseEnvelope.signatures as a non-empty array', describe(envelope.signatures));
  const signatures = envelope.signatures.map((s, i) => {
    const sig = object(s, `dsseEnvelope.signatures[${i}]`, source);
    only(sig, ['sig', 'keyid'], `dsseEnvelope.signatures[${i}]`, source);
    if (sig.keyid !== undefined && sig.keyid !== null && typeof sig.keyid !== 'string')
      throw malformed(source, `dsseEnvelope.signatures[${i}].keyid as a string`, describe(sig.keyid));
    return base64(sig.sig, `dsseEnvelope.signatures[${i}].sig`, source);
  });
  for (const list of ['tlogEntries'] as const)
    if (material[list] !== undefined && !Array.isArray(material[list]))
      throw malformed(source, `verificationMaterial.${list} as an array`, describe(material[list]));
  const tlog = (material.tlogEntries as unknown[] | undefined) ?? [];
  const tsa = material.timestampVerificationData;
  const hasLogEntries =
    tlog.length > 0 ||
    (typeof tsa === 'object' &&
      tsa !== null &&
      Array.isArray((tsa as { rfc3161Timestamps?: unknown }).rfc3161Timestamps) &&
      (tsa as { rfc3161Timestamps: unknown[] }).rfc3161Timestamps.length > 0);
  return {
    mediaType: mediaType as string,
    signer: signerMaterial(material, source),
    hasLogEntries,
    payloadType: envelope.payloadType,
    payload,
    signatures,
    json: bundle,
  };
}

function signerMaterial(material: Record<string, unknown>, source: string): SignerMaterial {
  const present = ['publicKey', 'x509CertificateChain', 'certificate'].filter(
    (k) => material[k] !== undefined,
  );
  if (present.length !== 1)
    throw malformed(
      source,
      'verificationMaterial with exactly one of publicKey, x509CertificateChain, certificate',
      present.length === 0 ? 'none' : present.join(' and '),
    );
  if (material.publicKey !== undefined) {
    const key = object(material.publicKey, 'verificationMaterial.publicKey', source);
    // Tool versions before 1.1 also wrote the key's bytes and details; the key to trust is
    // always the one the verifier is given, never one the bundle carries.
    only(key, ['hint', 'rawBytes', 'keyDetails'], 'verificationMaterial.publicKey', source);
    if (key.hint !== undefined && key.hint !== null && typeof key.hint !== 'string')
      throw malformed(source, 'verificationMaterial.publicKey.hint as a string', describe(key.hint));
    return typeof key.hint === 'string' && key.hint !== ''
      ? { kind: 'publicKey', hint: key.hint }
      : { kind: 'publicKey' };
  }
  if (material.x509CertificateChain !== undefined) {
    const chain = object(material.x509CertificateChain, 'verificationMaterial.x509CertificateChain', source);
    only(chain, ['certificates'], 'verificationMaterial.x509CertificateChain', source);
    if (!Array.isArray(chain.certificates) || chain.certificates.length === 0)
      throw malformed(
        source,
        'x509CertificateChain.certificates as a non-empty array',
        describe(chain.certificates),
      );
    const certificates = chain.certificates.map((c, i) =>
      rawBytes(c, `x509CertificateChain.certificates[${i}]`, source),
    );
    return { kind: 'x509CertificateChain', certificates };
  }
  return {
    kind: 'certificate',
    certificate: rawBytes(material.certificate, 'verificationMaterial.certificate', source),
  };
}

function rawBytes(value: unknown, where: string, source: string): Uint8Array {
  const o = object(value, where, source);
  only(o, ['rawBytes'], where, source);
  return base64(o.rawBytes, `${where}.rawBytes`, source);
}

function object(value: unknown, where: string, source: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw malformed(source, `${where} as a JSON object`, describe(value));
  return value as Record<string, unknown>;
}

function only(
  value: Record<string, unknown>,
  fields: readonly string[],
  where: string,
  source: string,
): void {
  const extra = Object.keys(value).filter((k) => !fields.includes(k));
  if (extra.length > 0)
    throw malformed(source, `${where} with fields among ${fields.join(', ')}`, `unknown field '${extra[0]}'`);
}

function base64(value: unknown, where: string, source: string): Uint8Array {
  const bytes = typeof value === 'string' && value !== '' ? fromBase64(value) : undefined;
  if (bytes === undefined) throw malformed(source, `${where} as non-empty base64`, describe(value));
  return bytes;
}

/** A `SIGNATURE_MALFORMED` error naming the file, what was expected and what was found. */
export function malformed(source: string, expected: string, received: string): SignatureError {
  return new SignatureError(
    'SIGNATURE_MALFORMED',
    `${source} is not a valid model signature: expected ${expected}, received ${received}`,
    {
      details: { source, expected, received },
    },
  );
}
