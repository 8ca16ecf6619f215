/**
 * The credentials check: bearer tokens compared in constant time (as SHA-256 digests, so
 * neither the length nor any byte of a configured token shows in the time an answer takes),
 * then the `verify` hook. Written in TypeScript so it runs wherever the handler does.
 */
import { utf8 } from '../signing/encoding';
import { Sha256 } from '../signing/sha256';
import { HttpError } from './http-error';
import type { AuthOptions, HandlerRequest, RouteScope } from './types';

function digest(token: string): Uint8Array {
  const h = new Sha256();
  h.update(utf8(token));
  return h.digest();
}

/** True when two digests of equal length are equal, in time that does not depend on where they differ. */
function sameDigest(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

const BEARER = /^Bearer\s+/i;

/** The configured tokens, ready to check requests against. */
export class Credentials {
  private readonly digests: Uint8Array[];

  constructor(private readonly auth: AuthOptions | undefined) {
    const tokens = auth?.tokens ?? [];
    if (!Array.isArray(tokens) || tokens.some((t) => typeof t !== 'string' || t === ''))
      throw new TypeError('createInferenceHandler: auth.tokens must be non-empty strings');
    this.digests = tokens.map(digest);
  }

  /** Checks a request's credentials for a route scope; throws 401 or 403. */
  async check(req: HandlerRequest, scope: RouteScope): Promise<void> {
    const auth = this.auth;
    if (auth === undefined || (this.digests.length === 0 && auth.verify === undefined)) return;
    const exempt = auth.exempt ?? ['health'];
    if (scope !== 'management' && (exempt as readonly string[]).includes(scope)) return;
    const header = req.headers.authorization;
    const token = header !== undefined && BEARER.test(header) ? header.replace(BEARER, '').trim() : undefined;
    if (token !== undefined) {
      const d = digest(token);
      // Every digest is compared, so the time does not say which token (if any) matched.
      let found = false;
      for (const t of this.digests) found = sameDigest(t, d) || found;
      if (found) return;
    }
    if (
      auth.verify !== undefined &&
      (await auth.verify({ method: req.method, path: req.path, headers: req.headers, token, scope }))
    )
      return;
    throw new HttpError(
      token === undefined ? 401 : 403,
      token === undefined
        ? 'credentials required: send Authorization: Bearer <token>'
        : 'these credentials are not allowed here',
      { 'www-authenticate': 'Bearer' },
    );
  }
}
