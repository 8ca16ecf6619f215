/**
 * Signers Node trusts beyond bare keys: a certificate chain ending at a CA the user gives (the
 * tool's `verify certificate`), checked with Node's X509Certificate; and Sigstore keyless
 * signatures (a Fulcio certificate and a Rekor entry), checked by sigstore-js against a trusted
 * root, by default the public-good one carried by `@sigstore/tuf` (no network is used).
 */
import { X509Certificate } from 'node:crypto';
import { createRequire } from 'node:module';
import { SignatureError } from '@modelship/core';
import { readPublicKey, type SignatureBundle, type SignerCheck } from '@modelship/core/signing';

/** Who may have signed a certificate or keyless signature. */
export interface SignerIdentity {
  /**
   * The signer: for keyless signatures the certificate's subject alternative name (an email or
   * a URI); for a certificate chain, the leaf's subject (`CN=…`) or one of its alternative names.
   * Unset: any certificate that chains to a trusted root.
   */
  subject?: string;
  /** Keyless: the OIDC issuer that vouched for `subject` (e.g. `https://accounts.google.com`). */
  issuer?: string;
  /** Certificate chains: the trusted CA certificates, PEM (one or more per string). */
  certificateAuthorities?: readonly string[];
  /** Keyless: a Sigstore trusted root (`trusted_root.json` text or object); default: the public-good root. */
  trustedRoot?: string | Record<string, unknown>;
}

/** A check accepting the certificate and keyless signatures `identity` trusts. */
export function identityCheck(identity: SignerIdentity): SignerCheck {
  return async (bundle) =>
    bundle.signer.kind === 'x509CertificateChain'
      ? checkChain(bundle, identity)
      : checkKeyless(bundle, identity);
}

function untrusted(message: string, cause?: unknown): SignatureError {
  return new SignatureError('SIGNATURE_UNTRUSTED', message, cause === undefined ? {} : { cause });
}

function certificate(der: Uint8Array, what: string): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch (e) {
    throw new SignatureError(
      'SIGNATURE_MALFORMED',
      `${what} is not an X.509 certificate: ${(e as Error).message}`,
      { cause: e },
    );
  }
}

/** PEM text holding one or more certificates, as X509Certificates. */
export function readCertificates(pem: string, what: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0)
    throw new SignatureError(
      'SIGNATURE_UNTRUSTED',
      `${what} holds no PEM certificate ('-----BEGIN CERTIFICATE-----')`,
    );
  return blocks.map((b) => {
    try {
      return new X509Certificate(b);
    } catch (e) {
      throw new SignatureError(
        'SIGNATURE_UNTRUSTED',
        `${what} holds a certificate Node cannot read: ${(e as Error).message}`,
      );
    }
  });
}

async function checkChain(bundle: SignatureBundle, identity: SignerIdentity) {
  if (bundle.signer.kind !== 'x509CertificateChain') throw new Error('unreachable');
  const anchors = (identity.certificateAuthorities ?? []).flatMap((pem, i) =>
    readCertificates(pem, `certificate authority ${i + 1}`),
  );
  if (anchors.length === 0)
    throw untrusted(
      'the signature is made with a certificate chain, and no certificateAuthorities were given to trust',
    );
  const [leaf, ...rest] = bundle.signer.certificates.map((c, i) =>
    certificate(c, `certificate ${i + 1} of the bundle`),
  );
  // As the tool does: every certificate must have been valid when the leaf was issued.
  const at = new Date(leaf!.validFrom).getTime();
  let current = leaf!;
  for (let depth = 0; ; depth++) {
    if (depth > 8) throw untrusted('the certificate chain is longer than 8');
    checkValidAt(current, at);
    const anchor = anchors.find((a) => current.checkIssued(a) && current.verify(a.publicKey));
    if (anchor !== undefined) {
      checkValidAt(anchor, at);
      break;
    }
    const next = rest.find((c) => c.ca && current.checkIssued(c) && current.verify(c.publicKey));
    if (next === undefined)
      throw untrusted(
        `the signing certificate (${leaf!.subject.replace(/\n/g, ', ')}) does not chain to a trusted certificate authority`,
      );
    current = next;
  }
  const usage = leaf!.keyUsage ?? [];
  // Node lists extended key usages; a leaf that names some must allow code signing.
  if (usage.length > 0 && !usage.includes('1.3.6.1.5.5.7.3.3'))
    throw untrusted(`the signing certificate may not sign code (extended key usages ${usage.join(', ')})`);
  const names = [
    leaf!.subject.replace(/\n/g, ', '),
    ...(leaf!.subjectAltName?.split(', ').map((n) => n.replace(/^[^:]+:/, '')) ?? []),
  ];
  if (identity.subject !== undefined && !names.includes(identity.subject))
    throw untrusted(`the signing certificate is for ${names.join(' / ')}, not ${identity.subject}`);
  const spki = new Uint8Array(leaf!.publicKey.export({ type: 'spki', format: 'der' }));
  return { signer: names[0]!, key: readPublicKey(spki, `the certificate of ${names[0]}`) };
}

function checkValidAt(cert: X509Certificate, at: number): void {
  if (at < new Date(cert.validFrom).getTime() || at > new Date(cert.validTo).getTime())
    throw untrusted(
      `certificate ${cert.subject.replace(/\n/g, ', ')} was not valid when the signature was made (valid ${cert.validFrom} to ${cert.validTo})`,
    );
}

async function checkKeyless(bundle: SignatureBundle, identity: SignerIdentity) {
  if (identity.subject === undefined || identity.issuer === undefined)
    throw untrusted(
      'the signature is keyless (Sigstore); give identity.subject and identity.issuer to say who may have signed',
    );
  // Loaded only here: most models are signed with keys.
  const [{ bundleFromJSON }, { toSignedEntity, toTrustMaterial, Verifier }, { TrustedRoot }] =
    await Promise.all([
      import('@sigstore/bundle'),
      import('@sigstore/verify'),
      import('@sigstore/protobuf-specs'),
    ]);
  let entity: ReturnType<typeof toSignedEntity>;
  try {
    entity = toSignedEntity(bundleFromJSON(bundle.json));
  } catch (e) {
    throw new SignatureError(
      'SIGNATURE_MALFORMED',
      `the keyless signature is not a valid Sigstore bundle: ${(e as Error).message}`,
      { cause: e },
    );
  }
  const rootJson =
    identity.trustedRoot === undefined
      ? publicGoodRoot()
      : typeof identity.trustedRoot === 'string'
        ? parseRoot(identity.trustedRoot)
        : identity.trustedRoot;
  let material: ReturnType<typeof toTrustMaterial>;
  try {
    material = toTrustMaterial(TrustedRoot.fromJSON(rootJson));
  } catch (e) {
    throw untrusted(`the trusted root cannot be used: ${(e as Error).message}`, e);
  }
  try {
    new Verifier(material).verify(entity, {
      subjectAlternativeName: identity.subject,
      extensions: { issuer: identity.issuer },
    });
  } catch (e) {
    throw untrusted(
      `the keyless signature does not verify for ${identity.subject} (${identity.issuer}): ${(e as Error).message}`,
      e,
    );
  }
  // sigstore-js checked the DSSE signature with the certificate's key.
  return { signer: `${identity.subject} (${identity.issuer})` };
}

function parseRoot(text: string): Record<string, unknown> {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw untrusted(`the trusted root is not JSON: ${(e as Error).message}`);
  }
}

/** The public-good Sigstore trusted root embedded in @sigstore/tuf's seed (as of its release). */
function publicGoodRoot(): Record<string, unknown> {
  const seeds = createRequire(import.meta.url)('@sigstore/tuf/seeds.json') as Record<
    string,
    { targets: Record<string, string> }
  >;
  const target = seeds['https://tuf-repo-cdn.sigstore.dev']?.targets['trusted_root.json'];
  if (target === undefined)
    throw untrusted('@sigstore/tuf carries no public-good trusted root; pass identity.trustedRoot');
  return JSON.parse(Buffer.from(target, 'base64').toString('utf8'));
}
